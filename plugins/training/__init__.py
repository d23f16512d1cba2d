"""“亲青汇训练营” — training camps for the leaders (骨干) of youth social
organizations (notice 三(三); SPEC task area 3).

Owns ``Camp``, ``Enrolment``, ``Trainee`` and ``Lecturer`` (see
``plugins/training/models.py``); requires ``cultivation`` for the youth
organizations a leader belongs to (its public models and its profile-section
hook only). Pages and REST APIs for camps, enrolments (rosters with
attendance and the sign-in sheet), the shared lecturer pool and trainees; the
roster, camp and lecturer lists import/export; the KPI checks ``camps`` and
``trained_leaders`` (distinct people) with the notice's targets; the
"trainings of its leaders" section of an organization's profile; demo data.
Only hook implementations live here.
"""

from flask_babel import lazy_gettext as _l

from core.api import Manifest, Page, hookimpl, module_dir

NAME = "training"
CATEGORY = "Training"
CATEGORY_LABEL = _l("Qinqinghui training camps")


@hookimpl
def qqh_manifest():
    return Manifest(
        name=NAME,
        version="0.1.0",
        label=_l("Qinqinghui training camps"),
        requires=("cultivation",),
        core=">=0.1,<1",
        api=">=0.2,<0.3",
        description=_l("Training camps for organization leaders: enrolments and attendance, the shared lecturer "
                       "pool and the number of leaders trained."),
    )


@hookimpl
def qqh_models():
    from plugins.training.models import Camp, CampLecturer, Enrolment, Lecturer, Trainee

    return [Camp, Enrolment, Trainee, Lecturer, CampLecturer]


@hookimpl
def qqh_views():
    from plugins.training.views import CampView, EnrolmentView, LecturerView, TraineeView

    return [
        Page(CampView, _l("Training camps"), CATEGORY, CATEGORY_LABEL, icon="fa-graduation-cap",
             category_icon="fa-graduation-cap"),
        Page(EnrolmentView, _l("Enrolments and attendance"), CATEGORY, CATEGORY_LABEL, icon="fa-check-square-o"),
        Page(TraineeView, _l("Trainees"), CATEGORY, CATEGORY_LABEL, icon="fa-user"),
        Page(LecturerView, _l("Lecturer pool"), CATEGORY, CATEGORY_LABEL, icon="fa-university"),
    ]


@hookimpl
def qqh_apis():
    from plugins.training.views import CampApi, EnrolmentApi, LecturerApi, TraineeApi

    return [CampApi, EnrolmentApi, TraineeApi, LecturerApi]


@hookimpl
def qqh_kpi_checks():
    from plugins.training.kpi import CHECKS

    return CHECKS


@hookimpl
def qqh_default_targets(plan_year):
    from plugins.training.kpi import default_targets

    return default_targets(plan_year)


@hookimpl
def qqh_default_indicators():
    from plugins.training.kpi import DEFAULT_INDICATORS

    return DEFAULT_INDICATORS


@hookimpl
def qqh_importables():
    from plugins.training.importing import IMPORTABLES

    return IMPORTABLES


@hookimpl
def qqh_youthorg_profile_sections(org, session, scope):
    from plugins.training.profile import sections

    return sections(org, session, scope)


@hookimpl
def qqh_translations():
    return module_dir(__name__, "translations")


@hookimpl
def qqh_migrations():
    return module_dir(__name__, "migrations")


@hookimpl
def qqh_demo_data(session):
    from plugins.training.demo import load

    return load(session)


@hookimpl
def qqh_reporting_items():
    from flask_babel import lazy_gettext as _l

    from core.api import FIGURES, ReportingItem

    return [ReportingItem("training_figures", _l("Training figures"), FIGURES, checks=("camps", "trained_leaders"))]

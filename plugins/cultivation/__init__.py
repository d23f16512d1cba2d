"""培育"亲青汇"青年社会组织 — the youth social organization registry.

Owns ``YouthOrg`` (public: other plugins require ``cultivation`` and import
``plugins.cultivation.models``) and ``Service``; pages, REST APIs, the
organization profile page with its section hook
(``qqh_youthorg_profile_sections``, see ``plugins/cultivation/hookspecs.py``),
the direct-contact list import/export, the KPI checks ``direct_contacts``,
``cultivated`` and ``pilots`` with the notice's targets, and demo data.
Only hook implementations live here.
"""

from flask_babel import lazy_gettext as _l

from core.api import Manifest, Page, hookimpl, module_dir

NAME = "cultivation"
CATEGORY = "Cultivation"
CATEGORY_LABEL = _l("Youth organizations")


@hookimpl
def qqh_manifest():
    return Manifest(
        name=NAME,
        version="0.1.0",
        label=_l("Cultivating youth social organizations"),
        requires=(),
        core=">=0.1,<1",
        api=">=0.2,<0.3",
        description=_l("Registry of youth social organizations, services to them, direct-contact lists and pilots."),
    )


@hookimpl
def qqh_add_hookspecs():
    from plugins.cultivation import hookspecs

    return hookspecs


@hookimpl
def qqh_models():
    from plugins.cultivation.models import Service, YouthOrg

    return [YouthOrg, Service]


@hookimpl
def qqh_views():
    from plugins.cultivation.views import ServiceView, YouthOrgView

    return [
        Page(YouthOrgView, _l("Youth organizations"), CATEGORY, CATEGORY_LABEL, icon="fa-users", category_icon="fa-users"),
        Page(ServiceView, _l("Services to organizations"), CATEGORY, CATEGORY_LABEL, icon="fa-handshake-o"),
    ]


@hookimpl
def qqh_apis():
    from plugins.cultivation.views import ServiceApi, YouthOrgApi

    return [YouthOrgApi, ServiceApi]


@hookimpl
def qqh_kpi_checks():
    from plugins.cultivation.kpi import CHECKS

    return CHECKS


@hookimpl
def qqh_default_targets(plan_year):
    from plugins.cultivation.kpi import default_targets

    return default_targets(plan_year)


@hookimpl
def qqh_default_indicators():
    from plugins.cultivation.kpi import DEFAULT_INDICATORS

    return DEFAULT_INDICATORS


@hookimpl
def qqh_importables():
    from plugins.cultivation.importing import IMPORTABLES

    return IMPORTABLES


@hookimpl
def qqh_translations():
    return module_dir(__name__, "translations")


@hookimpl
def qqh_migrations():
    return module_dir(__name__, "migrations")


@hookimpl
def qqh_demo_data(session):
    from plugins.cultivation.demo import load

    return load(session)


@hookimpl
def qqh_reporting_items():
    from flask_babel import lazy_gettext as _l

    from core.api import LIST, ReportingItem
    from plugins.cultivation.models import YouthOrg
    from plugins.cultivation.views import ORG_LABELS as L

    columns = ("name", "credit_code", "category", "service_field", "reg_status", "directly_connected_on", "is_pilot")
    return [ReportingItem(
        "direct_contact_list", _l("Direct-contact list"), LIST, model=YouthOrg, date_attr="directly_connected_on",
        columns=(("id", _l("Record ID")),) + tuple((c, L[c]) for c in columns), due_check="direct_contacts", locking=True,
    )]

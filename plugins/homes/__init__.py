"""建设"亲青家园" — incubation bases, the standard-building checklist,
residencies, 小组基地一对一 pairings, incubation funds and grants.

Requires ``cultivation`` (its public ``YouthOrg`` model and its organization
profile-section hook). Owns ``Home``, ``ChecklistItem``, ``ChecklistEntry``,
``Residency``, ``Sector``, ``Pairing``, ``IncubationFund`` and ``Grant``;
pages, REST APIs, import/export of bases, funds and grants, the KPI checks
``homes``, ``funds`` and ``incubated_orgs``, and demo data. Only hook
implementations live here.
"""

from flask_babel import lazy_gettext as _l

from core.api import Manifest, Page, hookimpl, module_dir

NAME = "homes"
CATEGORY = "Homes"
CATEGORY_LABEL = _l("Qinqing homes")
FUNDS = "IncubationFunds"
FUNDS_LABEL = _l("Incubation funds")


@hookimpl
def qqh_manifest():
    return Manifest(
        name=NAME,
        version="0.1.0",
        label=_l("Building Qinqing homes"),
        requires=("cultivation",),
        core=">=0.1,<1",
        api=">=0.2,<0.3",
        description=_l(
            "Incubation bases and their standard-building checklist, resident organizations, "
            "sector–base pairings, incubation funds and grants."
        ),
    )


@hookimpl
def qqh_models():
    from plugins.homes.models import (
        ChecklistEntry, ChecklistItem, Grant, Home, IncubationFund, Pairing, Residency, Sector,
    )

    return [Home, ChecklistItem, ChecklistEntry, Residency, Sector, Pairing, IncubationFund, Grant]


@hookimpl
def qqh_views():
    from plugins.homes.views import (
        ChecklistEntryView, ChecklistItemView, GrantView, IncubationFundView, PairingView, QinqingHomeView,
        ResidencyView, SectorView,
    )

    return [
        Page(QinqingHomeView, _l("Qinqing homes"), CATEGORY, CATEGORY_LABEL, icon="fa-home", category_icon="fa-home"),
        Page(ResidencyView, _l("Resident organizations"), CATEGORY, CATEGORY_LABEL, icon="fa-users"),
        Page(ChecklistEntryView, _l("Checklist records"), CATEGORY, CATEGORY_LABEL, icon="fa-check-square-o"),
        Page(SectorView, _l("Youth federation sectors and groups"), CATEGORY, CATEGORY_LABEL, icon="fa-sitemap"),
        Page(PairingView, _l("Sector–base pairings"), CATEGORY, CATEGORY_LABEL, icon="fa-link"),
        Page(ChecklistItemView, _l("Standard-building checklist"), CATEGORY, CATEGORY_LABEL, icon="fa-list-ol"),
        Page(IncubationFundView, _l("Incubation funds"), FUNDS, FUNDS_LABEL, icon="fa-money", category_icon="fa-money"),
        Page(GrantView, _l("Grants"), FUNDS, FUNDS_LABEL, icon="fa-gift"),
    ]


@hookimpl
def qqh_apis():
    from plugins.homes.views import (
        ChecklistEntryApi, ChecklistItemApi, GrantApi, IncubationFundApi, PairingApi, QinqingHomeApi, ResidencyApi,
        SectorApi,
    )

    return [QinqingHomeApi, ChecklistItemApi, ChecklistEntryApi, ResidencyApi, SectorApi, PairingApi,
            IncubationFundApi, GrantApi]


@hookimpl
def qqh_kpi_checks():
    from plugins.homes.kpi import CHECKS

    return CHECKS


@hookimpl
def qqh_default_targets(plan_year):
    from plugins.homes.kpi import default_targets

    return default_targets(plan_year)


@hookimpl
def qqh_default_indicators():
    from plugins.homes.kpi import DEFAULT_INDICATORS

    return DEFAULT_INDICATORS


@hookimpl
def qqh_importables():
    from plugins.homes.importing import IMPORTABLES

    return IMPORTABLES


@hookimpl
def qqh_translations():
    return module_dir(__name__, "translations")


@hookimpl
def qqh_migrations():
    return module_dir(__name__, "migrations")


@hookimpl
def qqh_demo_data(session):
    from plugins.homes.demo import load

    return load(session)


@hookimpl
def qqh_youthorg_profile_sections(org, session, scope):
    """The bases the organization lives or lived in, and its grants."""
    from plugins.homes.profile import sections

    return sections(org, session, scope)


@hookimpl
def qqh_todo_items(user):
    """Grants awaiting approval (待审批) in the user's subtree."""
    from plugins.homes.views import pending_grants_item

    return pending_grants_item(user)


@hookimpl
def qqh_reporting_items():
    from flask_babel import lazy_gettext as _l

    from core.api import LIST, ReportingItem
    from plugins.homes.models import Home
    from plugins.homes.views import HOME_LABELS as L

    columns = ("name", "kind", "address", "opened_on", "signage_on")
    return [ReportingItem(
        "homes_opened", _l("Qinqing homes opened in the year"), LIST, model=Home, date_attr="opened_on",
        columns=(("id", _l("Record ID")),) + tuple((c, L[c]) for c in columns), due_check="homes",
    )]

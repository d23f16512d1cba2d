"""Pages and REST APIs of the homes plugin."""

from __future__ import annotations

from flask import current_app
from flask_appbuilder.models.sqla.filters import FilterEqual
from flask_babel import gettext, lazy_gettext as _l
from sqlalchemy import select

from core.api import (
    MANAGE,
    InvalidInput,
    Panel,
    Picker,
    ProvinceDataView,
    ScopedInterface,
    ScopedModelRestApi,
    ScopedModelView,
    amount_field,
    choice_field,
    flag_field,
    module_dir,
    search_choice,
)
from plugins.cultivation.models import YouthOrg
from plugins.cultivation.views import ORGS
from plugins.homes.models import (
    CHECKLIST_SECTIONS,
    FUND_SOURCES,
    GRANT_STATUSES,
    HOME_KINDS,
    HOME_SERVICES,
    RESIDENCY_STATUSES,
    SECTOR_KINDS,
    ChecklistEntry,
    ChecklistItem,
    Grant,
    Home,
    IncubationFund,
    Pairing,
    Residency,
    Sector,
)

TEMPLATES = module_dir("plugins.homes", "templates")

# -- labels ----------------------------------------------------------------------------
HOME_LABELS = {
    "name": _l("Name of the base"),
    "unit": _l("Owning unit"),
    "kind": _l("Kind of base"),
    "kind_label": _l("Kind of base"),
    "kind_group_label": _l("Type of position"),
    "address": _l("Address"),
    "area": _l("Area (m²)"),
    "area_text": _l("Area (m²)"),
    "opened_on": _l("Opened on"),
    "signage_on": _l("Sign hung on"),
    "manager": _l("Manager"),
    "phone": _l("Contact phone"),
    "note": _l("Remarks"),
    "services_text": _l("Services offered"),
    "compliance_text": _l("Checklist compliance"),
    **{attr: label for attr, label in HOME_SERVICES.items()},
}
HOME_DESCRIPTIONS = {
    "opened_on": _l("Empty while the base is being built: it is counted from this day."),
    "signage_on": _l("The day the unified 亲青家园 sign was hung; not before the opening."),
    "area": _l("Floor area in square metres."),
    "kind": _l("Revitalised League position, new position, mature partner base or university."),
}
ITEM_LABELS = {
    "code": _l("Code"),
    "section": _l("Section"),
    "section_label": _l("Section"),
    "title": _l("Requirement"),
    "description": _l("Explanation"),
    "position": _l("Order"),
    "active": _l("In use"),
}
ITEM_DESCRIPTIONS = {
    "active": _l("An item that is not in use no longer counts in the compliance scores."),
    "position": _l("Items are listed by section, then by this number."),
}
ENTRY_LABELS = {
    "home": _l("Qinqing home"),
    "item": _l("Checklist item"),
    "met_on": _l("Met on"),
    "evidence": _l("Evidence"),
    "unit": _l("Owning unit"),
}
RESIDENCY_LABELS = {
    "org": _l("Youth organization"),
    "home": _l("Qinqing home"),
    "status": _l("Status"),
    "status_label": _l("Status"),
    "entered_on": _l("Entered on"),
    "ended_on": _l("Graduated or left on"),
    "note": _l("Remarks"),
    "unit": _l("Owning unit"),
}
RESIDENCY_DESCRIPTIONS = {
    "ended_on": _l("Only when the organization has graduated (出壳) or left."),
}
SECTOR_LABELS = {
    "name": _l("Name"),
    "kind": _l("Sector or group"),
    "kind_label": _l("Sector or group"),
    "convenor": _l("Convenor"),
    "note": _l("Remarks"),
    "unit": _l("Youth federation of"),
}
PAIRING_LABELS = {
    "sector": _l("Sector or group"),
    "home": _l("Qinqing home"),
    "started_on": _l("Paired since"),
    "ended_on": _l("Ended on"),
    "activities": _l("Activities"),
    "unit": _l("Owning unit"),
}
FUND_LABELS = {
    "name": _l("Name of the fund"),
    "unit": _l("Owning unit"),
    "established_on": _l("Established on"),
    "other_source": _l("Name of the other source"),
    "purpose": _l("Use of the fund"),
    "committed": _l("Committed (yuan)"),
    "committed_text": _l("Committed (yuan)"),
    "granted_total": _l("Granted (yuan)"),
    "granted_text": _l("Granted (yuan)"),
    "balance": _l("Balance (yuan)"),
    "balance_text": _l("Balance (yuan)"),
    "sources_text": _l("Sources"),
    **{attr: label for attr, label in FUND_SOURCES.items()},
}
FUND_DESCRIPTIONS = {
    **{attr: _l("Committed amount in yuan; 0 if none.") for attr in FUND_SOURCES},
    "other_source": _l("Required when another source committed an amount."),
}
GRANT_LABELS = {
    "fund": _l("Incubation fund"),
    "org": _l("Youth organization"),
    "purpose": _l("Purpose"),
    "applied_on": _l("Applied on"),
    "amount": _l("Amount (yuan)"),
    "amount_text": _l("Amount (yuan)"),
    "status": _l("Approval"),
    "status_label": _l("Approval"),
    "approved_on": _l("Decided on"),
    "approved_by": _l("Approved by"),
    "note": _l("Remarks"),
    "unit": _l("Owning unit"),
}
GRANT_DESCRIPTIONS = {
    "amount": _l("In yuan, more than zero; a grant awaiting approval counts against the balance too."),
    "approved_by": _l("The approving body or the approval document (批准文号)."),
    "approved_on": _l("Empty while the grant awaits approval."),
}


# -- form helpers ---------------------------------------------------------------------
# search-as-you-type pickers (each served by its API below as ``picker``; organizations: cultivation's ORGS)
HOMES = Picker(Home)
SECTORS = Picker(Sector)
FUNDS = Picker(IncubationFund)


# == 亲青家园 ==============================================================================
HOME_EDIT_COLUMNS = [
    "name", "unit", "kind", "address", "area", "opened_on", "signage_on", *HOME_SERVICES,
    "manager", "phone", "note",
]
HOME_FORM_FIELDS = {
    "kind": choice_field(HOME_LABELS["kind"], HOME_KINDS),
    **{attr: flag_field(label) for attr, label in HOME_SERVICES.items()},
}


def section_order(item: ChecklistItem):
    keys = list(CHECKLIST_SECTIONS)
    return (keys.index(item.section) if item.section in keys else len(keys), item.position or 0, item.code)


class QinqingHomeView(ScopedModelView):
    """亲青家园: list, add, edit, and the base's page (its record, the
    standard-building checklist, its resident organizations and pairings)."""

    datamodel = ScopedInterface(Home)
    route_base = "/qinqinghome"
    template_folder = TEMPLATES
    list_title = _l("Qinqing homes")
    show_title = _l("Qinqing home")
    add_title = _l("Add Qinqing home")
    edit_title = _l("Edit Qinqing home")
    list_columns = ["name", "unit", "kind_label", "opened_on", "signage_on", "area", "services_text", "compliance_text"]
    add_columns = HOME_EDIT_COLUMNS
    edit_columns = HOME_EDIT_COLUMNS
    show_columns = [
        "name", "unit", "kind_group_label", "kind_label", "address", "area_text", "opened_on", "signage_on",
        "services_text", "manager", "phone", "note",
    ]
    search_columns = ["name", "kind", "address", "opened_on", "signage_on", "area", *HOME_SERVICES, "manager"]
    search_form_extra_fields = {"kind": search_choice(HOME_LABELS["kind"], HOME_KINDS)}
    order_columns = ["name", "opened_on", "signage_on", "area"]
    base_order = ("name", "asc")
    label_columns = HOME_LABELS
    description_columns = HOME_DESCRIPTIONS
    add_form_extra_fields = HOME_FORM_FIELDS
    edit_form_extra_fields = HOME_FORM_FIELDS

    # the base's page: record, checklist with the compliance score (homes/home.html), resident
    # organizations and 小组基地一对一 pairings (core's record page)
    show_template = "homes/home.html"
    record_class = "qqh-home-page"

    record_panels = [
        Panel(Residency, "home", ["org", "status_label", "entered_on", "ended_on"], id="residents", add=True,
              title=_l("Resident organizations"), links={"org": "YouthOrgView.profile"},
              order_by=(Residency.ended_on.is_not(None), Residency.entered_on.desc(), Residency.id),
              count=lambda rows: sum(1 for r in rows if r.ended_on is None),
              empty=_l("No resident organizations yet.")),
        Panel(Pairing, "home", ["sector", "unit", "started_on", "ended_on", "activities"], id="pairings",
              title=_l("Sector–base pairings"), order_by=(Pairing.started_on.desc(), Pairing.id),
              empty=_l("Not paired with a sector or group yet.")),
    ]

    def record_context(self, home) -> dict:
        session = self.datamodel.session
        items = sorted(
            session.execute(select(ChecklistItem).where(ChecklistItem.active.is_(True))).scalars(), key=section_order
        )
        entries = {
            e.item_id: e
            for e in session.execute(select(ChecklistEntry).where(ChecklistEntry.home_id == home.id)).unique().scalars()
        }
        sm = self.appbuilder.sm
        entry_permission = ChecklistEntryView.class_permission_name or "ChecklistEntryView"
        return dict(
            checklist=items,
            entries=entries,
            can_add_entry=sm.has_access("can_add", entry_permission),
            can_edit_entry=sm.has_access("can_edit", entry_permission),
            can_edit_items=sm.has_access("can_" + MANAGE, ChecklistItemView.class_permission_name),
        )


class QinqingHomeApi(ScopedModelRestApi):
    datamodel = ScopedInterface(Home)
    resource_name = "qinqinghome"
    list_columns = [
        "id", "name", "kind", "kind_label", "address", "area", "opened_on", "signage_on", *HOME_SERVICES,
        "services_text", "met_count", "item_count", "compliance", "unit.id", "unit.code", "unit.name",
    ]
    show_columns = list_columns + ["kind_group_label", "manager", "phone", "note"]
    # the compliance score's two subqueries in the list's one SELECT (no N+1)
    list_select_columns = [c for c in list_columns if "." not in c and c not in
                           ("kind_label", "services_text", "met_count", "item_count", "compliance")] + [
        "met_items", "active_items", "unit_id"]
    add_columns = HOME_EDIT_COLUMNS
    edit_columns = HOME_EDIT_COLUMNS
    search_columns = ["name", "kind", "address", "opened_on", "signage_on", "area", *HOME_SERVICES, "unit"]
    order_columns = ["name", "opened_on", "signage_on", "area"]
    label_columns = HOME_LABELS
    description_columns = HOME_DESCRIPTIONS
    page_size = 25

    picker = HOMES


# == the standard-building checklist =========================================================
ITEM_EDIT_COLUMNS = ["code", "section", "title", "description", "position", "active"]
ITEM_FORM_FIELDS = {
    "section": choice_field(ITEM_LABELS["section"], CHECKLIST_SECTIONS),
    "active": flag_field(ITEM_LABELS["active"]),
}


def refuse_deleting_used_item(item) -> None:
    session = current_app.appbuilder.session
    used = session.execute(select(ChecklistEntry.id).where(ChecklistEntry.item_id == item.id).limit(1)).first()
    if used is not None:
        raise InvalidInput(gettext(
            "Bases have recorded meeting this item: mark it as not in use instead of deleting it."))


class ChecklistItemView(ProvinceDataView):
    """标准化建设清单: the items of the 《"亲青家园"标准化建设手册》; everyone
    reads them, province administrators edit them (data, not code)."""

    datamodel = ScopedInterface(ChecklistItem)
    route_base = "/homechecklistitem"
    class_permission_name = "HomeChecklist"
    list_title = _l("Standard-building checklist (editable by province administrators)")
    show_title = _l("Checklist item")
    add_title = _l("Add checklist item")
    edit_title = _l("Edit checklist item")
    list_columns = ["position", "code", "section_label", "title", "active"]
    add_columns = ITEM_EDIT_COLUMNS
    edit_columns = ITEM_EDIT_COLUMNS
    show_columns = ["code", "section_label", "title", "description", "position", "active"]
    search_columns = ["code", "section", "title", "active"]
    search_form_extra_fields = {"section": search_choice(ITEM_LABELS["section"], CHECKLIST_SECTIONS)}
    order_columns = ["position", "code", "title"]
    base_order = ("position", "asc")
    label_columns = ITEM_LABELS
    description_columns = ITEM_DESCRIPTIONS
    add_form_extra_fields = ITEM_FORM_FIELDS
    edit_form_extra_fields = ITEM_FORM_FIELDS

    def pre_delete(self, item):
        refuse_deleting_used_item(item)


class ChecklistItemApi(ScopedModelRestApi):
    datamodel = ScopedInterface(ChecklistItem)
    resource_name = "homechecklistitem"
    class_permission_name = "HomeChecklist"
    method_permission_name = {"post": MANAGE, "put": MANAGE, "delete": MANAGE}
    list_columns = ["id", "code", "section", "section_label", "title", "description", "position", "active"]
    show_columns = list_columns
    add_columns = ITEM_EDIT_COLUMNS
    edit_columns = ITEM_EDIT_COLUMNS
    search_columns = ["code", "section", "title", "active"]
    order_columns = ["position", "code", "title"]
    label_columns = ITEM_LABELS
    description_columns = ITEM_DESCRIPTIONS

    def pre_delete(self, item):
        refuse_deleting_used_item(item)


ENTRY_EDIT_COLUMNS = ["home", "item", "met_on", "evidence"]
ACTIVE_ITEMS = {"item": [["active", FilterEqual, True]]}


class ChecklistEntryView(ScopedModelView):
    """达标记录: a base meets a checklist item. The unit follows the base."""

    datamodel = ScopedInterface(ChecklistEntry)
    route_base = "/homechecklistentry"
    list_title = _l("Checklist records")
    show_title = _l("Checklist record")
    add_title = _l("Record a checklist item met")
    edit_title = _l("Edit checklist record")
    list_columns = ["home", "item", "met_on", "evidence", "unit"]
    add_columns = ENTRY_EDIT_COLUMNS
    edit_columns = ENTRY_EDIT_COLUMNS
    show_columns = ["home", "item", "met_on", "evidence", "unit"]
    search_columns = ["home", "item", "met_on", "evidence"]
    order_columns = ["met_on"]
    base_order = ("met_on", "desc")
    label_columns = ENTRY_LABELS
    add_form_query_rel_fields = ACTIVE_ITEMS
    edit_form_query_rel_fields = ACTIVE_ITEMS
    prefill = {"home": Home, "item": ChecklistItem}
    back_to = ("home", "QinqingHomeView.show")

    def __init__(self, **kwargs):
        fields = {"home": HOMES.field(ENTRY_LABELS["home"])}
        self.add_form_extra_fields = dict(fields)
        self.edit_form_extra_fields = dict(fields)
        self.search_form_extra_fields = {"home": HOMES.field(ENTRY_LABELS["home"], required=False)}
        super().__init__(**kwargs)


class ChecklistEntryApi(ScopedModelRestApi):
    datamodel = ScopedInterface(ChecklistEntry)
    resource_name = "homechecklistentry"
    list_columns = ["id", "home.id", "home.name", "item.id", "item.code", "item.title", "met_on", "evidence",
                    "unit.id", "unit.code"]
    show_columns = list_columns
    add_columns = ENTRY_EDIT_COLUMNS
    edit_columns = ENTRY_EDIT_COLUMNS
    search_columns = ["home", "item", "met_on", "evidence", "unit"]
    order_columns = ["met_on"]
    label_columns = ENTRY_LABELS
    add_query_rel_fields = ACTIVE_ITEMS


# == residencies =============================================================================
RESIDENCY_EDIT_COLUMNS = ["org", "home", "status", "entered_on", "ended_on", "note"]


class ResidencyView(ScopedModelView):
    """入驻组织: youth organizations living in bases. The unit follows the base."""

    datamodel = ScopedInterface(Residency)
    route_base = "/homeresidency"
    list_title = _l("Resident organizations")
    show_title = _l("Residency")
    add_title = _l("Add resident organization")
    edit_title = _l("Edit residency")
    list_columns = ["org", "home", "status_label", "entered_on", "ended_on", "unit"]
    add_columns = RESIDENCY_EDIT_COLUMNS
    edit_columns = RESIDENCY_EDIT_COLUMNS
    show_columns = ["org", "home", "status_label", "entered_on", "ended_on", "note", "unit"]
    search_columns = ["org", "home", "status", "entered_on", "ended_on"]
    order_columns = ["entered_on", "ended_on"]
    base_order = ("entered_on", "desc")
    label_columns = RESIDENCY_LABELS
    description_columns = RESIDENCY_DESCRIPTIONS
    prefill = {"home": Home, "org": YouthOrg}
    back_to = ("home", "QinqingHomeView.show")

    def __init__(self, **kwargs):
        fields = {
            "org": ORGS.field(RESIDENCY_LABELS["org"]),
            "home": HOMES.field(RESIDENCY_LABELS["home"]),
            "status": choice_field(RESIDENCY_LABELS["status"], RESIDENCY_STATUSES),
        }
        self.add_form_extra_fields = dict(fields)
        self.edit_form_extra_fields = dict(fields)
        self.search_form_extra_fields = {
            "org": ORGS.field(RESIDENCY_LABELS["org"], required=False),
            "home": HOMES.field(RESIDENCY_LABELS["home"], required=False),
            "status": search_choice(RESIDENCY_LABELS["status"], RESIDENCY_STATUSES),
        }
        super().__init__(**kwargs)


class ResidencyApi(ScopedModelRestApi):
    datamodel = ScopedInterface(Residency)
    resource_name = "homeresidency"
    list_columns = ["id", "org.id", "org.name", "home.id", "home.name", "status", "status_label", "entered_on",
                    "ended_on", "unit.id", "unit.code"]
    show_columns = list_columns + ["note"]
    add_columns = RESIDENCY_EDIT_COLUMNS
    edit_columns = RESIDENCY_EDIT_COLUMNS
    search_columns = ["org", "home", "status", "entered_on", "ended_on", "unit"]
    order_columns = ["entered_on", "ended_on"]
    label_columns = RESIDENCY_LABELS
    description_columns = RESIDENCY_DESCRIPTIONS


# == 小组基地一对一 ==============================================================================
SECTOR_EDIT_COLUMNS = ["name", "unit", "kind", "convenor", "note"]


class SectorView(ScopedModelView):
    """青联界别与小组 (data each youth federation keeps)."""

    datamodel = ScopedInterface(Sector)
    route_base = "/homesector"
    list_title = _l("Youth federation sectors and groups")
    show_title = _l("Sector or group")
    add_title = _l("Add sector or group")
    edit_title = _l("Edit sector or group")
    list_columns = ["name", "kind_label", "convenor", "unit"]
    add_columns = SECTOR_EDIT_COLUMNS
    edit_columns = SECTOR_EDIT_COLUMNS
    show_columns = ["name", "kind_label", "convenor", "note", "unit"]
    search_columns = ["name", "kind", "convenor"]
    search_form_extra_fields = {"kind": search_choice(SECTOR_LABELS["kind"], SECTOR_KINDS)}
    order_columns = ["name"]
    base_order = ("name", "asc")
    label_columns = SECTOR_LABELS
    add_form_extra_fields = {"kind": choice_field(SECTOR_LABELS["kind"], SECTOR_KINDS)}
    edit_form_extra_fields = add_form_extra_fields


class SectorApi(ScopedModelRestApi):
    datamodel = ScopedInterface(Sector)
    resource_name = "homesector"
    list_columns = ["id", "name", "kind", "kind_label", "convenor", "unit.id", "unit.code", "unit.name"]
    show_columns = list_columns + ["note"]
    add_columns = SECTOR_EDIT_COLUMNS
    edit_columns = SECTOR_EDIT_COLUMNS
    search_columns = ["name", "kind", "convenor", "unit"]
    order_columns = ["name"]
    label_columns = SECTOR_LABELS

    picker = SECTORS


PAIRING_EDIT_COLUMNS = ["sector", "home", "started_on", "ended_on", "activities"]


class PairingView(ScopedModelView):
    """小组基地一对一: pairings of sectors and groups with bases. The unit
    follows the sector."""

    datamodel = ScopedInterface(Pairing)
    route_base = "/homepairing"
    list_title = _l("Sector–base pairings")
    show_title = _l("Pairing")
    add_title = _l("Add pairing")
    edit_title = _l("Edit pairing")
    list_columns = ["sector", "home", "started_on", "ended_on", "unit"]
    add_columns = PAIRING_EDIT_COLUMNS
    edit_columns = PAIRING_EDIT_COLUMNS
    show_columns = ["sector", "home", "started_on", "ended_on", "activities", "unit"]
    search_columns = ["sector", "home", "started_on", "ended_on", "activities"]
    order_columns = ["started_on", "ended_on"]
    base_order = ("started_on", "desc")
    label_columns = PAIRING_LABELS
    prefill = {"home": Home, "sector": Sector}
    back_to = ("home", "QinqingHomeView.show")

    def __init__(self, **kwargs):
        fields = {
            "sector": SECTORS.field(PAIRING_LABELS["sector"]),
            "home": HOMES.field(PAIRING_LABELS["home"]),
        }
        self.add_form_extra_fields = dict(fields)
        self.edit_form_extra_fields = dict(fields)
        self.search_form_extra_fields = {
            "sector": SECTORS.field(PAIRING_LABELS["sector"], required=False),
            "home": HOMES.field(PAIRING_LABELS["home"], required=False),
        }
        super().__init__(**kwargs)


class PairingApi(ScopedModelRestApi):
    datamodel = ScopedInterface(Pairing)
    resource_name = "homepairing"
    list_columns = ["id", "sector.id", "sector.name", "home.id", "home.name", "started_on", "ended_on", "unit.id",
                    "unit.code"]
    show_columns = list_columns + ["activities"]
    add_columns = PAIRING_EDIT_COLUMNS
    edit_columns = PAIRING_EDIT_COLUMNS
    search_columns = ["sector", "home", "started_on", "ended_on", "unit"]
    order_columns = ["started_on", "ended_on"]
    label_columns = PAIRING_LABELS


# == incubation funds and grants ================================================================
FUND_EDIT_COLUMNS = ["name", "unit", "established_on", *FUND_SOURCES, "other_source", "purpose"]


def refuse_deleting_fund_with_grants(fund) -> None:
    session = current_app.appbuilder.session
    if session.execute(select(Grant.id).where(Grant.fund_id == fund.id).limit(1)).first() is not None:
        raise InvalidInput(gettext("This fund has made grants: it cannot be deleted."))


# an empty committed amount means 0 (validate() says so); not "required"
FUND_FORM_FIELDS = {
    attr: amount_field(label, FUND_DESCRIPTIONS[attr]) for attr, label in FUND_SOURCES.items()
}


class IncubationFundView(ScopedModelView):
    """孵化基金: list, add, edit, and the fund's page with its grants."""

    datamodel = ScopedInterface(IncubationFund)
    route_base = "/incubationfund"
    template_folder = TEMPLATES
    list_title = _l("Incubation funds")
    show_title = _l("Incubation fund")
    add_title = _l("Add incubation fund")
    edit_title = _l("Edit incubation fund")
    list_columns = ["name", "unit", "established_on", "committed_text", "granted_text", "balance_text"]
    add_columns = FUND_EDIT_COLUMNS
    edit_columns = FUND_EDIT_COLUMNS
    show_columns = ["name", "unit", "established_on", "purpose"]
    search_columns = ["name", "established_on", *FUND_SOURCES, "other_source"]
    order_columns = ["name", "established_on"]
    base_order = ("established_on", "asc")
    label_columns = FUND_LABELS
    description_columns = FUND_DESCRIPTIONS
    add_form_extra_fields = FUND_FORM_FIELDS
    edit_form_extra_fields = FUND_FORM_FIELDS

    def pre_delete(self, item):
        refuse_deleting_fund_with_grants(item)

    # the fund's page: sources, committed, granted, balance (homes/fund.html), its grants
    show_template = "homes/fund.html"
    record_class = "qqh-fund-page"

    record_panels = [
        Panel(Grant, "fund", ["org", "purpose", "applied_on", "amount", "status_label", "approved_on", "approved_by"],
              id="grants", add=True, title=_l("Grants"), order_by=(Grant.applied_on.desc(), Grant.id.desc()),
              empty=_l("No grants yet.")),
    ]

    def record_context(self, fund) -> dict:
        return {"sources": [(label, getattr(fund, attr), fund.other_source if attr == "from_other" else "")
                            for attr, label in FUND_SOURCES.items()]}


class IncubationFundApi(ScopedModelRestApi):
    datamodel = ScopedInterface(IncubationFund)
    resource_name = "incubationfund"
    list_columns = ["id", "name", "established_on", *FUND_SOURCES, "other_source", "committed", "granted_total", "balance",
                    "unit.id", "unit.code", "unit.name"]
    show_columns = list_columns + ["purpose", "sources_text"]
    list_select_columns = ["id", "name", "established_on", *FUND_SOURCES, "other_source", "granted", "unit_id"]
    add_columns = FUND_EDIT_COLUMNS
    edit_columns = FUND_EDIT_COLUMNS
    search_columns = ["name", "established_on", *FUND_SOURCES, "other_source", "unit"]
    order_columns = ["name", "established_on"]
    label_columns = FUND_LABELS
    description_columns = FUND_DESCRIPTIONS

    def pre_delete(self, item):
        refuse_deleting_fund_with_grants(item)

    picker = FUNDS


GRANT_EDIT_COLUMNS = ["fund", "org", "purpose", "applied_on", "amount", "status", "approved_on", "approved_by", "note"]


class GrantView(ScopedModelView):
    """资助: grants from incubation funds to youth organizations. The unit
    follows the fund; a grant that would overdraw the fund is refused."""

    datamodel = ScopedInterface(Grant)
    route_base = "/incubationgrant"
    list_title = _l("Grants")
    show_title = _l("Grant")
    add_title = _l("Add grant")
    edit_title = _l("Edit grant")
    list_columns = ["fund", "org", "purpose", "applied_on", "amount", "status_label", "approved_on", "unit"]
    add_columns = GRANT_EDIT_COLUMNS
    edit_columns = GRANT_EDIT_COLUMNS
    show_columns = ["fund", "org", "purpose", "applied_on", "amount", "status_label", "approved_on", "approved_by",
                    "note", "unit"]
    search_columns = ["fund", "org", "purpose", "applied_on", "amount", "status", "approved_on", "approved_by"]
    order_columns = ["applied_on", "amount", "approved_on"]
    base_order = ("applied_on", "desc")
    label_columns = GRANT_LABELS
    description_columns = GRANT_DESCRIPTIONS
    prefill = {"fund": IncubationFund, "org": YouthOrg}
    back_to = ("fund", "IncubationFundView.show")

    def __init__(self, **kwargs):
        fields = {
            "fund": FUNDS.field(GRANT_LABELS["fund"]),
            "org": ORGS.field(GRANT_LABELS["org"]),
            "status": choice_field(GRANT_LABELS["status"], GRANT_STATUSES),
        }
        self.add_form_extra_fields = dict(fields)
        self.edit_form_extra_fields = dict(fields)
        self.search_form_extra_fields = {
            "fund": FUNDS.field(GRANT_LABELS["fund"], required=False),
            "org": ORGS.field(GRANT_LABELS["org"], required=False),
            "status": search_choice(GRANT_LABELS["status"], GRANT_STATUSES),
        }
        super().__init__(**kwargs)


class GrantApi(ScopedModelRestApi):
    datamodel = ScopedInterface(Grant)
    resource_name = "incubationgrant"
    list_columns = ["id", "fund.id", "fund.name", "org.id", "org.name", "purpose", "applied_on", "amount", "status",
                    "status_label", "approved_on", "approved_by", "unit.id", "unit.code"]
    show_columns = list_columns + ["note"]
    add_columns = GRANT_EDIT_COLUMNS
    edit_columns = GRANT_EDIT_COLUMNS
    search_columns = ["fund", "org", "purpose", "applied_on", "amount", "status", "approved_on", "unit"]
    order_columns = ["applied_on", "amount", "approved_on"]
    label_columns = GRANT_LABELS
    description_columns = GRANT_DESCRIPTIONS


# == 待办 =======================================================================================
def pending_grants_item(user) -> list[dict]:
    """One to-do item: the grants of the user's subtree awaiting approval (one COUNT)."""
    from flask import url_for
    from sqlalchemy import func

    from core.api import in_scope, user_scope
    from plugins.homes.models import PENDING

    scope = user_scope(user)
    if scope.nothing:
        return []
    stmt = in_scope(select(func.count(Grant.id)).where(Grant.status == PENDING), Grant, scope)
    n = current_app.appbuilder.session.execute(stmt).scalar() or 0
    if not n:
        return []
    return [{"kind": "grants_pending", "title": gettext("Grants awaiting approval"),
             "url": url_for("GrantView.list", _flt_0_status=PENDING), "due": None, "count": int(n)}]

"""Pages and REST APIs of the cultivation plugin."""

from __future__ import annotations

from flask import redirect, url_for
from flask_appbuilder import expose, has_access
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from marshmallow.validate import Length

from core.api import (
    Picker,
    Panel,
    ScopedInterface,
    ScopedModelRestApi,
    ScopedModelView,
    current_scope,
    flag_field,
    module_dir,
)
from plugins.cultivation.models import (
    Service,
    YouthOrg,
)
from plugins.cultivation.profile import collect_sections

TEMPLATES = module_dir("plugins.cultivation", "templates")

ORG_LABELS = {
    "name": _l("Organization name"),
    "credit_code": _l("Unified social credit code"),
    "category": _l("Category"),
    "category_label": _l("Category"),
    "service_field": _l("Service field"),
    "service_field_label": _l("Service field"),
    "reg_status": _l("Registration status"),
    "reg_status_label": _l("Registration status"),
    "legal_form": _l("Legal form"),
    "legal_form_label": _l("Legal form"),
    "founded_on": _l("Founded on"),
    "contact_name": _l("Contact person"),
    "contact_phone": _l("Contact phone"),
    "members": _l("Members"),
    "youth_share": _l("Youth share (%)"),
    "unit": _l("Owning unit"),
    "directly_connected_on": _l("Directly connected on"),
    "is_pilot": _l("Pilot"),
    "cultivated_on": _l("Cultivated on"),
    "note": _l("Remarks"),
    "services": _l("Services"),
}
ORG_DESCRIPTIONS = {
    "credit_code": _l("18 characters (GB 32100-2015); required once the organization is registered."),
    "legal_form": _l("Only for registered organizations."),
    "directly_connected_on": _l("The day your unit put it on its direct-contact list; empty if it is not on the list."),
    "cultivated_on": _l("The day your unit counts it as cultivated; empty if not (yet)."),
    "youth_share": _l("Share of members aged 14 to 35, in per cent."),
}
SERVICE_LABELS = {
    "org": _l("Youth organization"),
    "kind": _l("Kind of service"),
    "kind_label": _l("Kind of service"),
    "starts_on": _l("Start date"),
    "ends_on": _l("End date"),
    "outcome": _l("Outcome"),
    "outcome_label": _l("Outcome"),
    "contract": _l("Contract"),
    "amount": _l("Amount (yuan)"),
    "amount_text": _l("Amount (yuan)"),
    "custodian": _l("Custodian"),
    "note": _l("Remarks"),
    "unit": _l("Owning unit"),
    "period_text": _l("Service period"),
}
SERVICE_DESCRIPTIONS = {
    "outcome": _l("Registration counselling only."),
    "contract": _l("Purchased service only: contract name or number."),
    "amount": _l("Purchased service only: in yuan, two decimals at most."),
    "custodian": _l("Financial custody only: who keeps the accounts."),
    "ends_on": _l("Required for a purchased service; empty while the service goes on."),
}




def _org_link(org) -> Markup:
    """An organization in a list links to its profile."""
    if org is None:
        return Markup("")
    return Markup('<a href="{}">{}</a>').format(url_for("YouthOrgView.profile", pk=org.id), org.name)


def chinese_length_messages(api, fields) -> None:
    """Drop the schema's length checks (English messages) on ``fields``:
    the model's validate() checks the length in Chinese, after normalising
    ("9144 0300 7084 6113 6T" is a credit code once the spaces are gone)."""
    for schema in (api.add_model_schema, api.edit_model_schema):
        for name in fields:
            field = schema.fields[name]
            field.validators = [v for v in field.validators if not isinstance(v, Length)]


# -- youth organizations ------------------------------------------------------------
# the organization picker (YouthOrgApi.picker; other plugins' forms use ORGS.field too):
# by name, credit code or the name's pinyin initials
ORGS = Picker(YouthOrg, search=(YouthOrg.name, YouthOrg.credit_code), initials=YouthOrg.name)


# enumerated columns get their drop-downs from the model (core.values.choices)
ORG_FORM_FIELDS = {
    # a non-null boolean must not be "required": unticked means "no"
    "is_pilot": flag_field(ORG_LABELS["is_pilot"]),
}
ORG_EDIT_COLUMNS = [
    "name", "unit", "category", "service_field", "reg_status", "legal_form", "credit_code", "founded_on",
    "contact_name", "contact_phone", "members", "youth_share", "directly_connected_on", "is_pilot",
    "cultivated_on", "note",
]


class YouthOrgView(ScopedModelView):
    """青年社会组织: list, add, edit and the profile page (the show page)."""

    datamodel = ScopedInterface(YouthOrg)
    route_base = "/youthorg"
    template_folder = TEMPLATES  # FAB resolves a relative folder against its own package
    list_title = _l("Youth organizations")
    show_title = _l("Youth organization")
    add_title = _l("Add youth organization")
    edit_title = _l("Edit youth organization")
    list_columns = [
        "name", "unit", "category_label", "reg_status_label", "credit_code",
        "directly_connected_on", "is_pilot", "cultivated_on",
    ]
    add_columns = ORG_EDIT_COLUMNS
    edit_columns = ORG_EDIT_COLUMNS
    show_columns = [
        "name", "unit", "category_label", "service_field_label", "reg_status_label", "legal_form_label",
        "credit_code", "founded_on", "contact_name", "contact_phone", "members", "youth_share",
        "directly_connected_on", "is_pilot", "cultivated_on", "note",
    ]
    search_columns = [
        "name", "credit_code", "category", "service_field", "reg_status", "legal_form", "is_pilot",
        "founded_on", "directly_connected_on", "cultivated_on", "contact_name",
    ]
    order_columns = ["name", "credit_code", "founded_on", "directly_connected_on", "cultivated_on", "members"]
    base_order = ("name", "asc")
    label_columns = ORG_LABELS
    description_columns = ORG_DESCRIPTIONS
    add_form_extra_fields = ORG_FORM_FIELDS
    edit_form_extra_fields = ORG_FORM_FIELDS

    formatters_columns = {"youth_share": lambda v: "" if v is None else f"{v}%"}
    # the profile: core's record page with the services received ("add a service" from here) and the
    # sections other plugins add through ``qqh_youthorg_profile_sections`` (cultivation/profile.html)
    show_template = "cultivation/profile.html"
    record_class = "qqh-youthorg-profile"
    record_panels = [
        Panel(Service, "org", ["kind_label", "period_text", "outcome_label", "contract", "amount", "custodian", "note"],
              id="services", add=True, title=_l("Services received"), empty=_l("No services recorded yet."),
              order_by=(Service.starts_on.desc(), Service.id)),
    ]

    def record_context(self, org) -> dict:
        return {"sections": collect_sections(org, self.datamodel.session, current_scope())}

    @expose("/show/<int:pk>", methods=["GET"])
    @has_access
    def show(self, pk):
        # the profile is the organization's one page
        return redirect(url_for(".profile", pk=pk))

    @expose("/profile/<int:pk>", methods=["GET"])
    @has_access
    def profile(self, pk):
        """The organization's profile (its record page)."""
        return ScopedModelView.show(self, pk)


class YouthOrgApi(ScopedModelRestApi):
    datamodel = ScopedInterface(YouthOrg)
    resource_name = "youthorg"
    list_columns = [
        "id", "name", "credit_code", "category", "category_label", "service_field", "reg_status",
        "reg_status_label", "legal_form", "founded_on", "directly_connected_on", "is_pilot",
        "cultivated_on", "members", "unit.id", "unit.code", "unit.name",
    ]
    show_columns = [
        "id", "name", "credit_code", "category", "category_label", "service_field", "service_field_label",
        "reg_status", "reg_status_label", "legal_form", "legal_form_label", "founded_on", "contact_name",
        "contact_phone", "members", "youth_share", "directly_connected_on", "is_pilot", "cultivated_on",
        "note", "unit.id", "unit.code", "unit.name",
    ]
    add_columns = [c for c in ORG_EDIT_COLUMNS]
    edit_columns = add_columns
    search_columns = [
        "name", "credit_code", "category", "service_field", "reg_status", "legal_form", "is_pilot",
        "founded_on", "directly_connected_on", "cultivated_on", "unit",
    ]
    order_columns = ["name", "credit_code", "founded_on", "directly_connected_on", "cultivated_on", "members"]
    label_columns = ORG_LABELS
    description_columns = ORG_DESCRIPTIONS
    page_size = 25

    def _init_model_schemas(self) -> None:
        super()._init_model_schemas()
        chinese_length_messages(self, ("name", "credit_code", "contact_name", "contact_phone"))

    picker = ORGS


# -- services ------------------------------------------------------------------------
SERVICE_EDIT_COLUMNS = ["org", "kind", "starts_on", "ends_on", "outcome", "contract", "amount", "custodian", "note"]


class ServiceView(ScopedModelView):
    """服务: services given to youth organizations. The unit follows the
    organization, so the form has no unit field."""

    datamodel = ScopedInterface(Service)
    route_base = "/youthorgservice"
    list_title = _l("Services to organizations")
    show_title = _l("Service")
    add_title = _l("Add service")
    edit_title = _l("Edit service")
    list_columns = ["org", "kind_label", "starts_on", "ends_on", "outcome_label", "amount", "custodian", "unit"]
    add_columns = SERVICE_EDIT_COLUMNS
    edit_columns = SERVICE_EDIT_COLUMNS
    show_columns = [
        "org", "kind_label", "starts_on", "ends_on", "outcome_label", "contract", "amount", "custodian", "note", "unit",
    ]
    search_columns = ["kind", "starts_on", "ends_on", "outcome", "contract", "amount", "custodian"]
    order_columns = ["starts_on", "ends_on", "amount"]
    base_order = ("starts_on", "desc")
    label_columns = SERVICE_LABELS
    description_columns = SERVICE_DESCRIPTIONS
    formatters_columns = {"org": _org_link}
    # "add a service" from a profile page: ?org=<id> chooses the organization, and back to the profile
    prefill = {"org": YouthOrg}
    back_to = ("org", "YouthOrgView.profile")

    def __init__(self, **kwargs):
        fields = {
            "org": ORGS.field(SERVICE_LABELS["org"]),
        }
        self.add_form_extra_fields = dict(fields)
        self.edit_form_extra_fields = dict(fields)
        super().__init__(**kwargs)


class ServiceApi(ScopedModelRestApi):
    datamodel = ScopedInterface(Service)
    resource_name = "youthorgservice"
    list_columns = [
        "id", "org.id", "org.name", "kind", "kind_label", "starts_on", "ends_on", "outcome", "contract",
        "amount", "custodian", "unit.id", "unit.code",
    ]
    show_columns = list_columns + ["outcome_label", "note"]
    add_columns = SERVICE_EDIT_COLUMNS
    edit_columns = SERVICE_EDIT_COLUMNS
    search_columns = ["org", "kind", "starts_on", "ends_on", "outcome", "contract", "amount", "custodian", "unit"]
    order_columns = ["starts_on", "ends_on", "amount", "kind"]
    label_columns = SERVICE_LABELS
    description_columns = SERVICE_DESCRIPTIONS
    page_size = 25

    def _init_model_schemas(self) -> None:
        super()._init_model_schemas()
        chinese_length_messages(self, ("contract", "custodian"))

"""Pages and REST APIs of the training plugin.

Scoping, as everywhere: camps and enrolments are seen and changed only in the
organizing unit's subtree. Two deliberate differences:

* Lecturers (师资库) are shared: every user reads the whole pool (lists,
  detail pages, the camp form's lecturer choice, the API) and may link any
  lecturer to the camps of their own units; only the keeping unit's subtree
  may change or delete a lecturer (others get 403 with an explanation).
* Trainees belong to no unit: a user sees the people enrolled in the camps
  of their subtree (read-only; corrections are made on the enrolment).

Trainees' ID numbers and phones are masked for everyone but province
administrators: in lists, detail pages, edit forms, API answers and exports.
A masked value sent back unchanged keeps the stored one.
"""

from __future__ import annotations

import copy
import io

from flask import abort, current_app, flash, redirect, send_file, url_for
from flask_appbuilder import ModelView, expose, has_access
from flask_appbuilder.api import expose as api_expose, protect, safe
from flask_appbuilder.security.decorators import permission_name
from flask_babel import gettext, lazy_gettext as _l
from marshmallow.validate import Length
from sqlalchemy import delete, func, select
from sqlalchemy.orm.attributes import set_committed_value

from core.api import (
    InvalidInput,
    PersonalDataView,
    Panel,
    Picker,
    ScopedInterface,
    ScopedModelRestApi,
    ScopedModelView,
    choice_field,
    current_scope,
    flag_field,
    format_date_zh,
    module_dir,
    scoped_get,
    search_choice,
    stored_value,
    unit_in_scope,
)
from plugins.cultivation.views import ORGS
from plugins.training.models import (
    GENDERS,
    STATUSES,
    Camp,
    CampLecturer,
    Enrolment,
    Lecturer,
    Trainee,
)
from plugins.training.signin import XLSX_MIME, file_name, signin_sheet

TEMPLATES = module_dir("plugins.training", "templates")

CAMP_LABELS = {
    "session_no": _l("Session"),
    "title": _l("Camp title"),
    "unit": _l("Organizing unit"),
    "starts_on": _l("First day"),
    "ends_on": _l("Last day"),
    "dates_text": _l("Dates"),
    "place": _l("Place"),
    "media_partners": _l("Media partners"),
    "org_partners": _l("Social organization partners"),
    "institution_partners": _l("Training institution partners"),
    "capacity": _l("Places"),
    "enrolled_count": _l("Enrolled"),
    "attended_count": _l("Attended"),
    "places_left": _l("Places left"),
    "status": _l("Camp status"),
    "status_label": _l("Camp status"),
    "lecturers": _l("Lecturers"),
    "lecturer_names": _l("Lecturers"),
    "note": _l("Remarks"),
}
CAMP_DESCRIPTIONS = {
    "session_no": _l("The session number (期次) of this camp in its series: 1, 2, 3 …"),
    "media_partners": _l("Names separated by 、"),
    "org_partners": _l("Names separated by 、"),
    "institution_partners": _l("Names separated by 、"),
    "capacity": _l("How many people may enrol; enrolments beyond it are refused."),
    "lecturers": _l("Any lecturer of the shared pool, whichever unit keeps them."),
    "status": _l("A finished camp cannot change its status; a cancelled camp takes no enrolments."),
}
ENROLMENT_LABELS = {
    "camp": _l("Training camp"),
    "youth_org": _l("Youth organization"),
    "name": _l("Trainee name"),
    "gender": _l("Gender"),
    "gender_label": _l("Gender"),
    "phone": _l("Mobile phone"),
    "resident_id": _l("Resident ID number"),
    "role": _l("Role in the organization"),
    "enrolled_on": _l("Enrolled on"),
    "attended": _l("Attended"),
    "attended_label": _l("Attendance"),
    "note": _l("Remarks"),
    "unit": _l("Organizing unit"),
    "trainee": _l("Trainee"),
}
ENROLMENT_DESCRIPTIONS = {
    "resident_id": _l("18 characters (GB 11643); optional. The same person is recognised across camps by it, "
                      "else by name and phone."),
    "gender": _l("May be left empty when the ID number is given."),
    "attended": _l("Tick once the person came to the camp; a no-show stays enrolled but is not counted as trained."),
    "role": _l("For example 会长, 秘书长, 理事, 项目负责人."),
}
LECTURER_LABELS = {
    "name": _l("Lecturer name"),
    "institution": _l("University or institution"),
    "unit": _l("Keeping unit"),
    "title": _l("Academic title"),
    "expertise": _l("Fields of expertise"),
    "phone": _l("Lecturer phone"),
    "email": _l("E-mail"),
    "note": _l("Remarks"),
    "camps": _l("Camps taught"),
    "camps_taught": _l("Camps taught"),
    "camps_count": _l("Camps taught"),
}
LECTURER_DESCRIPTIONS = {
    "unit": _l("The unit that keeps this lecturer in its pool (a university's League committee, or any unit); "
               "every unit may invite the lecturer, only the keeping unit may change the record."),
}
TRAINEE_LABELS = {
    "name": _l("Trainee name"),
    "gender": _l("Gender"),
    "gender_label": _l("Gender"),
    "phone": _l("Mobile phone"),
    "resident_id": _l("Resident ID number"),
    "camps_attended": _l("Camps attended"),
}




def _session():
    return current_app.appbuilder.session


def load_scoped_camp(pk):
    return scoped_get(Camp, pk)


def camp_text(row) -> str:
    return (gettext("%(title)s (session %(n)s)", title=row.title, n=row.session_no)
            + f" {format_date_zh(row.starts_on)}（{row.unit_name}）")


# pickers: camps (CampApi.picker), latest first; organizations (EnrolmentApi.orgs, as cultivation's)
CAMPS = Picker(Camp, search=(Camp.title,), columns=(Camp.session_no, Camp.starts_on), text=camp_text,
               order_by=(Camp.starts_on.desc(), Camp.id.desc()))
ENROLMENT_ORGS = ORGS.copy()


# -- interfaces -------------------------------------------------------------------------
class LecturerInterface(ScopedInterface):
    """The shared pool: reads are not limited to the user's subtree; edits and
    deletions are, by the unit that keeps the lecturer (as stored)."""

    def scope_reads(self, query):
        return query  # every unit reads the whole pool

    def get_related_interface(self, col_name):
        if col_name == "camps":
            return ScopedInterface(Camp)
        return super().get_related_interface(col_name)

    def check_owner(self, item) -> None:
        if item.id is None:
            return
        stored = stored_value(item, "unit_id")
        if stored is not None and not unit_in_scope(self.session, stored, current_scope()):
            self.session.rollback()
            raise InvalidInput({"unit": not_your_lecturer()})

    def edit(self, item, commit: bool = True) -> None:
        self.check_owner(item)
        super().edit(item, commit)

    def delete(self, item, commit: bool = True) -> None:
        self.check_owner(item)
        # leaving the pool ends its links to camps (those of other units too,
        # which its own unit could not edit)
        self.session.execute(delete(CampLecturer).where(CampLecturer.lecturer_id == item.id))
        super().delete(item, commit)


def not_your_lecturer() -> str:
    return gettext("This lecturer is kept by another unit: only that unit and the units above it "
                   "may change or delete the record.")


def lecturer_is_mine(pk) -> bool | None:
    """None: no such lecturer; else whether the user's subtree keeps it."""
    session = _session()
    unit_id = session.execute(select(Lecturer.unit_id).where(Lecturer.id == pk)).scalar_one_or_none()
    if unit_id is None:
        return None
    return unit_in_scope(session, unit_id, current_scope())


class CampInterface(ScopedInterface):
    """Camps: lecturers are chosen from the whole shared pool; a camp with a
    roster is not deleted (cancel it, or delete its enrolments first)."""

    def get_related_interface(self, col_name):
        if col_name == "lecturers":
            return LecturerInterface(Lecturer)
        return super().get_related_interface(col_name)

    def delete(self, item, commit: bool = True) -> None:
        n = self.session.execute(select(func.count(Enrolment.id)).where(Enrolment.camp_id == item.id)).scalar_one()
        if n:
            raise InvalidInput(gettext(
                "%(n)d people are enrolled in this camp: delete their enrolments first, or cancel the camp.", n=n))
        super().delete(item, commit)


class TraineeInterface(ScopedInterface):
    """People are seen through the enrolments in the user's subtree.

    A person is one trainee across units (matched by ID number, else by name
    and phone), so a user limited to a subtree never sees the trainee's own
    record, which another unit may have written: what they see of a person
    (name, gender, phone, ID number, camps attended) comes from the roster
    lines of their own subtree, and a search by name or gender looks at those
    lines only (ordered by the trainee's number, never by a hidden name)."""

    OWN_LINE_COLUMNS = ("name", "gender", "phone", "resident_id")

    @staticmethod
    def _enrolment_cond():
        return current_scope().condition(Enrolment)

    def apply_filters(self, query, filters):
        cond = self._enrolment_cond()
        if cond is None:
            return super().apply_filters(query, filters)
        lines = self.session.query(Enrolment.trainee_id).filter(cond)
        for flt, values in filters.get_filters_values() if filters else ():
            if flt.column_name in self.OWN_LINE_COLUMNS:
                flt = copy.copy(flt)
                flt.model = Enrolment
            several = isinstance(values, list) and flt.arg_name not in {"in", "not_in"}  # as FAB's apply_all
            for value in values if several else [values]:
                if flt.model is Enrolment:
                    lines = flt.apply(lines, value)
                else:
                    query = flt.apply(query, value)
        return query.filter(Trainee.id.in_(lines.statement))

    def apply_order_by(self, query, order_column, order_direction, **kwargs):
        if self._enrolment_cond() is not None:
            return query.order_by(Trainee.id)
        return super().apply_order_by(query, order_column, order_direction, **kwargs)

    def query(self, *args, **kwargs):
        count, items = super().query(*args, **kwargs)
        self._own_lines(items)
        return count, items

    def get(self, *args, **kwargs):
        item = super().get(*args, **kwargs)
        if item is not None:
            self._own_lines([item])
        return item

    def _own_lines(self, trainees) -> None:
        """Show each trainee as the latest roster line of the user's subtree
        says (never written back: the values are set as if loaded)."""
        cond = self._enrolment_cond()
        trainees = [t for t in trainees if isinstance(t, Trainee)]
        if cond is None or not trainees:
            return
        rows = self.session.execute(
            select(Enrolment.trainee_id, Enrolment.name, Enrolment.gender, Enrolment.phone, Enrolment.resident_id,
                   Enrolment.attended)
            .where(Enrolment.trainee_id.in_([t.id for t in trainees]), cond)
            .order_by(Enrolment.trainee_id, Enrolment.id)
        ).all()
        latest, attended = {}, {}
        for r in rows:
            latest[r.trainee_id] = r
            attended[r.trainee_id] = attended.get(r.trainee_id, 0) + (1 if r.attended else 0)
        for t in trainees:
            line = latest.get(t.id)
            for attr in self.OWN_LINE_COLUMNS:
                set_committed_value(t, attr, getattr(line, attr) if line is not None else None)
            set_committed_value(t, "n_attended", attended.get(t.id, 0))


# -- REST APIs: common ---------------------------------------------------------------------
class TrainingApi(ScopedModelRestApi):
    loose_length = ()  # text fields whose length validate() checks after normalising

    def _init_model_schemas(self) -> None:
        super()._init_model_schemas()
        for schema in (self.add_model_schema, self.edit_model_schema):
            for name in self.loose_length:
                field = schema.fields[name]
                field.validators = [v for v in field.validators if not isinstance(v, Length)]


# -- camps ----------------------------------------------------------------------------------
CAMP_EDIT_COLUMNS = [
    "title", "session_no", "unit", "starts_on", "ends_on", "place", "capacity", "status",
    "media_partners", "org_partners", "institution_partners", "lecturers", "note",
]


class CampView(ScopedModelView):
    """训练营: list, add, edit; the detail page shows the roster (masked),
    the lecturers and the sign-in sheet."""

    datamodel = CampInterface(Camp)
    route_base = "/trainingcamp"
    template_folder = TEMPLATES
    show_template = "training/camp_show.html"
    list_title = _l("Training camps")
    show_title = _l("Training camp")
    add_title = _l("Add training camp")
    edit_title = _l("Edit training camp")
    list_columns = [
        "title", "session_no", "unit", "starts_on", "ends_on", "place", "capacity", "enrolled_count",
        "attended_count", "status_label",
    ]
    add_columns = CAMP_EDIT_COLUMNS
    edit_columns = CAMP_EDIT_COLUMNS
    show_columns = [
        "title", "session_no", "unit", "dates_text", "place", "status_label", "capacity", "enrolled_count",
        "attended_count", "places_left", "media_partners", "org_partners", "institution_partners",
        "lecturer_names", "note",
    ]
    search_columns = ["title", "session_no", "status", "starts_on", "ends_on", "place", "capacity"]
    search_form_extra_fields = {"status": search_choice(CAMP_LABELS["status"], STATUSES)}
    order_columns = ["title", "session_no", "starts_on", "ends_on", "capacity"]
    base_order = ("starts_on", "desc")
    label_columns = CAMP_LABELS
    description_columns = CAMP_DESCRIPTIONS
    add_form_extra_fields = {"status": choice_field(CAMP_LABELS["status"], STATUSES)}
    edit_form_extra_fields = {"status": choice_field(CAMP_LABELS["status"], STATUSES)}
    # the camp's record page: its roster (ID numbers and phones masked as everywhere); the sign-in
    # sheet and "enrol a leader" (from here) in camp_show.html
    record_class = "qqh-camp-page"
    record_panels = [
        Panel(Enrolment, "camp", ["name", "gender_label", "phone", "resident_id", "youth_org", "role", "attended"],
              id="roster", title=_l("Enrolments"), order_by=(Enrolment.name, Enrolment.id)),
    ]

    def __init__(self, **kwargs):
        self.related_views = [EnrolmentView]  # the edit page's roster tab (the record page has the panel)
        super().__init__(**kwargs)

    @expose("/signin/<int:pk>", methods=["GET"])
    @has_access
    @permission_name("show")
    def signin(self, pk):
        """The camp's sign-in sheet (.xlsx)."""
        camp = load_scoped_camp(pk)
        if camp is None:
            abort(404)
        data = signin_sheet(self.datamodel.session, camp)
        return send_file(io.BytesIO(data), mimetype=XLSX_MIME, as_attachment=True, download_name=file_name(camp))


class CampApi(TrainingApi):
    datamodel = CampInterface(Camp)
    resource_name = "trainingcamp"
    list_columns = [
        "id", "title", "session_no", "starts_on", "ends_on", "place", "capacity", "enrolled_count",
        "attended_count", "status", "status_label", "unit.id", "unit.code", "unit.name",
    ]
    show_columns = list_columns + [
        "media_partners", "org_partners", "institution_partners", "note", "lecturers.id", "lecturers.name",
        "lecturers.institution",
    ]
    add_columns = CAMP_EDIT_COLUMNS
    edit_columns = CAMP_EDIT_COLUMNS
    search_columns = ["title", "session_no", "status", "starts_on", "ends_on", "place", "capacity", "unit"]
    order_columns = ["title", "session_no", "starts_on", "ends_on", "capacity"]
    label_columns = CAMP_LABELS
    description_columns = CAMP_DESCRIPTIONS
    page_size = 25

    picker = CAMPS

    @api_expose("/<int:pk>/signin-sheet", methods=["GET"])
    @protect()
    @safe
    @permission_name("get")
    def signin_sheet(self, pk):
        """The camp's sign-in sheet: an .xlsx with one row per enrolled person
        and an empty signature column (ID numbers and phones masked).
        ---
        get:
          parameters:
          - in: path
            name: pk
            schema:
              type: integer
          responses:
            200:
              description: the workbook
            404:
              $ref: '#/components/responses/404'
        """
        camp = load_scoped_camp(pk)
        if camp is None:
            return self.response_404()
        data = signin_sheet(self.datamodel.session, camp)
        return send_file(io.BytesIO(data), mimetype=XLSX_MIME, as_attachment=True, download_name=file_name(camp))


# -- enrolments -----------------------------------------------------------------------------
ENROLMENT_EDIT_COLUMNS = [
    "camp", "youth_org", "name", "gender", "phone", "resident_id", "role", "enrolled_on", "attended", "note",
]


class EnrolmentView(ScopedModelView):
    """报名与考勤: the rosters of the camps; the unit follows the camp."""

    datamodel = ScopedInterface(Enrolment)
    route_base = "/trainingenrolment"
    list_title = _l("Enrolments")
    show_title = _l("Enrolment")
    add_title = _l("Enrol a leader")
    edit_title = _l("Edit enrolment")
    list_columns = ["name", "gender_label", "phone", "resident_id", "youth_org", "role", "camp", "attended"]
    add_columns = ENROLMENT_EDIT_COLUMNS
    edit_columns = ENROLMENT_EDIT_COLUMNS
    show_columns = [
        "camp", "name", "gender_label", "phone", "resident_id", "youth_org", "role", "enrolled_on", "attended",
        "note", "unit",
    ]
    search_columns = ["name", "camp", "gender", "role", "enrolled_on", "attended"]
    search_form_extra_fields = {"gender": search_choice(ENROLMENT_LABELS["gender"], GENDERS)}
    order_columns = ["name", "role", "enrolled_on", "attended"]
    base_order = ("name", "asc")
    label_columns = ENROLMENT_LABELS
    description_columns = ENROLMENT_DESCRIPTIONS
    # "enrol a leader" from a camp's page: ?camp=<id> chooses the camp, and back to the camp
    prefill = {"camp": Camp}
    back_to = ("camp", "CampView.show")

    def __init__(self, **kwargs):
        fields = {
            "camp": CAMPS.field(ENROLMENT_LABELS["camp"]),
            "youth_org": ENROLMENT_ORGS.field(ENROLMENT_LABELS["youth_org"]),
            "gender": choice_field(ENROLMENT_LABELS["gender"], GENDERS),
            # a non-null boolean must not be "required": unticked means "no"
            "attended": flag_field(ENROLMENT_LABELS["attended"]),
        }
        self.add_form_extra_fields = dict(fields)
        self.edit_form_extra_fields = dict(fields)
        super().__init__(**kwargs)


class EnrolmentApi(TrainingApi):
    datamodel = ScopedInterface(Enrolment)
    resource_name = "trainingenrolment"
    loose_length = ("phone", "resident_id")
    list_columns = [
        "id", "camp.id", "camp.title", "camp.session_no", "name", "gender", "gender_label", "phone", "resident_id",
        "youth_org.id", "youth_org.name", "role", "enrolled_on", "attended", "trainee.id", "unit.id", "unit.code",
    ]
    show_columns = list_columns + ["note"]
    add_columns = ENROLMENT_EDIT_COLUMNS
    edit_columns = ENROLMENT_EDIT_COLUMNS
    # never filtered or ordered by phone or ID number: a filter is an oracle
    search_columns = ["camp", "name", "gender", "role", "enrolled_on", "attended", "youth_org", "unit"]
    order_columns = ["name", "role", "enrolled_on", "attended"]
    label_columns = ENROLMENT_LABELS
    description_columns = ENROLMENT_DESCRIPTIONS
    page_size = 25

    orgs = ENROLMENT_ORGS  # the organization picker of the enrolment form


# -- lecturers ---------------------------------------------------------------------------------
LECTURER_EDIT_COLUMNS = ["name", "institution", "unit", "title", "expertise", "phone", "email", "note"]


class LecturerView(ScopedModelView):
    """社会工作师资库: the whole pool for everyone; changes by the keeping unit."""

    datamodel = LecturerInterface(Lecturer)
    route_base = "/traininglecturer"
    list_title = _l("Lecturer pool")
    show_title = _l("Lecturer")
    add_title = _l("Add lecturer")
    edit_title = _l("Edit lecturer")
    list_columns = ["name", "institution", "title", "expertise", "unit", "camps_count"]
    add_columns = LECTURER_EDIT_COLUMNS
    edit_columns = LECTURER_EDIT_COLUMNS
    show_columns = ["name", "institution", "title", "expertise", "phone", "email", "unit", "camps_taught", "note"]
    search_columns = ["name", "institution", "title", "expertise"]
    order_columns = ["name", "institution", "title"]
    base_order = ("name", "asc")
    label_columns = LECTURER_LABELS
    description_columns = LECTURER_DESCRIPTIONS

    def _refuse_if_not_mine(self, pk):
        mine = lecturer_is_mine(pk)
        if mine is None:
            abort(404)
        if not mine:
            flash(not_your_lecturer(), "danger")
            return redirect(url_for(".show", pk=pk))
        return None

    @expose("/edit/<pk>", methods=["GET", "POST"])
    @has_access
    def edit(self, pk):
        return self._refuse_if_not_mine(pk) or super().edit(pk)

    @expose("/delete/<pk>", methods=["GET", "POST"])
    @has_access
    def delete(self, pk):
        return self._refuse_if_not_mine(pk) or super().delete(pk)


class LecturerApi(TrainingApi):
    datamodel = LecturerInterface(Lecturer)
    resource_name = "traininglecturer"
    loose_length = ("phone",)
    list_columns = [
        "id", "name", "institution", "title", "expertise", "phone", "email", "camps_count",
        "unit.id", "unit.code", "unit.name",
    ]
    show_columns = list_columns + ["note"]
    add_columns = LECTURER_EDIT_COLUMNS
    edit_columns = LECTURER_EDIT_COLUMNS
    search_columns = ["name", "institution", "title", "expertise", "unit"]
    order_columns = ["name", "institution", "title"]
    label_columns = LECTURER_LABELS
    description_columns = LECTURER_DESCRIPTIONS
    page_size = 25

    def _refuse_if_not_mine(self, pk):
        mine = lecturer_is_mine(pk)
        if mine is None:
            return self.response_404()
        if not mine:
            return self.response(403, message=not_your_lecturer())
        return None

    def put_headless(self, pk):
        return self._refuse_if_not_mine(pk) or super().put_headless(pk)

    def delete_headless(self, pk):
        return self._refuse_if_not_mine(pk) or super().delete_headless(pk)


# -- trainees (read-only) -----------------------------------------------------------------------
class TraineeView(PersonalDataView, ModelView):
    """学员: the people enrolled in the camps of the user's subtree, each
    once, however many camps they attended. Read-only. People belong to no
    unit, so this is a plain FAB view over the scoped TraineeInterface."""

    datamodel = TraineeInterface(Trainee)
    route_base = "/trainingtrainee"
    base_permissions = ["can_list", "can_show"]
    list_title = _l("Trainees")
    show_title = _l("Trainee")
    list_columns = ["name", "gender_label", "phone", "resident_id", "camps_attended"]
    show_columns = ["name", "gender_label", "phone", "resident_id", "camps_attended"]
    search_columns = ["name", "gender"]
    search_form_extra_fields = {"gender": search_choice(TRAINEE_LABELS["gender"], GENDERS)}
    order_columns = ["name"]
    base_order = ("name", "asc")
    label_columns = TRAINEE_LABELS
    add_columns = edit_columns = ["name"]  # never offered (read-only); FAB builds the forms anyway
    page_size = 25

    def __init__(self, **kwargs):
        self.related_views = [EnrolmentView]
        super().__init__(**kwargs)


class TraineeApi(TrainingApi):
    datamodel = TraineeInterface(Trainee)
    resource_name = "trainingtrainee"
    base_permissions = ["can_get", "can_info"]
    list_columns = ["id", "name", "gender", "gender_label", "phone", "resident_id", "camps_attended"]
    show_columns = list_columns
    add_columns = edit_columns = ["name"]  # never offered (read-only)
    search_columns = ["name", "gender"]
    order_columns = ["name"]
    label_columns = TRAINEE_LABELS
    page_size = 25

"""Rules for changing definitions, and their transfer to and from a JSON file.

Every change is a row change of ``qqh_custom_field`` / ``qqh_kpi_rule``,
recorded by the automatic session audit (core/audit/trail.py) in the same transaction."""

from __future__ import annotations

import json

from flask import has_request_context
from flask_babel import gettext
from sqlalchemy import func, inspect as sa_inspect, select

from core.lowcode import registry
from core.lowcode.models import KINDS, CustomField, KpiRule
from core.lowcode.sql import CODE_RE, condition, ensure_index, model_of_list, value_expr
from core.tenancy.scope import InvalidInput, current_scope, current_user
from core.tenancy.units import Unit

FORMAT = "qqh-lowcode"
OP_NAMES = ("eq", "in", "bool")
MEASURES = ("count", "distinct", "sum")


def kind_labels():
    from flask_babel import lazy_gettext as _l

    return {
        "text": _l("Text"), "longtext": _l("Long text"), "integer": _l("Whole number"), "amount": _l("Amount (yuan)"),
        "date": _l("Date"), "choice": _l("Single choice"), "multichoice": _l("Multiple choice"), "bool": _l("Yes/no"),
        "unit": _l("League unit"), "youthorg": _l("Youth organization"),
    }


def lists() -> dict[str, str]:
    """Every unit-owned list custom fields can be added to: table → label."""
    from flask import current_app

    out = {}
    for v in current_app.appbuilder.baseviews:
        dm = getattr(v, "datamodel", None)
        model = getattr(dm, "obj", None)
        if model is not None and hasattr(model, "qqh_fields") and getattr(model, "__qqh_unit_owned__", False):
            if getattr(model, "__qqh_list_name__", None) or model.__table__.name == "qqh_custom_record":
                continue  # the custom lists' page
            out.setdefault(model.__table__.name, str(getattr(v, "list_title", None) or model.__name__))
    for d in registry.custom_lists():
        out[d.code] = gettext("Custom list: %(name)s", name=d.name)
    return out


def _is_province() -> bool:
    from core.tenancy.security import PROVINCE_ADMIN, role_of

    return not has_request_context() or role_of(current_user()) == PROVINCE_ADMIN


def holds_data(session, model, code: str) -> int:
    return session.execute(select(func.count()).select_from(model).where(value_expr(model, code).is_not(None))).scalar()


def parse_options(value) -> list[list[str]]:
    """Options from a list of [code, label] or lines ``code=label``."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        out = []
        for line in value.splitlines():
            line = line.strip()
            if not line:
                continue
            code, sep, label = line.replace("＝", "=").partition("=")
            if not sep:
                raise InvalidInput({"options": gettext("Write each option on its own line as code=label, e.g. 1=是.")})
            out.append([code.strip(), label.strip()])
        return out
    try:
        return [[str(c), str(l)] for c, l in value]
    except (TypeError, ValueError):
        raise InvalidInput({"options": gettext("Write each option on its own line as code=label, e.g. 1=是.")}) from None


def check_field(session, f: CustomField) -> None:
    """Everything that must hold before a field definition is written;
    raises InvalidInput (nothing written) with the user's messages."""
    errors: dict[str, list[str]] = {}

    def bad(attr, msg):
        errors.setdefault(attr, []).append(msg)

    model = model_of_list(f.list_name or "")
    if model is None:
        bad("list_name", gettext("Choose a list."))
    f.code = (f.code or "").strip()
    if not CODE_RE.match(f.code):
        bad("code", gettext("A field code is 1 to 40 lowercase letters, digits or _, starting with a letter."))
    elif model is not None and (f.code in sa_inspect(model).attrs or hasattr(model, f.code) or f.code.startswith("cf_")):
        bad("code", gettext("The code %(code)s is already a column of this list: choose another.", code=f.code))
    if not (f.label or "").strip():
        bad("label", gettext("Enter the field's name."))
    if f.kind not in KINDS:
        bad("kind", gettext("Choose a type."))
    f.options = parse_options(f.options) if f.kind in ("choice", "multichoice") else None
    if f.kind in ("choice", "multichoice"):
        codes = [c for c, _ in f.options]
        if not codes:
            bad("options", gettext("A choice field needs at least one option."))
        elif len(set(codes)) != len(codes) or any(not c or not l for c, l in f.options):
            bad("options", gettext("Every option needs a code and a label, and codes must differ."))
    f.position = f.position or 0
    # who may: the province for every unit; a unit administrator for its subtree, when allowed
    state = sa_inspect(f)
    province = _is_province()
    if not province:
        scope = current_scope()
        stored_owner = state.attrs.owner_unit_id.history.deleted or state.attrs.owner_unit_id.history.unchanged
        old_owner = stored_owner[0] if stored_owner and not state.transient and not state.pending else f.owner_unit_id
        if not registry.state(session).unit_admins_may:
            raise InvalidInput(gettext("The province has not allowed unit administrators to define fields."))
        if not (state.transient or state.pending):
            owner = session.get(Unit, old_owner) if old_owner else None
            if owner is None or not scope.contains(owner):
                raise InvalidInput(gettext("This field belongs to the province (or another unit): only its owner can change it."))
        user_unit = getattr(current_user(), "unit", None)
        if f.owner_unit_id is None and f.owner_unit is None:
            f.owner_unit = user_unit
        owner = f.owner_unit or session.get(Unit, f.owner_unit_id)
        if owner is None or not scope.contains(owner):
            bad("owner_unit", gettext("You can only define fields for your own unit and the units below it."))
    if errors:
        raise InvalidInput(errors)
    # a stored field: its list, code and type are those of the values it holds
    if not (state.transient or state.pending):
        hist = {a: state.attrs[a].history for a in ("list_name", "code", "kind", "options")}
        old = {a: (h.deleted or h.unchanged or [None])[0] for a, h in hist.items()}
        if hist["list_name"].has_changes() or hist["code"].has_changes():
            old_model = model_of_list(old["list_name"] or "")
            if old_model is not None and holds_data(session, old_model, old["code"]):
                raise InvalidInput({"code": gettext("The field holds data: its list and code cannot change.")})
        if hist["kind"].has_changes() and model is not None:
            n = holds_data(session, model, f.code)
            if n:
                raise InvalidInput({"kind": gettext(
                    "%(n)d records hold a value of this field: its type cannot change (add a new field instead).", n=n)})
        if hist["options"].has_changes() and model is not None and old["options"]:
            gone = {c for c, _ in old["options"]} - {c for c, _ in f.options or ()}
            for code in sorted(gone):
                used = session.execute(select(func.count()).select_from(model).where(
                    condition(model, "cf_" + f.code, "eq", code))).scalar() if f.kind == "choice" else 0
                if used:
                    raise InvalidInput({"options": gettext(
                        "%(n)d records hold the option %(code)s: keep it.", n=used, code=code)})
    elif model is not None:
        dup = session.execute(select(CustomField.id).where(CustomField.list_name == f.list_name,
                                                           CustomField.code == f.code)).first()
        if dup:
            raise InvalidInput({"code": gettext("This list already has a field %(code)s (perhaps removed: restore it).", code=f.code)})


def after_field_written(session, f: CustomField) -> None:
    model = model_of_list(f.list_name)
    if model is not None and f.kind in ("text", "integer", "choice", "bool", "date", "unit", "youthorg"):
        ensure_index(session, model, f.code)


def check_rule(session, r: KpiRule) -> None:
    from core.kpi.engine import KEY_RE, registered_checks

    errors: dict[str, list[str]] = {}

    def bad(attr, msg):
        errors.setdefault(attr, []).append(msg)

    if not _is_province():
        raise InvalidInput(gettext("Only province administrators define KPI checks."))
    r.key = (r.key or "").strip()
    if not KEY_RE.match(r.key) or len(r.key) > 40:
        bad("key", gettext("A check key is lowercase letters, digits and _, starting with a letter."))
    else:
        stored = sa_inspect(r)
        registered = {k for k in registered_checks() if stored.transient or stored.pending or k != r.key}
        from core.lowcode.kpi import data_checks

        plugin_keys = registered - set(data_checks())
        if r.key in plugin_keys:
            bad("key", gettext("A plugin's check already has this key."))
    if not (r.label or "").strip():
        bad("label", gettext("Enter the check's name."))
    model = model_of_list(r.list_name or "")
    if model is None:
        bad("list_name", gettext("Choose a list."))
        raise InvalidInput(errors)
    # a removed check may name removed fields (an export of both imports again)
    defs = {f.attr: f for f in registry.all_fields(r.list_name, session, removed=bool(r.removed))}
    cols = {c.key: c for c in sa_inspect(model).column_attrs}

    def kind_of(name):
        if name in defs:
            return defs[name].kind
        col = cols.get(name)
        if col is None:
            return None
        t = col.columns[0].type.python_type.__name__ if hasattr(col.columns[0].type, "python_type") else ""
        return {"date": "date", "bool": "bool", "Decimal": "amount", "int": "integer", "float": "amount"}.get(t, "text")

    if kind_of(r.date_field or "") != "date":
        bad("date_field", gettext("Choose a date field of the list."))
    r.unit_of_measure = (r.unit_of_measure or "").strip()
    r.measure_field = (r.measure_field or "").strip() or None
    r.measure = r.measure or "count"
    if r.measure not in MEASURES:
        bad("measure", gettext("Choose what is counted."))
    elif r.measure == "sum" and kind_of(r.measure_field or "") not in ("amount", "integer"):
        bad("measure_field", gettext("A sum needs an amount or number field."))
    elif r.measure == "distinct" and kind_of(r.measure_field or "") is None:
        bad("measure_field", gettext("Choose the field whose distinct values are counted."))
    if r.measure == "count":
        r.measure_field = None
    conds = r.conditions
    if isinstance(conds, str):
        try:
            conds = json.loads(conds) if conds.strip() else []
        except ValueError:
            conds = None
    if not isinstance(conds, list) or not all(isinstance(c, dict) for c in conds):
        bad("conditions", gettext('Conditions are a JSON list such as [{"field": "cf_member", "op": "bool", "value": true}].'))
        conds = []
    for c in conds:
        if kind_of(str(c.get("field", ""))) is None:
            bad("conditions", gettext("Unknown field in a condition: %(field)s", field=c.get("field")))
        if c.get("op", "eq") not in OP_NAMES:
            bad("conditions", gettext("A condition's op is eq, in or bool."))
    r.conditions = [dict(field=c.get("field"), op=c.get("op", "eq"), value=c.get("value")) for c in conds]
    if errors:
        raise InvalidInput(errors)


# -- transfer ------------------------------------------------------------------------
FIELD_KEYS = ("list_name", "code", "label", "kind", "options", "required", "help", "position", "in_list", "removed")
LIST_KEYS = ("code", "name", "title_label", "description", "units", "position", "removed")
RULE_KEYS = ("key", "label", "unit_of_measure", "list_name", "measure", "measure_field", "date_field", "conditions", "removed")


def export_definitions(session) -> dict:
    fields = []
    for f, code in session.execute(select(CustomField, Unit.code).outerjoin(Unit, Unit.id == CustomField.owner_unit_id)
                                   .order_by(CustomField.list_name, CustomField.position, CustomField.id)):
        fields.append({**{k: getattr(f, k) for k in FIELD_KEYS}, "owner_unit": code})
    rules = [{k: getattr(r, k) for k in RULE_KEYS} for r in session.execute(select(KpiRule).order_by(KpiRule.id)).scalars()]
    from core.lowcode.lists import CustomList

    lists = [{k: getattr(d, k) for k in LIST_KEYS}
             for d in session.execute(select(CustomList).order_by(CustomList.position, CustomList.id)).scalars()]
    return {"format": FORMAT, "version": 1, "lists": lists, "fields": fields, "kpi_checks": rules}


def import_definitions(session, data) -> dict:
    """Create or update the definitions of ``data`` (an export), all or
    nothing: returns counts; raises InvalidInput (nothing written)."""
    if isinstance(data, (bytes, str)):
        try:
            data = json.loads(data)
        except ValueError:
            raise InvalidInput(gettext("The file is not a definitions file of 亲青汇 (JSON).")) from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise InvalidInput(gettext("The file is not a definitions file of 亲青汇 (JSON)."))
    counts = {"fields_added": 0, "fields_updated": 0, "checks_added": 0, "checks_updated": 0,
              "lists_added": 0, "lists_updated": 0}
    try:
        from core.lowcode.list_views import check_list
        from core.lowcode.lists import CustomList

        for i, d in enumerate(data.get("lists") or [], 1):  # first: the fields of a custom list name it
            if not isinstance(d, dict):
                raise InvalidInput(gettext("List %(n)d: not an object.", n=i))
            lst = session.execute(select(CustomList).where(CustomList.code == d.get("code"))).scalar_one_or_none()
            new = lst is None
            lst = lst or CustomList()
            for k in LIST_KEYS:
                if k in d:
                    setattr(lst, k, d[k])
            try:
                with session.no_autoflush:
                    check_list(session, lst)
            except InvalidInput as exc:
                raise InvalidInput(gettext("List %(n)d (%(code)s): %(why)s", n=i, code=d.get("code"), why=str(exc))) from None
            if new:
                session.add(lst)
            session.flush()
            counts["lists_added" if new else "lists_updated"] += 1
        for i, d in enumerate(data.get("fields") or [], 1):
            if not isinstance(d, dict):
                raise InvalidInput(gettext("Field %(n)d: not an object.", n=i))
            f = session.execute(select(CustomField).where(CustomField.list_name == d.get("list_name"),
                                                          CustomField.code == d.get("code"))).scalar_one_or_none()
            new = f is None
            f = f or CustomField()
            for k in FIELD_KEYS:
                if k in d:
                    setattr(f, k, d[k])
            owner = d.get("owner_unit")
            f.owner_unit = session.execute(select(Unit).where(Unit.code == owner)).scalar_one_or_none() if owner else None
            if owner and f.owner_unit is None:
                raise InvalidInput(gettext("Field %(n)d: no unit %(code)s.", n=i, code=owner))
            try:
                with session.no_autoflush:
                    check_field(session, f)
            except InvalidInput as exc:
                raise InvalidInput(gettext("Field %(n)d (%(code)s): %(why)s", n=i, code=d.get("code"), why=str(exc))) from None
            if new:
                session.add(f)
            session.flush()
            after_field_written(session, f)
            counts["fields_added" if new else "fields_updated"] += 1
        for i, d in enumerate(data.get("kpi_checks") or [], 1):
            if not isinstance(d, dict):
                raise InvalidInput(gettext("Check %(n)d: not an object.", n=i))
            r = session.execute(select(KpiRule).where(KpiRule.key == d.get("key"))).scalar_one_or_none()
            new = r is None
            r = r or KpiRule()
            for k in RULE_KEYS:
                if k in d:
                    setattr(r, k, d[k])
            try:
                with session.no_autoflush:
                    check_rule(session, r)
            except InvalidInput as exc:
                raise InvalidInput(gettext("Check %(n)d (%(code)s): %(why)s", n=i, code=d.get("key"), why=str(exc))) from None
            if new:
                session.add(r)
            session.flush()
            counts["checks_added" if new else "checks_updated"] += 1
        session.commit()
    except BaseException:
        session.rollback()
        registry.forget()
        raise
    return counts

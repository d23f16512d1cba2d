"""Importable/exportable lists of the training plugin (core's import engine
reads them through ``qqh_importables``).

* ``enrolment`` — the roster (学员名单) of camps: one row per person and camp.
  The camp is written as in exports, ``标题（第N期）``, or by its exact title
  when only one camp in reach has it; the organization by its credit code
  or exact name. A row is identified by camp, name and phone. ID numbers and
  phones are checked like every input; a masked value (from an export made
  by someone who is not a province administrator) is refused for a new row
  and keeps the stored value when it identifies an existing one.
* ``camp`` — the camps, identified by unit, title and session.
* ``lecturer`` — the lecturer pool of the units in reach.
"""

from __future__ import annotations

import datetime
import re

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from core.api import Column, Importable, ValidationError, in_scope, phone, resident_id
from plugins.cultivation.models import find_orgs, org_cell
from plugins.training.models import Camp, Enrolment, Lecturer

_CAMP_CELL = re.compile(r"(?P<title>.+?)\s*[（(]\s*第\s*(?P<n>\d+)\s*期\s*[）)]")


def camp_cell(camp) -> str:
    """How a camp is written in files (whatever the user's language)."""
    return f"{camp.title}（第{camp.session_no}期）"


def find_camps(session, texts, scope) -> dict:
    """Camps in ``scope`` written as ``标题（第N期）`` or as a title that only
    one camp in reach has: {text: Camp}. Two queries whatever the rows."""
    texts = {t for t in texts if t}
    if not texts:
        return {}
    titles = set()
    for t in texts:
        m = _CAMP_CELL.fullmatch(t)
        titles.add(m["title"].strip() if m else t.strip())
    stmt = select(Camp).where(Camp.title.in_(sorted(titles)))
    stmt = in_scope(stmt, Camp, scope)
    by_title: dict[str, list[Camp]] = {}
    for camp in session.execute(stmt).scalars():
        by_title.setdefault(camp.title, []).append(camp)
    out = {}
    for t in texts:
        m = _CAMP_CELL.fullmatch(t)
        if m:
            found = [c for c in by_title.get(m["title"].strip(), []) if c.session_no == int(m["n"])]
        else:
            found = by_title.get(t.strip(), [])
        if len(found) == 1:
            out[t] = found[0]
    return out


def _keep_masked(check):
    """A cell parser that normalises a valid value and lets a masked one
    (with *) through to the model's check, which knows the stored value."""

    def parse(text):
        try:
            return check(text)
        except ValidationError:
            if "*" in text:
                return text.strip()
            raise

    return parse


ENROLMENT = Importable(
    name="enrolment",
    model=Enrolment,
    label=_l("Training camp rosters"),
    columns=(
        Column("camp", _l("Training camp"), kind="ref", required=True, ref_many=find_camps, format=camp_cell,
               example="广东省“亲青汇训练营”（第1期）", width=32,
               help=_l("The camp as written in exports: title（第N期）; or its title when it is the only one.")),
        Column("name", _l("Trainee name"), required=True, example="陈嘉欣"),
        Column("gender", _l("Gender"), kind="enum", example="female",
               help=_l("May be left empty when the ID number is given.")),
        Column("phone", _l("Mobile phone"), required=True, parse=_keep_masked(phone),
               example="13812345678"),
        Column("resident_id", _l("Resident ID number"), parse=_keep_masked(resident_id),
               example="440606199003070025", width=22,
               help=_l("18 characters (GB 11643); optional.")),
        Column("youth_org", _l("Youth organization"), kind="ref", required=True, ref_many=find_orgs, format=org_cell,
               example="容桂街道青少年成长促进会", width=30,
               help=_l("Credit code or exact name of the organization the leader belongs to.")),
        Column("role", _l("Role in the organization"), example="会长"),
        Column("enrolled_on", _l("Enrolled on"), kind="date", example=datetime.date(2012, 3, 10)),
        Column("attended", _l("Attended"), kind="bool", example=True,
               help=_l("是 once the person came to the camp; 否 for a no-show.")),
        Column("note", _l("Remarks")),
    ),
    natural_key=("camp", "name", "phone"),
)

CAMP = Importable(
    name="camp",
    model=Camp,
    label=_l("Training camps"),
    columns=(
        Column("title", _l("Camp title"), required=True, example="佛山市“亲青汇训练营”", width=28),
        Column("session_no", _l("Session"), kind="int", required=True, example=1),
        Column("unit", _l("Organizing unit"), kind="unit", required=True, example="440600"),
        Column("starts_on", _l("First day"), kind="date", required=True, example=datetime.date(2012, 4, 20)),
        Column("ends_on", _l("Last day"), kind="date", required=True, example=datetime.date(2012, 4, 22)),
        Column("place", _l("Place"), required=True, example="佛山市南海区桂城街道"),
        Column("media_partners", _l("Media partners"), example="佛山日报"),
        Column("org_partners", _l("Social organization partners"), example="南海桂城创益中心"),
        Column("institution_partners", _l("Training institution partners"), example="佛山市社会工作学院"),
        Column("capacity", _l("Places"), kind="int", required=True, example=60),
        Column("status", _l("Camp status"), kind="enum", required=True, example="planned"),
        Column("note", _l("Remarks")),
    ),
    natural_key=("unit", "title", "session_no"),
)

LECTURER = Importable(
    name="lecturer",
    model=Lecturer,
    label=_l("Lecturer pool"),
    columns=(
        Column("name", _l("Lecturer name"), required=True, example="罗观翠"),
        Column("institution", _l("University or institution"), required=True, example="中山大学社会学与人类学学院",
               width=30),
        Column("unit", _l("Keeping unit"), kind="unit", required=True, example="440100"),
        Column("title", _l("Academic title"), example="教授"),
        Column("expertise", _l("Fields of expertise"), required=True, example="社会工作、社会组织管理", width=30),
        Column("phone", _l("Lecturer phone"), parse=phone, example="020-84112345"),
        Column("email", _l("E-mail")),
        Column("note", _l("Remarks")),
    ),
    natural_key=("unit", "name", "institution"),
)

IMPORTABLES = [CAMP, ENROLMENT, LECTURER]

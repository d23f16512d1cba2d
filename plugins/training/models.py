"""Models of the training plugin ("亲青汇训练营").

* ``Camp`` — one session (期次) of a training camp, organized by a unit.
* ``Enrolment`` — an organization leader (骨干) enrolled in a camp: the
  roster line as given (name, gender, phone, ID number, organization, role),
  whether the person attended, and the ``Trainee`` it belongs to.
* ``Trainee`` — the person behind enrolments, the same across camps: matched
  by resident ID number, else by name and phone. "Leaders trained" counts
  trainees, not enrolments; a trainee is enrolled at most once per camp.
* ``Lecturer`` — the lecturer pool (社会工作师资库), shared across units.

Scoping: a camp and its enrolments belong to the organizing unit (an
enrolment follows its camp). A trainee belongs to no unit: a person may be
trained by several units; nobody but a province administrator sees the
trainee list, and everyone else sees people only through the enrolments of
their own camps. Lecturers belong to the unit that keeps them, are readable
by every user and editable only in the owner's subtree (see views.py).

Personal data (ID numbers, phones of trainees) is declared on the models
(``__qqh_personal__``): core shows it in full to province administrators
only, masked to everyone else in lists, detail pages, the API and exports,
and never sorts, filters or searches by it (core/tenancy/personal.py).

``validate()`` holds every rule, so pages, REST API and import refuse the same
input with the same Chinese message and write nothing.
"""

from __future__ import annotations

import datetime

from flask_appbuilder import Model
from flask_babel import gettext, lazy_gettext as _l
from sqlalchemy import (
    Boolean,
    Date,
    delete,
    event,
    exists,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    inspect as sa_inspect,
    select,
    tuple_,
)
from sqlalchemy.orm import (
    Mapped,
    Session,
    column_property,
    mapped_column,
    relationship,
)

from core.api import (
    Audited,
    Choices,
    Errors,
    Limit,
    PHONE_PATTERN,
    RESIDENT_ID_PATTERN,
    Unique,
    UnitOwned,
    clock,
    current_scope,
    limits,
    phone,
    prefetched,
    resident_id,
    sees_personal_data,
    stored_value,
    session_of,
)
from plugins.cultivation.models import YouthOrg

__all__ = [
    "Camp",
    "Enrolment",
    "Trainee",
    "Lecturer",
    "CampLecturer",
    "camp_lecturer",
    "STATUSES",
    "GENDERS",
    "sees_personal_data",
]

PLANNED, OPEN, FINISHED, CANCELLED = "planned", "open", "finished", "cancelled"
STATUSES = Choices({
    PLANNED: _l("Planned"),  # 筹备中
    OPEN: _l("Open for enrolment"),  # 报名中
    FINISHED: _l("Finished"),  # 已结束
    CANCELLED: _l("Cancelled"),  # 已取消
})
# which status may follow which (a camp entered after the fact may be
# created in any status; a finished camp stays finished)
TRANSITIONS = {
    PLANNED: {OPEN, FINISHED, CANCELLED},
    OPEN: {PLANNED, FINISHED, CANCELLED},
    FINISHED: set(),
    CANCELLED: {PLANNED},
}
MALE, FEMALE = "male", "female"
GENDERS = Choices({MALE: _l("Male trainee"), FEMALE: _l("Female trainee")})
MAX_CAPACITY = 10000




def _clean(value) -> str | None:
    return (value or "").strip() or None


# -- the lecturer pool ------------------------------------------------------------------
class CampLecturer(Model):
    """Who taught at which camp (a lecturer of any unit may teach at any
    camp). A mapped class rather than a bare table so that the plugin's
    model list, and so its migration branch, covers it."""

    __tablename__ = "training_camp_lecturer"

    camp_id: Mapped[int] = mapped_column(ForeignKey("training_camp.id"), primary_key=True)
    lecturer_id: Mapped[int] = mapped_column(ForeignKey("training_lecturer.id"), primary_key=True, index=True)


camp_lecturer = CampLecturer.__table__


class Camp(UnitOwned, Model):
    """训练营: one session (期次) of a "亲青汇训练营", organized by ``unit``.

    Partners are written as names separated by 、 or commas: media (媒体),
    social organizations (社会组织) and training institutions (培训机构), as
    the notice asks the League to work with them.
    """

    __tablename__ = "training_camp"
    __table_args__ = (
        UniqueConstraint("unit_id", "title", "session_no", name="uq_training_camp_unit_title_session"),
    )
    __qqh_remember__ = ("status",)  # a finished camp stays finished
    __qqh_unique__ = (
        Unique(("unit_id", "title", "session_no"), _l("This unit already has this session of the camp."),
               field="session_no"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_no: Mapped[int] = mapped_column(Integer, nullable=False, info=limits(minimum=1))
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    starts_on: Mapped[datetime.date] = mapped_column(Date, nullable=False, index=True)
    ends_on: Mapped[datetime.date] = mapped_column(Date, nullable=False, index=True)
    place: Mapped[str] = mapped_column(String(200), nullable=False)
    media_partners: Mapped[str | None] = mapped_column(String(500))
    org_partners: Mapped[str | None] = mapped_column(String(500))
    institution_partners: Mapped[str | None] = mapped_column(String(500))
    capacity: Mapped[int] = mapped_column(Integer, nullable=False, info=limits(minimum=1, maximum=MAX_CAPACITY))
    status: Mapped[str] = mapped_column(String(20), nullable=False, default=PLANNED, info=STATUSES.info())
    note: Mapped[str | None] = mapped_column(Text)

    # written from the camp's side only (Lecturer.camps is read-only): a camp
    # being entered is never attached to a lecturer before it is checked
    lecturers = relationship("Lecturer", secondary=camp_lecturer, order_by="Lecturer.name")

    def __repr__(self) -> str:
        if self.session_no is None:
            return self.title or ""
        return gettext("%(title)s (session %(n)s)", title=self.title or "", n=self.session_no)

    @property
    def dates_text(self) -> str:
        from core.api import format_date_zh

        if self.starts_on is None:
            return ""
        if self.ends_on is None or self.ends_on == self.starts_on:
            return format_date_zh(self.starts_on)
        return f"{format_date_zh(self.starts_on)}—{format_date_zh(self.ends_on)}"

    @property
    def lecturer_names(self) -> str:
        return "、".join(lec.name for lec in self.lecturers)

    @property
    def enrolled_count(self) -> int:
        return self.n_enrolled or 0

    @property
    def attended_count(self) -> int:
        return self.n_attended or 0

    @property
    def places_left(self) -> int:
        return max((self.capacity or 0) - self.enrolled_count, 0)

    def validate(self) -> dict[str, list[str]]:
        errors = Errors()
        errors.text(self, "title", required=_l("Enter the camp's title."))
        if self.session_no is None or self.session_no < 1:
            errors.add("session_no", gettext("The session number is a whole number of 1 or more."))
        if self.starts_on is None:
            errors.add("starts_on", gettext("Enter the camp's first day."))
        if self.ends_on is None:
            errors.add("ends_on", gettext("Enter the camp's last day."))
        elif self.starts_on is not None and self.ends_on < self.starts_on:
            errors.add("ends_on", gettext("The last day cannot be before the first day."))
        errors.text(self, "place", required=_l("Enter where the camp takes place."))
        for field in ("media_partners", "org_partners", "institution_partners", "note"):
            errors.text(self, field)
        if self.capacity is None or not 0 < self.capacity <= MAX_CAPACITY:
            errors.add("capacity", gettext("The number of places must be a whole number from 1 to 10000."))
        if self.status is None:
            self.status = PLANNED
        if self.status not in STATUSES:
            errors.add("status", gettext("Choose the camp's status."))
        elif self.status == FINISHED and self.ends_on is not None and self.ends_on > clock.today():
            errors.add("status", gettext("A camp can be marked finished only once its last day has come."))
        session = session_of(self)
        if session is not None and not errors and self.id is not None:
            self._check_against_stored(session, errors)
        return errors

    def _check_against_stored(self, session, errors: dict) -> None:
        with session.no_autoflush:
            if self.id is None:
                return
            lock_camp(session, self.id)  # the same lock as an enrolment's: counted and written in one step
            old = stored_value(self, "status")
            if old is not None and old != self.status and self.status not in TRANSITIONS.get(old, set()):
                errors.add("status", gettext(
                    "A camp cannot go from %(old)s to %(new)s.", old=STATUSES.label(old), new=STATUSES.label(self.status)))
            enrolled, attended = session.execute(
                select(func.count(Enrolment.id), func.count(Enrolment.id).filter(Enrolment.attended.is_(True)))
                .where(Enrolment.camp_id == self.id)
            ).one()
            if self.capacity is not None and self.capacity < enrolled:
                errors.add("capacity", gettext(
                    "%(n)d people are enrolled already: the number of places cannot be smaller.", n=enrolled))
            if self.status == CANCELLED and attended:
                errors.add("status", gettext(
                    "%(n)d people have attended this camp: it cannot be cancelled.", n=attended))
            if attended and self.starts_on is not None and self.starts_on > clock.today():
                errors.add("starts_on", gettext(
                    "People have attended this camp already: its first day cannot be in the future."))


class Lecturer(UnitOwned, Model):
    """社会工作师资库: a lecturer (usually of a university) kept by ``unit``
    and shared with every unit, linked to the camps they taught."""

    __tablename__ = "training_lecturer"
    __table_args__ = (
        UniqueConstraint("unit_id", "name", "institution", name="uq_training_lecturer_unit_name_institution"),
    )
    __qqh_unique__ = (
        Unique(("unit_id", "name", "institution"), _l("This unit's pool already has this lecturer of this institution."),
               field="name"),
    )
    __qqh_remember__ = ("unit_id",)  # only the keeping unit's subtree may change the record

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(50), nullable=False)
    institution: Mapped[str] = mapped_column(String(200), nullable=False)
    title: Mapped[str | None] = mapped_column(String(50))  # 职称
    expertise: Mapped[str] = mapped_column(String(500), nullable=False)
    phone: Mapped[str | None] = mapped_column(String(30), info=limits(pattern=PHONE_PATTERN))
    email: Mapped[str | None] = mapped_column(String(120))
    note: Mapped[str | None] = mapped_column(Text)

    camps = relationship(Camp, secondary=camp_lecturer, viewonly=True, order_by=Camp.starts_on)

    def __repr__(self) -> str:
        if not self.institution:
            return self.name or ""
        return f"{self.name}（{self.institution}）"

    @property
    def camps_taught(self) -> str:
        """The camps taught that the viewer may see (their own subtree's)."""
        scope = current_scope()
        camps = [c for c in self.camps if scope.contains(c.unit)]
        return "、".join(f"{c!r}" for c in camps)

    @property
    def camps_count(self) -> int:
        return self.n_camps or 0

    def validate(self) -> dict[str, list[str]]:
        errors = Errors()
        errors.text(self, "name", required=_l("Enter the lecturer's name."))
        errors.text(self, "institution", required=_l("Enter the lecturer's university or institution."))
        errors.text(self, "expertise", required=_l("Enter the lecturer's fields of expertise."))
        errors.text(self, "title")
        errors.text(self, "note")
        errors.parsed(self, "phone", phone)
        errors.text(self, "email")
        if self.email is not None:
            local, _, domain = self.email.partition("@")
            if not local or "." not in domain or " " in self.email or domain.startswith(".") or domain.endswith("."):
                errors.add("email", gettext('"%(value)s" is not an e-mail address.', value=self.email))
        return errors


# -- people ---------------------------------------------------------------------------------
class Trainee(Audited, Model):
    """学员: a person trained, the same across camps and units. Created and
    matched by enrolments (see :func:`resolve_trainee`); not unit-owned."""

    __tablename__ = "training_trainee"
    __table_args__ = (
        UniqueConstraint("resident_id", name="uq_training_trainee_resident_id"),  # NULLs may repeat
        Index("ix_training_trainee_name_phone", "name", "phone"),
    )
    __qqh_unique__ = (Unique(("resident_id",), _l("Another trainee already has this ID number.")),)
    __qqh_personal__ = ("resident_id", "phone")

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(50), nullable=False)
    gender: Mapped[str | None] = mapped_column(String(10), info=GENDERS.info())
    phone: Mapped[str] = mapped_column(String(30), nullable=False, info=limits(pattern=PHONE_PATTERN))
    resident_id: Mapped[str | None] = mapped_column(String(18), info=limits(pattern=RESIDENT_ID_PATTERN))

    def __repr__(self) -> str:
        return self.name or ""

    @property
    def camps_attended(self) -> int:
        return self.n_attended or 0

    def validate(self) -> dict[str, list[str]]:
        errors = Errors()
        errors.text(self, "name", required=_l("Enter the trainee's name."))
        _check_person(self, errors)
        return errors


def _gender_of_id(number: str) -> str:
    return MALE if int(number[16]) % 2 else FEMALE


def _check_person(item, errors: dict) -> None:
    """Phone, ID number and gender of a trainee or an enrolment: normalised
    (core has put back a masked value sent back unchanged), the gender taken from the ID
    number when it is missing and checked against it when given."""
    if "*" in (item.phone or ""):
        errors.add("phone", gettext("This phone number is masked: write the full number."))
    else:
        errors.parsed(item, "phone", phone, required=_l("Enter the trainee's phone number."))
    item.resident_id = _clean(item.resident_id)
    if "*" in (item.resident_id or ""):
        errors.add("resident_id", gettext("This ID number is masked: write the full number or leave it empty."))
    else:
        errors.parsed(item, "resident_id", resident_id)
    item.gender = item.gender or None
    if item.gender is not None and item.gender not in GENDERS:
        errors.add("gender", gettext("Choose the trainee's gender."))
    elif item.resident_id and "resident_id" not in errors:
        from_id = _gender_of_id(item.resident_id)
        if item.gender is None:
            item.gender = from_id
        elif item.gender != from_id:
            errors.add("gender", gettext("The gender does not match the ID number (its 17th digit)."))


class Enrolment(UnitOwned, Model):
    """报名: a leader (骨干) of a youth organization enrolled in a camp.

    Enrolled and attended are separate facts: a no-show stays enrolled but is
    not trained. The person's data is kept as given on the roster; ``trainee``
    is the person it belongs to, found (or created) on every write. The
    unit is always the camp's (a roster belongs to the organizing unit).
    """

    __tablename__ = "training_enrolment"
    __table_args__ = (
        UniqueConstraint("camp_id", "trainee_id", name="uq_training_enrolment_camp_trainee"),
    )
    __qqh_unit_from__ = "camp"  # a roster belongs to the organizing unit
    __qqh_remember__ = ("camp_id",)
    __qqh_personal__ = ("resident_id", "phone")  # masked values sent back keep the stored ones (core)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    camp_id: Mapped[int] = mapped_column(ForeignKey("training_camp.id"), nullable=False, index=True)
    trainee_id: Mapped[int] = mapped_column(ForeignKey("training_trainee.id"), nullable=False, index=True)
    youth_org_id: Mapped[int] = mapped_column(ForeignKey("cultivation_youth_org.id"), nullable=False, index=True)
    name: Mapped[str] = mapped_column(String(50), nullable=False)
    gender: Mapped[str | None] = mapped_column(String(10), info=GENDERS.info())
    phone: Mapped[str] = mapped_column(String(30), nullable=False, info=limits(pattern=PHONE_PATTERN))
    resident_id: Mapped[str | None] = mapped_column(String(18), info=limits(pattern=RESIDENT_ID_PATTERN))
    role: Mapped[str | None] = mapped_column(String(50))  # 职务 in the organization
    enrolled_on: Mapped[datetime.date | None] = mapped_column(Date)
    attended: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    note: Mapped[str | None] = mapped_column(Text)

    # no back-references: an enrolment being entered is not attached to its
    # camp or organization before it is checked and written
    # joined: every roster line shows its camp and organization
    camp = relationship(Camp, lazy="joined")
    trainee = relationship(Trainee)
    youth_org = relationship(YouthOrg, lazy="joined")

    def __repr__(self) -> str:
        return self.name or ""

    @property
    def attended_label(self) -> str:
        return gettext("Attended") if self.attended else gettext("Enrolled, not attended")

    def validate(self) -> dict[str, list[str]]:
        errors = Errors()
        camp = self.camp
        if camp is None and self.camp_id is not None:
            session = session_of(self)
            camp = session.get(Camp, self.camp_id) if session is not None else None
        if camp is None:
            errors.add("camp", gettext("Choose the camp."))
        if self.youth_org is None and self.youth_org_id is None:
            errors.add("youth_org", gettext("Choose the youth organization the leader belongs to."))
        errors.text(self, "name", required=_l("Enter the trainee's name."))
        _check_person(self, errors)
        if self.resident_id is None and self.gender is None and "gender" not in errors:
            errors.add("gender", gettext("Choose the trainee's gender (or give the ID number)."))
        errors.text(self, "role")
        errors.text(self, "note")
        if self.enrolled_on is not None and self.enrolled_on > clock.today():
            errors.add("enrolled_on", gettext("The enrolment date cannot be in the future."))
        if self.attended is None:
            self.attended = False
        if camp is not None and self.attended:
            if camp.status == CANCELLED:
                errors.add("attended", gettext("The camp was cancelled: nobody attended it."))
            elif camp.starts_on is not None and camp.starts_on > clock.today():
                errors.add("attended", gettext("Attendance can be recorded once the camp has begun."))
        session = session_of(self)
        if not errors and session is not None:
            with session.no_autoflush:
                self._check_roster(session, camp, errors)
        if errors and session is not None:  # refused: it takes no place, nor stands for its person
            PLACES.release(session, self)
            PEOPLE.release(session, self)
        return errors

    @classmethod
    def prepare_checks(cls, session, rows: list[dict]) -> None:
        """An import's rows, before they are checked (core's hook): the camps
        locked and read, the people and their enrolments in those camps
        looked up, a few statements for the whole file instead of five per
        row. ``_check_roster`` reads them from the box (:func:`_roster_facts`)."""
        camps = {r["camp"].id for r in rows if isinstance(r.get("camp"), Camp) and r["camp"].id is not None}
        if not camps:
            return
        facts = _roster_facts(session)
        with session.no_autoflush:
            PLACES.lock(session, *camps)  # the camp's lock first (the camp's edit takes it too)
            ids = sorted(camps)
            state, taken = facts.setdefault("camps", {}), facts.setdefault("taken", {})
            for i in range(0, len(ids), 400):
                chunk = ids[i : i + 400]
                for cid, status, capacity, starts_on in session.execute(
                    select(Camp.id, Camp.status, Camp.capacity, Camp.starts_on).where(Camp.id.in_(chunk))
                ):
                    state[cid] = (status, capacity, starts_on)
                    taken[cid] = 0
                taken.update(session.execute(
                    select(Enrolment.camp_id, func.count(Enrolment.id))
                    .where(Enrolment.camp_id.in_(chunk)).group_by(Enrolment.camp_id)
                ).all())
            rids, pairs = set(), set()
            for r in rows:
                rid, name, ph = _clean(r.get("resident_id")), _clean(r.get("name")), _clean(r.get("phone"))
                if rid:
                    rids.add(rid)
                if name and ph:
                    pairs.add((name, ph))
            by_rid = facts.setdefault("by_rid", {})
            by_pair, by_pair_no_id = facts.setdefault("by_pair", {}), facts.setdefault("by_pair_no_id", {})
            found: dict[int, Trainee] = {}
            rid_list = sorted(rids)
            for i in range(0, len(rid_list), 400):
                chunk = rid_list[i : i + 400]
                by_rid.update(dict.fromkeys(chunk))
                for t in session.execute(select(Trainee).where(Trainee.resident_id.in_(chunk))).scalars():
                    by_rid[t.resident_id] = t
                    found[t.id] = t
            pair_list = sorted(pairs)
            for i in range(0, len(pair_list), 400):
                chunk = pair_list[i : i + 400]
                by_pair.update(dict.fromkeys(chunk))
                by_pair_no_id.update(dict.fromkeys(chunk))
                for t in session.execute(
                    select(Trainee).where(tuple_(Trainee.name, Trainee.phone).in_(chunk)).order_by(Trainee.id)
                ).scalars():
                    key = (t.name, t.phone)
                    if by_pair.get(key) is None:
                        by_pair[key] = t
                    if t.resident_id is None and by_pair_no_id.get(key) is None:
                        by_pair_no_id[key] = t
                    found[t.id] = t
            twins = facts.setdefault("twins", {})
            tids = sorted(found)
            for i in range(0, len(tids), 400):
                chunk = tids[i : i + 400]
                for eid, cid, tid in session.execute(
                    select(Enrolment.id, Enrolment.camp_id, Enrolment.trainee_id)
                    .where(Enrolment.trainee_id.in_(chunk), Enrolment.camp_id.in_(ids))
                ):
                    twins.setdefault((cid, tid), set()).add(eid)
            facts.setdefault("trainees", set()).update(tids)
            facts.setdefault("fresh", _NewTrainees(session))

    def _check_roster(self, session, camp, errors: dict) -> None:
        """The person, the duplicate and the capacity checks (need the database;
        an import read it ahead for all its rows: ``prepare_checks``)."""
        new_in_camp = self.id is None or stored_value(self, "camp_id") != camp.id
        facts = _roster_facts(session)
        # the camp's lock first (the camp's edit takes it too), then its state as committed
        lock_camp(session, camp.id)
        if camp.id in facts.get("camps", {}):
            status, capacity, starts_on = facts["camps"][camp.id]
        else:
            status, capacity, starts_on = session.execute(
                select(Camp.status, Camp.capacity, Camp.starts_on).where(Camp.id == camp.id)
            ).one()
        if new_in_camp and status == CANCELLED:
            errors.add("camp", gettext("The camp was cancelled: it takes no more enrolments."))
            return
        if self.attended and status == CANCELLED:
            errors.add("attended", gettext("The camp was cancelled: nobody attended it."))
            return
        if self.attended and starts_on is not None and starts_on > clock.today():
            errors.add("attended", gettext("Attendance can be recorded once the camp has begun."))
            return
        self.trainee = resolve_trainee(session, self)
        if self.trainee.id is None:
            same_person = False
        elif camp.id in facts.get("camps", {}) and self.trainee.id in facts.get("trainees", ()):
            same_person = bool(facts["twins"].get((camp.id, self.trainee.id), set()) - {self.id})
        else:
            twins = select(Enrolment.id).where(Enrolment.camp_id == camp.id)
            if self.id is not None:
                twins = twins.where(Enrolment.id != self.id)
            same_person = session.execute(twins.where(Enrolment.trainee_id == self.trainee.id).limit(1)).first()
        person = (camp.id, id(self.trainee))
        others_same = PEOPLE.pending(session, person, leave_out=self)  # rows of this import not written yet
        if same_person or others_same > 0:
            errors.add("name", gettext(
                "%(name)s is enrolled in this camp already (the same ID number, or the same name and phone).",
                name=self.name))
            return
        if new_in_camp:  # a place taken: the stored enrolments and this import's new ones count
            taken = facts["taken"][camp.id] if camp.id in facts.get("taken", {}) else session.execute(
                select(func.count(Enrolment.id)).where(Enrolment.camp_id == camp.id)
            ).scalar_one()
            if not PLACES.reserve(session, self, camp.id, limit=capacity, used=taken):
                errors.add("camp", gettext(
                    "The camp is full: all %(n)d places are taken.", n=capacity))
                return
        else:  # its place is stored already
            PLACES.release(session, self)
        PEOPLE.reserve(session, self, person)


def _roster_facts(session) -> dict:
    """What ``Enrolment.prepare_checks`` read ahead for an import's rows, as
    stored (none for a single enrolment): camps' state and enrolment counts,
    trainees by ID number and by name and phone (None: looked up, none
    stored), and the enrolments of those trainees in those camps."""
    return prefetched(session, "training.roster")


# a camp's places, taken by enrolments under the camp's row lock, and who is
# enrolled in which camp: the rows of an import checked and not written yet
# count too (core.api.Limit)
PLACES = Limit("training.places", Camp)
PEOPLE = Limit("training.people")  # key: (camp id, id(trainee)), the duplicate check


def lock_camp(session, camp_id: int) -> None:
    """Serialise enrolments into one camp, and changes of the camp, until the
    transaction ends, so that two requests cannot both take the last place,
    nor cut the places below the enrolments (core.tenancy.locks)."""
    PLACES.lock(session, camp_id)


def resolve_trainee(session, person) -> Trainee:
    """The trainee an enrolment (``person``: name, gender, phone, resident_id)
    belongs to: the one with the same ID number; else the one with the same
    name and phone (which learns the ID number if it had none); else a new
    trainee, added to the session. Trainees created earlier in the same
    transaction (rows of one import) are found too."""
    rid, name, ph = person.resident_id, person.name, person.phone
    facts = _roster_facts(session)
    fresh = facts.get("fresh")  # an import keeps its new trainees indexed: no scan of session.new per row
    if fresh is None:
        fresh = _NewTrainees(session)

    def stored(box: str, key, query):  # query: built only when the box does not know the answer
        known = facts.get(box)
        if known is not None and key in known:
            return known[key]
        return session.execute(query()).scalar_one_or_none()

    if rid:
        found = fresh.by_rid.get(rid) or stored(
            "by_rid", rid, lambda: select(Trainee).where(Trainee.resident_id == rid))
        if found is not None:
            return found
        found = fresh.by_pair_no_id.get((name, ph)) or stored(
            "by_pair_no_id", (name, ph),
            lambda: select(Trainee)
            .where(Trainee.name == name, Trainee.phone == ph, Trainee.resident_id.is_(None))
            .order_by(Trainee.id)
            .limit(1),
        )
        if found is not None:
            found.resident_id = rid
            found.gender = found.gender or person.gender
            fresh.learned_id(found)
            return found
    else:
        found = fresh.by_pair.get((name, ph)) or stored(
            "by_pair", (name, ph),
            lambda: select(Trainee).where(Trainee.name == name, Trainee.phone == ph).order_by(Trainee.id).limit(1),
        )
        if found is not None:
            return found
    trainee = Trainee(name=name, gender=person.gender, phone=ph, resident_id=rid)
    session.add(trainee)
    fresh.add(trainee)
    return trainee


class _NewTrainees:
    """The trainees added to the session and not written yet, by ID number
    and by name and phone."""

    def __init__(self, session):
        self.by_rid, self.by_pair, self.by_pair_no_id = {}, {}, {}
        for t in session.new:
            if isinstance(t, Trainee):
                self.add(t)

    def add(self, t) -> None:
        if t.resident_id:
            self.by_rid.setdefault(t.resident_id, t)
        else:
            self.by_pair_no_id.setdefault((t.name, t.phone), t)
        self.by_pair.setdefault((t.name, t.phone), t)

    def learned_id(self, t) -> None:
        if self.by_pair_no_id.get((t.name, t.phone)) is t:
            del self.by_pair_no_id[(t.name, t.phone)]
        if sa_inspect(t).pending or sa_inspect(t).transient:
            self.by_rid.setdefault(t.resident_id, t)


# -- no trainee without an enrolment ----------------------------------------------------
_FORMER = "training.former_trainees"


@event.listens_for(Session, "before_flush")
def _note_former_trainees(session, _context, _instances) -> None:
    """The trainees that edited or deleted enrolments belonged to (an edit of
    the phone or ID number may move the enrolment to another person)."""
    former = None
    for item in list(session.dirty) + list(session.deleted):
        if isinstance(item, Enrolment):
            tid = sa_inspect(item).attrs.trainee_id.loaded_value
            if isinstance(tid, int):
                former = former if former is not None else session.info.setdefault(_FORMER, set())
                former.add(tid)


@event.listens_for(Session, "after_flush")
def _drop_orphan_trainees(session, _context) -> None:
    """A person left without any enrolment is deleted with the flush that
    left them so: no trainee row (with its personal data) stays behind."""
    former = session.info.pop(_FORMER, None)
    if former:
        session.execute(
            delete(Trainee)
            .where(Trainee.id.in_(sorted(former)), ~exists().where(Enrolment.trainee_id == Trainee.id))
            .execution_options(synchronize_session=False)
        )


# figures shown with every camp, computed in the same SELECT (no query per
# row); read through the plain properties above (FAB's forms and schemas
# only understand table columns and properties)
Camp.n_enrolled = column_property(
    select(func.count(Enrolment.id)).where(Enrolment.camp_id == Camp.id).correlate_except(Enrolment).scalar_subquery()
)
Camp.n_attended = column_property(
    select(func.count(Enrolment.id))
    .where(Enrolment.camp_id == Camp.id, Enrolment.attended.is_(True))
    .correlate_except(Enrolment)
    .scalar_subquery()
)
Lecturer.n_camps = column_property(
    select(func.count(CampLecturer.camp_id))
    .where(CampLecturer.lecturer_id == Lecturer.id)
    .correlate_except(CampLecturer)
    .scalar_subquery()
)
Trainee.n_attended = column_property(
    select(func.count(Enrolment.id))
    .where(Enrolment.trainee_id == Trainee.id, Enrolment.attended.is_(True))
    .correlate_except(Enrolment)
    .scalar_subquery()
)

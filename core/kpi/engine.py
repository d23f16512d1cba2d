"""KPI checks, targets as data, and their set-based evaluation over the unit tree.

A check is what a plugin registers through ``qqh_kpi_checks``. It is
set-based: ``query(plan_year, as_of)`` returns ONE SQLAlchemy select of rows
``(unit_id, value)`` grouped by owning unit (``rollup="sum"``) or of distinct
``(unit_id, member)`` pairs (``rollup="distinct"``, for counts of people that
must not be summed from children). Core rolls the figures up the unit tree,
so a unit's value covers its whole subtree.

A target (:class:`KpiTarget`, a row admins edit) says: in plan year Y, units
of tier T must reach threshold N on check C by date D — either counted over
the plan year up to D (``period="year"``), or within each quarter
(``period="quarter"``: the quarter containing the as-of date is evaluated).

Evaluation (:func:`evaluate`) runs at most ONE statement per check, whatever
the number of units or due dates: the check's select for each cut-off date is
wrapped, tagged and joined to the unit paths, and the cut-offs are glued with
UNION ALL. Checks that are plain grouped counts or sums of the same table
share ONE scan of it for all their cut-offs (conditional aggregates,
:func:`_fused_scans`). The roll-up along the unit paths is done in Python.
"""

from __future__ import annotations

import datetime
import re
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Callable, Iterable

from flask import current_app
from flask_appbuilder import Model
from flask_babel import gettext, lazy_gettext as _l
from sqlalchemy import Column, Date, Float, Integer, String, Table, UniqueConstraint, case, func, literal, or_, select, true, union_all
from sqlalchemy.sql import visitors
from sqlalchemy.sql.elements import Label
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.sql.selectable import Exists, ScalarSelect, Select, TableClause
from sqlalchemy.orm import Mapped, mapped_column

from core.values import clock
from core.kpi import live as kpilive
from core.tenancy.records import Audited
from core.tenancy.units import Unit, subtree_of


@dataclass(frozen=True)
class KpiCheck:
    key: str
    label: Any  # lazy gettext string
    unit_of_measure: Any
    query: Callable[[int, datetime.date], Any]
    rollup: str = "sum"  # or "distinct"
    # tables the figures depend on beyond those the query names (see core.kpi.live)
    depends_on: tuple[str, ...] = ()
    # its place in tables and dashboards (the notice's order); checks without one come after, by key
    position: int | None = None


@dataclass(frozen=True)
class TargetSpec:
    """A default target from the notice: for ``tier`` units, ``check`` must
    reach ``threshold`` by ``due``; ``period`` is None, "year" or "quarter"."""

    check: str
    tier: str
    threshold: float
    due: datetime.date
    period: str | None = None
    scope: str = "own"  # whose records count: "own" (本级) or "subtree" (含下级)
    first_quarter: int = 1  # quarterly targets: the first quarter that counts


# -- vocabulary -------------------------------------------------------------------
# Target tiers. A unit matches "all", its plain tier (city, county, ...), its
# KPI tier (prd_city, nonprd_county, ...) and, for 本科高校, "undergraduate".
TARGET_TIERS = {
    "all": _l("Every unit"),
    "province": _l("Province"),
    "city": _l("Every city"),
    "prd_city": _l("PRD city"),
    "nonprd_city": _l("Non-PRD city"),
    "county": _l("Every county"),
    "prd_county": _l("PRD county"),
    "nonprd_county": _l("Non-PRD county"),
    "town": _l("Town"),
    "university": _l("University"),
    "undergraduate": _l("Undergraduate university"),
    "direct": _l("Provincial direct unit"),
}
PERIODS = {
    "year": _l("Plan year up to the due date"),
    "quarter": _l("Every quarter"),
}
# whose records count for a target: the unit's own (本级), or its whole
# subtree (含下级: its own and every unit's below it, distinct people once)
OWN, SUBTREE = "own", "subtree"
SCOPES = {
    OWN: _l("Own records only"),
    SUBTREE: _l("Including the units below"),
}
# what a target counts: the records as entered, or the figures of the last approved submission (报送通过)
ENTERED, APPROVED = "entered", "approved"
COUNTS = {ENTERED: _l("As entered"), APPROVED: _l("As approved (last approved submission)")}
MET, IN_PROGRESS, OVERDUE, NOT_APPLICABLE = "met", "in_progress", "overdue", "n_a"
STATUSES = {
    MET: _l("Met"),
    IN_PROGRESS: _l("In progress"),
    OVERDUE: _l("Overdue"),
    NOT_APPLICABLE: _l("Not applicable"),
}
# class names of core/static/qqh/qqh.css, and the same colours for charts
STATUS_CSS = {MET: "met", IN_PROGRESS: "progress", OVERDUE: "overdue", NOT_APPLICABLE: "na"}
STATUS_COLOURS = {MET: "#5cb85c", IN_PROGRESS: "#f0ad4e", OVERDUE: "#d9534f", NOT_APPLICABLE: "#aaaaaa"}
STATUS_HELP = {
    MET: _l("threshold reached"),
    IN_PROGRESS: _l("not reached, not due yet"),
    OVERDUE: _l("due and not reached"),
    NOT_APPLICABLE: _l("the module that counts it is not installed"),
}
KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


def unit_target_tiers(unit) -> set[str]:
    """Every target tier that applies to ``unit``."""
    tiers = {"all", unit.tier, unit.kpi_tier}
    if unit.tier == "university" and unit.undergraduate:
        tiers.add("undergraduate")
    return tiers


# -- targets as data -----------------------------------------------------------------
class KpiTarget(Audited, Model):
    """考核目标: in ``plan_year``, units of ``tier`` must reach ``threshold``
    on check ``check_key`` by ``due`` (or in every quarter)."""

    __tablename__ = "qqh_kpi_target"
    __table_args__ = (UniqueConstraint("plan_year", "check_key", "tier", "due", "period"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_year: Mapped[int] = mapped_column(Integer, nullable=False, index=True)
    check_key: Mapped[str] = mapped_column(String(64), nullable=False)
    tier: Mapped[str] = mapped_column(String(20), nullable=False)
    threshold: Mapped[float] = mapped_column(Float, nullable=False)
    due: Mapped[datetime.date] = mapped_column(Date, nullable=False)
    period: Mapped[str] = mapped_column(String(10), nullable=False, default="year")
    # whose records count (OWN or SUBTREE), and for quarterly targets the
    # first quarter of the plan year that counts (e.g. 2 when the plan began in March)
    scope: Mapped[str] = mapped_column(String(10), nullable=False, default=OWN, server_default=OWN)
    first_quarter: Mapped[int] = mapped_column(Integer, nullable=False, default=1, server_default="1")
    # ENTERED: the records as entered; APPROVED: the figure of the unit's last approved submission (core/reporting/reports.py)
    counts: Mapped[str] = mapped_column(String(10), nullable=False, default="entered", server_default="entered")

    def validate(self) -> dict[str, str]:
        errors = {}
        if not isinstance(self.plan_year, int) or not 2000 <= self.plan_year <= 2100:
            errors["plan_year"] = gettext("The plan year must be a year between 2000 and 2100.")
        if not KEY_RE.match(self.check_key or ""):
            errors["check_key"] = gettext(
                "The check key is written in lower-case letters, digits and _ (for example check_1)."
            )
        if self.tier not in TARGET_TIERS:
            errors["tier"] = gettext("Choose a tier from the list.")
        if self.threshold is None or self.threshold < 0:
            errors["threshold"] = gettext("The threshold must be a number of zero or more.")
        if self.due is None:
            errors["due"] = gettext("Enter the due date.")
        elif isinstance(self.plan_year, int) and self.due.year != self.plan_year:
            errors["due"] = gettext("The due date must lie in the plan year.")
        if (self.period or "year") not in PERIODS:
            errors["period"] = gettext("Choose a period from the list.")
        if self.scope is None:
            self.scope = OWN
        if self.scope not in SCOPES:
            errors["scope"] = gettext("Choose whose records count from the list.")
        if self.first_quarter is None:
            self.first_quarter = 1
        if self.counts is None:
            self.counts = ENTERED
        if self.counts not in COUNTS:
            errors["counts"] = gettext("Choose what the target counts from the list.")
        if not isinstance(self.first_quarter, int) or not 1 <= self.first_quarter <= 4:
            errors["first_quarter"] = gettext("The first quarter that counts is a number from 1 to 4.")
        return errors

    @property
    def tier_label(self) -> str:
        return str(TARGET_TIERS.get(self.tier, self.tier))

    @property
    def period_label(self) -> str:
        return str(PERIODS.get(self.period, self.period))

    @property
    def check_label(self) -> str:
        return check_label(self.check_key)

    @property
    def scope_label(self) -> str:
        return str(SCOPES.get(self.scope, self.scope))

    def __repr__(self) -> str:
        return f"{self.plan_year} {self.check_key} {self.tier} ≥{self.threshold:g} {self.due}"

    def __str__(self) -> str:
        """As people read it (the audit log's label, pickers): 2012 直接联系的青年社会组织 地级市 ≥50 2012年6月30日."""
        from core.web.display import date_text

        threshold = f"{self.threshold:g}" if isinstance(self.threshold, (int, float)) else self.threshold
        return f"{self.plan_year} {self.check_label} {self.tier_label} ≥{threshold} {date_text(self.due)}"


def _d(year: int, month: int, day: int | None = None) -> datetime.date:
    """``day`` None: the last day of the month ("by M-end")."""
    if day is None:
        nxt = datetime.date(year + (month == 12), month % 12 + 1, 1)
        return nxt - datetime.timedelta(days=1)
    return datetime.date(year, month, day)


def load_default_targets(plan_year: int, session=None) -> int:
    """Load the notice's targets for ``plan_year`` (what the enabled plugins
    ship for their checks through ``qqh_default_targets``: an area's targets
    arrive with its plugin) and the default assessment indicators.
    Idempotent: rows that exist are left as they are (an admin may have
    edited them). Returns the number of targets added."""
    from core.kpi import assessment

    session = session or current_app.appbuilder.session
    specs: list[TargetSpec] = []
    registry = current_app.extensions.get("qqh_plugins")
    if registry is not None:
        for extra in registry.hook.qqh_default_targets(plan_year=plan_year):
            specs.extend(extra or ())
    existing = {
        (t.check_key, t.tier, t.due, t.period)
        for t in session.execute(select(KpiTarget).where(KpiTarget.plan_year == plan_year)).scalars()
    }
    added = 0
    for s in specs:
        key = (s.check, s.tier, s.due, s.period or "year")
        if key in existing:
            continue
        existing.add(key)
        session.add(
            KpiTarget(
                plan_year=plan_year, check_key=s.check, tier=s.tier, threshold=float(s.threshold), due=s.due,
                period=s.period or "year", scope=s.scope, first_quarter=s.first_quarter,
            )
        )
        added += 1
    session.flush()
    assessment.load_default_indicators(plan_year, session)
    session.commit()
    return added


# -- the registry of checks -------------------------------------------------------------
def registered_checks(app=None) -> dict[str, KpiCheck]:
    """Checks of the enabled plugins, by key (a key used twice fails loudly)."""
    app = app or current_app
    cached = _plugin_checks(app)
    from core.lowcode.kpi import data_checks  # checks defined as data (core/lowcode), read per request

    extra = data_checks()
    return {**cached, **{k: c for k, c in extra.items() if k not in cached}} if extra else cached


def _plugin_checks(app) -> dict[str, KpiCheck]:
    cached = app.extensions.get("qqh_kpi_checks")
    if cached is None:
        registry = app.extensions["qqh_plugins"]
        pairs = registry.collect("qqh_kpi_checks", "KPI check", key=lambda c: c.key)
        cached = {c.key: c for _p, c in pairs}
        app.extensions["qqh_kpi_checks"] = cached
        app.extensions["qqh_kpi_check_plugins"] = {c.key: p for p, c in pairs}
    return cached


def check_plugins(app=None) -> dict[str, str]:
    """check key → the plugin that registers it."""
    app = app or current_app
    registered_checks(app)
    return app.extensions.get("qqh_kpi_check_plugins", {})


def check_label(key: str, checks: dict[str, KpiCheck] | None = None) -> str:
    if checks is None:
        try:
            checks = registered_checks()
        except RuntimeError:  # no app
            checks = {}
    if key in checks:
        return str(checks[key].label)
    dormant = _dormant_check(key)
    return str(dormant.label) if dormant is not None else key  # no installed plugin knows it


def _dormant_check(key: str) -> KpiCheck | None:
    """The check ``key`` of an installed plugin that is not enabled (its targets show 不适用, under its
    label), or None."""
    try:
        app = current_app._get_current_object()
    except RuntimeError:  # no app
        return None
    cached = app.extensions.get("qqh_dormant_checks")
    if cached is None:
        registry = app.extensions["qqh_plugins"]
        cached = {c.key: c for _p, items in registry.call_disabled("qqh_kpi_checks") for c in items or ()}
        app.extensions["qqh_dormant_checks"] = cached
    return cached.get(key)


LAST = 1 << 30


def check_order(key: str) -> tuple:
    """Sort key of a check: its ``position`` (the notice's order), then its key."""
    try:
        position = getattr(_plugin_checks(current_app).get(key), "position", None)
    except RuntimeError:  # no app
        position = None
    return (LAST if position is None else position, key)


# -- dates -------------------------------------------------------------------------
def quarter_of(day: datetime.date, plan_year: int) -> tuple[int, datetime.date, datetime.date]:
    """The quarter of ``plan_year`` that ``day`` falls in (clamped to the year):
    (number, first day, last day)."""
    if day.year < plan_year:
        q = 1
    elif day.year > plan_year:
        q = 4
    else:
        q = (day.month - 1) // 3 + 1
    start = datetime.date(plan_year, 3 * q - 2, 1)
    return q, start, _d(plan_year, 3 * q)


def default_as_of(plan_year: int, today: datetime.date | None = None) -> datetime.date:
    """Today, or the plan year's last day once the year is over."""
    today = today or clock.today()
    return min(today, datetime.date(plan_year, 12, 31))


# -- evaluation ---------------------------------------------------------------------
def _number(v):
    if v is None:
        return None
    f = float(v)
    return int(f) if f.is_integer() else round(f, 2)


def unit_paths(session, root: Unit | None) -> dict[int, str]:
    """id → path of every unit under ``root`` (None: all): one query."""
    stmt = select(Unit.id, Unit.path)
    if root is not None:
        stmt = stmt.where(subtree_of(root.path))
    return dict(session.connection().execute(stmt).all())


def compute_values(
    session,
    plan_year: int,
    cutoffs: dict[str, Iterable[datetime.date]],
    checks: dict[str, KpiCheck],
    root: Unit | None,
    wanted: set[str],
    paths: dict[int, str] | None = None,
    own: dict | None = None,
) -> dict[tuple[str, datetime.date, str], Any]:
    """Values of checks at cut-off dates for the units whose codes are in
    ``wanted``, each covering its whole subtree (含下级). ``root`` limits the
    records read to its subtree (None: everything); ``paths`` (unit id → path
    of the units under ``root``) is read when not given. ONE statement per check.

    Returns {(check key, cut-off, unit code): number (sum) or set (distinct)}.
    When ``own`` is a dict, the same pass fills it with the values of the
    records each wanted unit owns itself (本级), with the same keys.
    """
    if paths is None:
        paths = unit_paths(session, root)
    restrict = root is not None and root.parent_id is not None
    ancestors: dict[int, list[str]] = {}

    def wanted_above(unit_id: int) -> list[str]:
        codes = ancestors.get(unit_id)
        if codes is None:
            path = paths.get(unit_id)
            codes = ancestors[unit_id] = [c for c in path.split("/") if c in wanted] if path else []
        return codes

    codes_of: dict[int, str | None] = {}

    def wanted_self(unit_id: int) -> str | None:
        if unit_id not in codes_of:
            path = paths.get(unit_id)
            code = path[:-1].rsplit("/", 1)[-1] if path else None
            codes_of[unit_id] = code if code in wanted else None
        return codes_of[unit_id]

    out: dict[tuple[str, datetime.date, str], Any] = {}
    # plain grouped counts and sums of one table share ONE scan (conditional aggregates)
    fused = _fused_scans(plan_year, cutoffs, checks)
    for unit_col, entries, stmt in fused:
        if restrict:
            stmt = stmt.where(unit_col.in_(select(Unit.id).where(subtree_of(root.path))))
        acc = defaultdict(int)
        for unit_id, *values in session.connection().execute(stmt):
            above = wanted_above(unit_id)
            mine = wanted_self(unit_id) if own is not None else None
            for (key, cutoff), value in zip(entries, values):
                if not value:  # no record (NULL sum) or none counted: nothing to add
                    continue
                for code in above:
                    acc[(key, cutoff, code)] += value
                if mine is not None:
                    own[(key, cutoff, mine)] = own.get((key, cutoff, mine), 0) + value
        out.update(acc)
    done = {key for _c, entries, _s in fused for key, _d in entries}
    for key, dates in cutoffs.items():
        if key in done:
            continue
        check = checks[key]
        dates = sorted(set(dates))
        if not dates:
            continue
        parts = []
        for i, cutoff in enumerate(dates):
            sq = check.query(plan_year, cutoff).subquery()
            unit_col, value_col = list(sq.c)[:2]
            part = select(literal(i).label("k"), unit_col, value_col)
            if restrict:
                part = part.where(unit_col.in_(select(Unit.id).where(subtree_of(root.path))))
            parts.append(part)
        stmt = parts[0] if len(parts) == 1 else union_all(*parts)
        # Core (no ORM work per row), iterated (no list of every row kept alive)
        rows = session.connection().execute(stmt)
        if check.rollup == "distinct":
            # members per owning unit first, then whole sets up the paths
            mine: dict[tuple[int, int], set] = defaultdict(set)
            for k, unit_id, member in rows:
                mine[(k, unit_id)].add(member)
            acc: dict[tuple[int, str], Any] = defaultdict(set)
            for (k, unit_id), members in mine.items():
                for code in wanted_above(unit_id):
                    acc[(k, code)].update(members)
                if own is not None and (code := wanted_self(unit_id)) is not None:
                    own[(key, dates[k], code)] = set(members)
        else:
            acc = defaultdict(int)
            for k, unit_id, value in rows:
                if value is not None:
                    for code in wanted_above(unit_id):
                        acc[(k, code)] += value
                    if own is not None and (code := wanted_self(unit_id)) is not None:
                        own[(key, dates[k], code)] = own.get((key, dates[k], code), 0) + value
        for (k, code), v in acc.items():
            out[(key, dates[k], code)] = v
    return out


def _plain_aggregate(stmt):
    """(unit column, "count"/"sum", its argument or None, WHERE or None) of a
    check's select when it is a plain ``SELECT unit, COUNT(x)|SUM(x) FROM one
    table WHERE … GROUP BY unit`` (no join, subquery, DISTINCT, HAVING,
    LIMIT); else None."""
    if not isinstance(stmt, Select) or stmt._having_criteria or stmt._distinct or stmt._setup_joins or stmt._from_obj:
        return None
    if stmt._limit_clause is not None or stmt._offset_clause is not None or len(stmt._group_by_clauses) != 1:
        return None
    cols = list(stmt.selected_columns)
    if len(cols) != 2:
        return None
    unit_col, agg = cols
    if isinstance(agg, Label):
        agg = agg.element
    if not isinstance(unit_col, Column) or not isinstance(unit_col.table, Table):
        return None
    if not isinstance(agg, FunctionElement) or agg.name.lower() not in ("count", "sum"):
        return None
    args = list(agg.clauses)
    name = agg.name.lower()
    if len(args) > 1 or (name == "sum" and not args):
        return None
    if not stmt._group_by_clauses[0].compare(unit_col):
        return None
    # one table, read once: no other table and no subquery anywhere in it
    tables = set()
    for e in visitors.iterate(stmt):
        if isinstance(e, (Select, ScalarSelect, Exists)) and e is not stmt:
            return None
        if isinstance(e, TableClause):
            tables.add(e)
    if tables != {unit_col.table}:
        return None
    arg = args[0] if args else None
    if isinstance(arg, Label):
        arg = arg.element
    if getattr(arg, "is_literal", False) and getattr(arg, "name", None) == "*":  # COUNT(*)
        arg = None
    return unit_col, name, arg, stmt.whereclause


def _fused_scans(plan_year: int, cutoffs: dict, checks: dict) -> list[tuple]:
    """For the sum checks whose selects are plain grouped counts or sums of
    a table (:func:`_plain_aggregate`), ONE statement per table and unit
    column for all of them and all their cut-offs: ``SELECT unit,
    COUNT(CASE WHEN w1 THEN x END), SUM(CASE WHEN w2 THEN y END), … FROM t
    WHERE w1 OR w2 … GROUP BY unit``. Exact: COUNT(x) over the rows where w
    holds is COUNT(CASE WHEN w THEN x END) over any larger set of rows, SUM
    likewise (NULL where no row counts, as no row). Returns [(unit column,
    [(check key, cut-off)], statement)], only where it reads a table once
    instead of several times (two or more (check, cut-off) pairs)."""
    groups: dict[tuple, list] = {}
    for key, dates in cutoffs.items():
        check = checks[key]
        dates = sorted(set(dates))
        if check.rollup != "sum" or not dates:
            continue
        parts = []
        for cutoff in dates:
            plain = _plain_aggregate(check.query(plan_year, cutoff))
            if plain is None:
                break
            parts.append((cutoff, plain))
        else:
            unit_col = parts[0][1][0]
            groups.setdefault((unit_col.table, unit_col.name), []).append((key, parts))
    out = []
    for (_table, _name), members in groups.items():
        entries = [(key, cutoff, plain) for key, parts in members for cutoff, plain in parts]
        if len(entries) < 2:
            continue
        unit_col = entries[0][2][0]
        aggregates, wheres = [], []
        for _key, _cutoff, (_u, name, arg, where) in entries:
            cond = true() if where is None else where
            wheres.append(where)
            if name == "count":
                aggregates.append(func.count(case((cond, literal(1) if arg is None else arg))))
            else:
                aggregates.append(func.sum(case((cond, arg))))
        stmt = select(unit_col, *aggregates).group_by(unit_col)
        if all(w is not None for w in wheres):
            stmt = stmt.where(or_(*wheres))
        out.append((unit_col, [(key, cutoff) for key, cutoff, _p in entries], stmt))
    return out


class ReportUnit:
    """The columns of a unit that a report needs (lighter than the ORM object)."""

    __slots__ = ("id", "code", "name", "level", "tier", "prd", "undergraduate", "parent_id", "path", "depth")

    def __init__(self, row):  # a row of these columns, in this order
        (self.id, self.code, self.name, self.level, self.tier, self.prd, self.undergraduate, self.parent_id,
         self.path, self.depth) = row

    kpi_tier = Unit.kpi_tier

    def __repr__(self) -> str:
        return f"{self.name}（{self.code}）"


@dataclass
class ReportRow:
    unit: ReportUnit
    target: ReportTarget  # the target's columns
    label: str
    unit_of_measure: str
    value: Any
    status: str
    due: datetime.date
    quarter: int | None = None
    missed_quarters: list[int] = field(default_factory=list)
    own_value: Any = None  # 本级: records the unit owns itself
    subtree_value: Any = None  # 含下级: its whole subtree (people once)
    entered_value: Any = None  # a target counted as approved: the value as entered, when it differs

    @cached_property  # read for every cell, chart point and ranking of a page: once per row
    def threshold(self):
        return _number(self.target.threshold)

    @property
    def scope(self) -> str:
        return self.target.scope or OWN

    @property
    def scope_label(self) -> str:
        return str(SCOPES.get(self.scope, self.scope))

    @property
    def values_differ(self) -> bool:
        """本级 and 含下级 differ: both are worth showing."""
        return self.own_value is not None and self.own_value != self.subtree_value

    @property
    def status_label(self) -> str:
        return str(STATUSES[self.status])

    @property
    def period_text(self) -> str:
        if not self.quarter:
            return ""
        text = gettext("Q%(q)s %(year)s", q=self.quarter, year=self.target.plan_year)
        if self.missed_quarters:
            missed = "、".join(str(k) for k in self.missed_quarters)
            text += gettext(" (quarters missed: %(quarters)s)", quarters=missed)
        return text

    def as_dict(self, statuses: dict | None = None, scopes: dict | None = None) -> dict:
        """``statuses``/``scopes``: their labels translated once for a whole report."""
        return {
            "unit": self.unit.code,
            "unit_name": self.unit.name,
            "tier": self.unit.kpi_tier,
            "check": self.target.check_key,
            "label": self.label,
            "unit_of_measure": self.unit_of_measure,
            "value": self.value,
            "target": self.threshold,
            "due": self.due.isoformat(),
            "period": self.target.period,
            "quarter": self.quarter,
            "missed_quarters": self.missed_quarters,
            "status": self.status,
            "status_label": statuses[self.status] if statuses else self.status_label,
            "scope": self.scope,
            "scope_label": scopes.get(self.scope, self.scope) if scopes else self.scope_label,
            "own_value": self.own_value,
            "subtree_value": self.subtree_value,
            "counts": self.target.counts or ENTERED,
            "entered_value": self.entered_value,
        }


@dataclass
class Report:
    plan_year: int
    as_of: datetime.date
    root: Unit
    units: list[ReportUnit]  # root first, then the units below it that are reported
    rows: list[ReportRow] = field(default_factory=list)
    # {(check, before, end, unit code): (own, subtree)}: the values the report was built from (with
    # ``after_due``, also those up to the as-of date of the year targets already due)
    figures: dict = field(default_factory=dict, repr=False)

    def as_dicts(self) -> list[dict]:
        """The rows as ``ReportRow.as_dict`` gives them; what a unit's or a
        target's rows share is read once per unit and per target, not per row
        (a province report has some 600 rows of 120 units and 10 targets)."""
        statuses = {k: str(v) for k, v in STATUSES.items()}
        scopes = {k: str(v) for k, v in SCOPES.items()}
        of_unit: dict[int, dict] = {}
        of_target: dict[int, dict] = {}
        out = []
        for r in self.rows:
            u = of_unit.get(id(r.unit))
            if u is None:
                u = of_unit[id(r.unit)] = {"unit": r.unit.code, "unit_name": r.unit.name, "tier": r.unit.kpi_tier}
            t = of_target.get(id(r.target))
            if t is None:
                target = r.target
                scope = target.scope or OWN
                t = of_target[id(target)] = {
                    "check": target.check_key, "target": r.threshold, "period": target.period, "scope": scope,
                    "scope_label": scopes.get(scope, scope), "counts": target.counts or ENTERED,
                }
            out.append({
                "unit": u["unit"], "unit_name": u["unit_name"], "tier": u["tier"], "check": t["check"],
                "label": r.label, "unit_of_measure": r.unit_of_measure, "value": r.value, "target": t["target"],
                "due": r.due.isoformat(), "period": t["period"], "quarter": r.quarter,
                "missed_quarters": r.missed_quarters, "status": r.status, "status_label": statuses[r.status],
                "scope": t["scope"], "scope_label": t["scope_label"], "own_value": r.own_value,
                "subtree_value": r.subtree_value, "counts": t["counts"], "entered_value": r.entered_value,
            })
        return out


class ReportTarget:
    """The columns of a target that a report reads (a report reads them for
    each of its hundreds of rows: plain attributes cost less than the ORM's)."""

    __slots__ = ("id", "plan_year", "check_key", "tier", "threshold", "due", "period", "scope", "first_quarter",
                 "counts")

    def __init__(self, row):  # a row of these columns, in this order
        (self.id, self.plan_year, self.check_key, self.tier, self.threshold, self.due, self.period, self.scope,
         self.first_quarter, self.counts) = row


def _targets(session, plan_year: int) -> list[ReportTarget]:
    cols = [getattr(KpiTarget, a) for a in ReportTarget.__slots__]
    return [ReportTarget(r) for r in session.execute(select(*cols).where(KpiTarget.plan_year == plan_year))]


def _subtree_units(session, root: Unit, max_depth: int | None = None) -> list[ReportUnit]:
    """Every unit under ``root`` (itself included; down to ``max_depth`` when
    given), shallowest first: one query."""
    cols = [getattr(Unit, a) for a in ReportUnit.__slots__]
    stmt = select(*cols).where(subtree_of(root.path))
    if max_depth is not None:
        stmt = stmt.where(Unit.depth <= max_depth)
    rows = session.connection().execute(stmt.order_by(Unit.depth, Unit.code)).all()
    return [ReportUnit(r) for r in rows]


def evaluate(
    session,
    plan_year: int,
    root: Unit,
    as_of: datetime.date,
    *,
    depth: int | None = 1,
    checks: dict[str, KpiCheck] | None = None,
    today: datetime.date | None = None,
    live: bool | None = None,
    after_due: bool = False,
) -> Report:
    """Status of every target of ``plan_year`` for ``root`` and the units
    below it (``depth`` levels: 1 = its children; None = the whole subtree)
    as of ``as_of``.

    Whose records count is the target's ``scope``: the unit's own (本级) or
    its whole subtree (含下级); both values are computed in the same pass and
    reported (``own_value``, ``subtree_value``), ``value`` is the one counted.

    A year target is judged on the records dated up to min(as_of, due): met
    once the value reaches the threshold, in progress while not yet due,
    overdue after. A quarterly target shows the quarter containing ``as_of``
    (value = records of that quarter up to ``as_of``, due at the quarter's
    end; never before the target's ``first_quarter``) and its status; the
    quarters already over that fell short are listed apart
    (``missed_quarters``). Asking with a date inside a past quarter shows that
    quarter. Once the plan year is over (``today``, default the core clock, or
    ``as_of`` after its last day) nothing is in progress: an unmet target is
    overdue, and so is a quarterly one with a missed quarter. A target whose
    check is not registered is "not applicable".

    SQL: one query for the units, one for the targets, one per check
    (whatever the number of units, due dates or quarters) — or, when the
    figures are kept (:mod:`core.kpi.live`; ``live`` None: as the app's
    QQH_KPI_LIVE says), two instead of the checks: the table versions and
    the kept figures; only the checks whose tables changed are computed.
    ``after_due``: also the values up to ``as_of`` of the year targets already
    due, in the same read (``Report.figures``: the dashboard's "after the due date").
    """
    checks = registered_checks() if checks is None else checks
    today = today or clock.today()
    year_end = datetime.date(plan_year, 12, 31)
    year_over = today > year_end or as_of > year_end
    units = _subtree_units(session, root, None if depth is None else root.depth + depth)
    # the paths of the whole subtree: read only when figures must be computed
    paths = {u.id: u.path for u in units} if depth is None else None
    targets = _targets(session, plan_year)
    targets.sort(key=lambda t: (check_order(t.check_key), t.period, t.due, t.tier))

    # per target, the windows to count: (day before the window or None for
    # "since the plan year began", last day counted), its quarter and due date
    prepared: dict[str, list[tuple]] = defaultdict(list)  # tier → [(order, target, windows, quarter, due)]
    for order, t in enumerate(targets):
        if t.period == "quarter":
            first = min(max(t.first_quarter or 1, 1), 4)
            q, q_start, q_end = quarter_of(as_of, plan_year)
            if q < first:  # before the first quarter that counts: show that one
                q, q_start, q_end = quarter_of(datetime.date(plan_year, 3 * first, 1), plan_year)
            windows = {}
            for k in range(first, q):  # the quarters already over
                _k, k_start, k_end = quarter_of(datetime.date(plan_year, 3 * k, 1), plan_year)
                windows[k] = (k_start - datetime.timedelta(days=1), k_end)
            windows[q] = (q_start - datetime.timedelta(days=1), min(as_of, q_end))
            due = q_end
        else:
            q, due = None, t.due
            windows = {None: (None, min(as_of, t.due))}
        prepared[t.tier].append((order, t, windows, q, due))

    # which targets apply to which unit, and the cut-offs each check needs
    plan: list[tuple] = []  # (unit, target, windows, quarter, due)
    used: set[int] = set()
    from core.tenancy.modules import off_by_unit

    off = off_by_unit(session, units)  # a unit that switched a module off has none of its targets
    owner = check_plugins() if off else {}
    by_tiers: dict[frozenset, list] = {}  # the targets of a combination of tiers, sorted: once per combination
    for unit in units:
        tiers = frozenset(unit_target_tiers(unit))
        mine = by_tiers.get(tiers)
        if mine is None:
            mine = by_tiers[tiers] = sorted(p for tier in tiers for p in prepared.get(tier, ()))
        for order, t, windows, q, due in mine:
            if off.get(unit.id) and owner.get(t.check_key) in off[unit.id]:
                continue
            plan.append((unit, t, windows, q, due))
            used.add(order)
    cutoffs: dict[str, set[datetime.date]] = defaultdict(set)
    for entries in prepared.values():
        for order, t, windows, _q, _due in entries:
            if order in used and t.check_key in checks:
                for before, end in windows.values():
                    cutoffs[t.check_key].add(end)
                    if before is not None:
                        cutoffs[t.check_key].add(before)

    # the figures of every (check, window, unit) the plan needs: kept ones
    # where current, computed (one statement per check) where not
    needed: dict[str, set[tuple]] = defaultdict(set)
    for unit, t, windows, _q, _due in plan:
        if t.check_key in checks:
            for before, end in windows.values():
                needed[t.check_key].add((before, end, unit.code))
            if after_due and _q is None and as_of > _due:
                needed[t.check_key].add((None, as_of, unit.code))
    values = kpilive.figures(session, plan_year, needed, checks, root, paths, live=live)

    def count(check: KpiCheck, code: str, before, end, scope=SUBTREE):
        if before is not None and end <= before:  # asked before the window began
            return 0
        own_value, subtree_value = values.get((check.key, before, end, code), (0, 0))
        return _number(own_value if scope == OWN else subtree_value)

    labels = {k: (str(c.label), str(c.unit_of_measure)) for k, c in checks.items() if k in cutoffs}
    approved = {}
    as_approved = {t.check_key for t in targets if t.counts == APPROVED and t.check_key in checks}
    if as_approved:
        from core.reporting.reports import approved_figures

        approved = approved_figures(session, plan_year, as_approved, {u.id for u, *_r in plan})
    report = Report(plan_year, as_of, root, units, figures=values)
    # what every row of a target reads of it, read once (the ORM's attributes cost more than a tuple's)
    facts = {id(t): (t.check_key, t.scope or OWN, t.counts, t.threshold) for t in targets}
    for unit, t, windows, q, due in plan:
        check_key, scope, counts, threshold = facts[id(t)]
        check = checks.get(check_key)
        if check is None:
            if check_key not in labels:
                dormant = _dormant_check(check_key)
                labels[check_key] = (check_label(check_key, checks),
                                     str(dormant.unit_of_measure) if dormant is not None else "")
            report.rows.append(ReportRow(unit, t, *labels[check_key], None, NOT_APPLICABLE, due, q))
            continue
        code = unit.code
        before, end = windows[q]
        if before is not None and end <= before:  # asked before the window began
            own_value = subtree_value = 0
        else:
            own_value, subtree_value = values.get((check_key, before, end, code), (0, 0))
            own_value, subtree_value = _number(own_value), _number(subtree_value)
        value = own_value if scope == OWN else subtree_value
        entered = None
        if counts == APPROVED and q is None:  # the figure of the last approved submission (0 before any)
            figure = approved.get((check_key, unit.id), {})
            entered, value = value, _number(figure.get("own" if scope == OWN else "subtree") or 0)
            own_value, subtree_value = _number(figure.get("own") or 0), _number(figure.get("subtree") or 0)
            entered = entered if entered != value else None
        # the quarters already over that fell short are listed apart
        missed = [] if q is None else [
            k for k, w in windows.items() if k != q and count(check, code, *w, scope) < threshold
        ]
        if value >= threshold:
            status = MET
        elif as_of <= due and not year_over:
            status = IN_PROGRESS
        else:
            status = OVERDUE
            if q is not None:
                missed.append(q)
        if missed and year_over:  # the year is over: every quarter had to be met
            status = OVERDUE
        report.rows.append(
            ReportRow(unit, t, *labels[t.check_key], value, status, due, q, missed, own_value, subtree_value, entered)
        )
    return report


def plan_years(session) -> list[int]:
    return sorted(session.execute(select(KpiTarget.plan_year).distinct()).scalars())


def default_plan_year(session, today: datetime.date | None = None) -> int:
    """The latest plan year with targets that has begun; else the latest one;
    else this year."""
    today = today or clock.today()
    years = plan_years(session)
    started = [y for y in years if y <= today.year]
    if started:
        return started[-1]
    return years[-1] if years else today.year


def top_unit(session) -> Unit | None:
    return session.execute(select(Unit).where(Unit.parent_id.is_(None)).order_by(Unit.code).limit(1)).scalar_one_or_none()


# -- export ---------------------------------------------------------------------------
STATUS_FILLS = {MET: "DFF0D8", IN_PROGRESS: "FCF8E3", OVERDUE: "F2DEDE", NOT_APPLICABLE: "EEEEEE"}


def report_headers() -> list[str]:
    return [
        gettext("Unit"), gettext("Code"), gettext("KPI tier"), gettext("Check"), gettext("Value"),
        gettext("Target"), gettext("Unit of measure"), gettext("Due"), gettext("Period"), gettext("Status"),
        gettext("Records counted"), str(SCOPES[OWN]), str(SCOPES[SUBTREE]),
    ]


def report_table(report: Report) -> list[list]:
    rows = []
    for r in report.rows:
        rows.append([
            r.unit.name, r.unit.code, str(TARGET_TIERS.get(r.unit.kpi_tier, r.unit.kpi_tier)), r.label,
            r.value, r.threshold, r.unit_of_measure, r.due, r.period_text, r.status_label,
            r.scope_label if r.status != NOT_APPLICABLE else None, r.own_value, r.subtree_value,
        ])
    return rows


def report_xlsx(report: Report) -> bytes:
    """The report as an Excel workbook (one sheet, status cells coloured)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill

    wb = Workbook()
    ws = wb.active
    ws.title = str(report.plan_year)
    from core.web.display import date_text  # a date in a title as on the pages: 2012年3月5日

    ws.append([gettext("%(unit)s: KPI progress %(year)s, as of %(date)s", unit=report.root.name, year=report.plan_year, date=date_text(report.as_of))])
    ws["A1"].font = Font(bold=True, size=13)
    ws.append(report_headers())
    for cell in ws[2]:
        cell.font = Font(bold=True)
    for r, values in zip(report.rows, report_table(report)):
        ws.append(values)
        row = ws.max_row
        ws.cell(row=row, column=8).number_format = "yyyy-mm-dd"
        ws.cell(row=row, column=10).fill = PatternFill("solid", fgColor=STATUS_FILLS[r.status])
    for col, width in zip("ABCDEFGHIJKLM", (22, 10, 14, 26, 10, 10, 10, 12, 14, 10, 14, 10, 12)):
        ws.column_dimensions[col].width = width
    ws.freeze_panes = "A3"
    from core.excel.workbooks import save_workbook  # every cell neutralised

    return save_workbook(wb)

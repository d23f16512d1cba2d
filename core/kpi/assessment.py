"""The December assessment (督查考核): weighted scores per unit, manual
adjustments with a reason and an author, ranking within each tier, and a
publish step after which nothing can change.

Indicators and weights are data (:class:`AssessmentIndicator`, one set per
plan year; the defaults are the notice's focus items that the enabled plugins
ship through ``qqh_default_indicators``). A unit's score on
an indicator is computed from its KPI value at the assessment date and its
target: the indicator's own target when set, else the unit's KPI target for
the same check (a quarterly target counts four times over the year):

* ``ratio``: min(value / target, 1) × weight
* ``reached``: the full weight once value ≥ target, else 0

An indicator whose check is not installed, or for which the unit has no
target, is not applicable to that unit: it adds nothing to the score nor to
the maximum. One whose check is not installed is said so ("not assessed,
module not installed", :func:`not_installed`) on the page and in the export,
and totals are shown out of the points actually assessed (``max_points``)
as well as out of the full marks (the sum of the weights of the indicators).
Whose records count is the unit's KPI target's scope (本级 or 含下级). Cities and counties are assessed, ranked within their KPI tier
(PRD city, non-PRD city, PRD county, non-PRD county).
"""

from __future__ import annotations

import datetime
import json
from collections import defaultdict

from flask import current_app
from flask_appbuilder import Model
from flask_babel import gettext, lazy_gettext as _l
from sqlalchemy import Date, DateTime, Float, ForeignKey, Integer, String, Text, UniqueConstraint, delete, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.values import clock
from core.kpi.engine import KEY_RE, OWN, TARGET_TIERS, KpiTarget, compute_values, registered_checks, unit_target_tiers
from core.tenancy.scope import ALL, InvalidInput, Scope
from core.tenancy.records import Audited
from core.tenancy.units import Unit
from core.values.validators import format_date_zh

DRAFT, PUBLISHED = "draft", "published"
ASSESSMENT_STATUSES = {DRAFT: _l("Draft"), PUBLISHED: _l("Published")}
ASSESSED_LEVELS = ("city", "county")
TIER_ORDER = ["prd_city", "nonprd_city", "prd_county", "nonprd_county"]
METHODS = {
    "ratio": _l("Share of the target reached × weight"),
    "reached": _l("Full weight once the target is reached"),
}
# what a plugin's qqh_default_indicators() returns: dicts of exactly these keys
INDICATOR_KEYS = ("key", "label", "check", "weight", "method", "position")


NOT_INSTALLED = _l("Not assessed (module not installed)")


def not_installed(indicators, checks=None) -> list:
    """The indicators whose check no installed module provides."""
    checks = registered_checks() if checks is None else checks
    return [i for i in indicators if i.check_key not in checks]


def full_points(indicators) -> float:
    """Full marks: the sum of the weights (normally 100)."""
    return round(sum(float(i.weight) for i in indicators), 2)


class AssessmentLocked(InvalidInput):
    """The assessment of the year has been published."""

    def __init__(self, plan_year: int):
        super().__init__(
            gettext("The %(year)s assessment has been published: its scores can no longer change.", year=plan_year)
        )


def _session():
    return current_app.appbuilder.session


def is_published(session, plan_year: int) -> bool:
    status = session.execute(select(Assessment.status).where(Assessment.plan_year == plan_year)).scalar_one_or_none()
    return status == PUBLISHED


class AssessmentIndicator(Audited, Model):
    """考核指标: one weighted item of the December assessment of a plan year."""

    __tablename__ = "qqh_assessment_indicator"
    __table_args__ = (UniqueConstraint("plan_year", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_year: Mapped[int] = mapped_column(Integer, nullable=False, index=True)
    key: Mapped[str] = mapped_column(String(40), nullable=False)
    label: Mapped[str] = mapped_column(String(100), nullable=False)
    check_key: Mapped[str] = mapped_column(String(64), nullable=False)
    weight: Mapped[float] = mapped_column(Float, nullable=False)
    method: Mapped[str] = mapped_column(String(10), nullable=False, default="ratio")
    target: Mapped[float | None] = mapped_column(Float, nullable=True)
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)

    def validate(self) -> dict[str, str]:
        errors = {}
        if not isinstance(self.plan_year, int) or not 2000 <= self.plan_year <= 2100:
            errors["plan_year"] = gettext("The plan year must be a year between 2000 and 2100.")
        elif is_published(_session(), self.plan_year):
            errors["plan_year"] = str(AssessmentLocked(self.plan_year))
        if not KEY_RE.match(self.key or ""):
            errors["key"] = gettext("The key is written in lower-case letters, digits and _ (for example item_1).")
        if not (self.label or "").strip():
            errors["label"] = gettext("Enter the indicator's name.")
        if not KEY_RE.match(self.check_key or ""):
            errors["check_key"] = gettext(
                "The check key is written in lower-case letters, digits and _ (for example check_1)."
            )
        if self.weight is None or not 0 < self.weight <= 100:
            errors["weight"] = gettext("The weight must be more than 0 and at most 100.")
        if self.method not in METHODS:
            errors["method"] = gettext("Choose a scoring method from the list.")
        if self.target is not None and self.target < 0:
            errors["target"] = gettext("The target must be a number of zero or more.")
        return errors

    @property
    def method_label(self) -> str:
        return str(METHODS.get(self.method, self.method))

    @property
    def check_label(self) -> str:
        """The KPI check in words (its label, not its key)."""
        from core.kpi.engine import check_label

        return check_label(self.check_key)

    def __repr__(self) -> str:
        return f"{self.plan_year} {self.label}"


class Assessment(Model):
    """督查考核 of one plan year: draft until published, then frozen."""

    __tablename__ = "qqh_assessment"
    __qqh_title__ = _l("December assessment")
    __qqh_labels__ = {"plan_year": _l("Plan year"), "as_of": _l("As of"), "status": _l("Status"),
                      "computed_on": _l("Computed on"), "published_on": _l("Published on"),
                      "published_by": _l("Published by")}

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_year: Mapped[int] = mapped_column(Integer, nullable=False, unique=True)
    as_of: Mapped[datetime.date] = mapped_column(Date, nullable=False)
    status: Mapped[str] = mapped_column(String(10), nullable=False, default=DRAFT)
    computed_on: Mapped[datetime.datetime | None] = mapped_column(DateTime)
    published_on: Mapped[datetime.datetime | None] = mapped_column(DateTime)
    published_by_fk: Mapped[int | None] = mapped_column(Integer, ForeignKey("ab_user.id"))
    published_by = relationship("User", foreign_keys=[published_by_fk])

    @property
    def status_label(self) -> str:
        return str(ASSESSMENT_STATUSES.get(self.status, self.status))


class AssessmentScore(Model):
    """A unit's computed score (and, once published, its final score and rank)."""

    __tablename__ = "qqh_assessment_score"
    __table_args__ = (UniqueConstraint("assessment_id", "unit_id"),)
    __qqh_title__ = _l("Assessment score")  # the audit log's names (no page lists these rows)
    __qqh_labels__ = {"assessment": _l("December assessment"), "unit": _l("Unit"), "tier": _l("Tier"),
                      "points": _l("Points"), "max_points": _l("Full marks"), "details": _l("Details"),
                      "final_points": _l("Total"), "rank": _l("Rank")}

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("qqh_assessment.id"), nullable=False, index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("qqh_unit.id"), nullable=False)
    tier: Mapped[str] = mapped_column(String(20), nullable=False)
    points: Mapped[float] = mapped_column(Float, nullable=False)
    max_points: Mapped[float] = mapped_column(Float, nullable=False)
    details: Mapped[str] = mapped_column(Text, nullable=False, default="{}")
    final_points: Mapped[float | None] = mapped_column(Float)
    rank: Mapped[int | None] = mapped_column(Integer)
    unit = relationship(Unit)


class ScoreAdjustment(Model):
    """A manual change of a unit's score, with the reason and who made it."""

    __tablename__ = "qqh_score_adjustment"
    __qqh_title__ = _l("Score adjustment")
    __qqh_labels__ = {"assessment": _l("December assessment"), "unit": _l("Unit"), "points": _l("Adjustment"),
                      "reason": _l("Reason"), "made_by": _l("Made by"), "made_on": _l("Made on")}

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("qqh_assessment.id"), nullable=False, index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("qqh_unit.id"), nullable=False)
    points: Mapped[float] = mapped_column(Float, nullable=False)
    reason: Mapped[str] = mapped_column(String(500), nullable=False)
    made_by_fk: Mapped[int | None] = mapped_column(Integer, ForeignKey("ab_user.id"))
    made_on: Mapped[datetime.datetime] = mapped_column(DateTime, nullable=False)
    unit = relationship(Unit)
    made_by = relationship("User", foreign_keys=[made_by_fk])


# -- indicators -------------------------------------------------------------------------
def default_indicators() -> list[dict]:
    """The indicators the enabled plugins ship (``qqh_default_indicators``),
    in the notice's order; a wrong shape fails loudly, naming the plugin."""
    from core.plugins import PluginError

    registry = current_app.extensions["qqh_plugins"]
    out = []
    for plugin, items in registry.call("qqh_default_indicators"):
        for item in items or ():
            if not isinstance(item, dict) or set(item) != set(INDICATOR_KEYS) or item["method"] not in METHODS:
                raise PluginError(
                    f"Plugin {plugin!r}: qqh_default_indicators() must return dicts with exactly the keys "
                    f"{', '.join(INDICATOR_KEYS)} (method one of {', '.join(METHODS)}), not {item!r}."
                )
            out.append(item)
    out.sort(key=lambda i: i["position"])
    return out


def load_default_indicators(plan_year: int, session=None) -> int:
    """The notice's focus items for ``plan_year`` that the enabled plugins
    ship (idempotent; existing indicators are kept as edited). Returns the
    number added."""
    from flask_babel import force_locale

    session = session or _session()
    have = set(session.execute(select(AssessmentIndicator.key).where(AssessmentIndicator.plan_year == plan_year)).scalars())
    added = 0
    # labels are data: written in the deployment's language, whoever loads them
    with force_locale(current_app.config.get("BABEL_DEFAULT_LOCALE", "zh")):
        for spec in default_indicators():
            key, label, check, weight, method, pos = (spec[k] for k in INDICATOR_KEYS)
            if key in have:
                continue
            session.add(
                AssessmentIndicator(
                    plan_year=plan_year, key=key, label=str(label), check_key=check, weight=float(weight), method=method,
                    position=pos,
                )
            )
            added += 1
    session.flush()
    return added


def indicators_of(session, plan_year: int) -> list[AssessmentIndicator]:
    return list(
        session.execute(
            select(AssessmentIndicator)
            .where(AssessmentIndicator.plan_year == plan_year)
            .order_by(AssessmentIndicator.position, AssessmentIndicator.id)
        ).scalars()
    )


def get_assessment(session, plan_year: int) -> Assessment | None:
    return session.execute(select(Assessment).where(Assessment.plan_year == plan_year)).scalar_one_or_none()


# -- scoring ---------------------------------------------------------------------------
def indicator_score(method: str, weight: float, value: float, target: float) -> float:
    if method == "reached":
        return float(weight) if value >= target else 0.0
    if target <= 0:
        return float(weight)
    return round(min(value / target, 1.0) * weight, 2)


def _unit_target(targets: list[KpiTarget], check_key: str, unit: Unit) -> float | None:
    """The unit's yearly target for a check: its latest-due target (a
    quarterly threshold counts four times)."""
    tiers = unit_target_tiers(unit)
    mine = [t for t in targets if t.check_key == check_key and t.tier in tiers]
    if not mine:
        return None
    t = max(mine, key=lambda t: (t.due, t.period == "year"))
    return t.threshold * 4 if t.period == "quarter" else t.threshold


def _unit_target_row(targets: list[KpiTarget], check_key: str, unit: Unit) -> KpiTarget | None:
    tiers = unit_target_tiers(unit)
    mine = [t for t in targets if t.check_key == check_key and t.tier in tiers]
    return max(mine, key=lambda t: (t.due, t.period == "year")) if mine else None


def compute(session, plan_year: int, as_of: datetime.date | None = None) -> Assessment:
    """(Re)compute every assessed unit's score for ``plan_year`` at ``as_of``
    (default: the year's last day). Adjustments are kept. Refused once
    published. SQL: a fixed number of statements plus one per check."""
    assessment = get_assessment(session, plan_year)
    if assessment is not None and assessment.status == PUBLISHED:
        raise AssessmentLocked(plan_year)
    indicators = indicators_of(session, plan_year)
    if not indicators:
        raise InvalidInput(
            gettext("There are no assessment indicators for %(year)s: load the defaults or add some first.", year=plan_year)
        )
    as_of = as_of or datetime.date(plan_year, 12, 31)
    if assessment is None:
        assessment = Assessment(plan_year=plan_year, as_of=as_of, status=DRAFT)
        session.add(assessment)
    assessment.as_of = as_of
    session.flush()

    checks = registered_checks()
    units = list(session.execute(select(Unit).where(Unit.tier.in_(ASSESSED_LEVELS))).scalars())
    targets = list(session.execute(select(KpiTarget).where(KpiTarget.plan_year == plan_year)).scalars())
    cutoffs = {i.check_key: {as_of} for i in indicators if i.check_key in checks}
    own_values: dict = {}
    values = compute_values(session, plan_year, cutoffs, checks, None, {u.code for u in units}, own=own_values)

    session.execute(delete(AssessmentScore).where(AssessmentScore.assessment_id == assessment.id))
    rows = []
    for unit in units:
        points = max_points = 0.0
        details = {}
        for ind in indicators:
            check = checks.get(ind.check_key)
            target = ind.target if ind.target is not None else _unit_target(targets, ind.check_key, unit)
            if check is None or target is None:
                details[ind.key] = {
                    "applicable": False, "value": None, "target": target, "score": None, "weight": ind.weight,
                    "not_installed": check is None,
                }
                continue
            kpi_target = _unit_target_row(targets, ind.check_key, unit)
            source = own_values if (kpi_target.scope if kpi_target is not None else OWN) == OWN else values
            raw = source.get((ind.check_key, as_of, unit.code), set() if check.rollup == "distinct" else 0)
            value = float(len(raw) if check.rollup == "distinct" else raw)
            score = indicator_score(ind.method, ind.weight, value, float(target))
            points += score
            max_points += ind.weight
            details[ind.key] = {"applicable": True, "value": value, "target": target, "score": score, "weight": ind.weight}
        rows.append(
            dict(
                assessment_id=assessment.id, unit_id=unit.id, tier=unit.kpi_tier, points=round(points, 2),
                max_points=round(max_points, 2), details=json.dumps(details, ensure_ascii=False),
            )
        )
    if rows:
        session.execute(AssessmentScore.__table__.insert(), rows)
    assessment.computed_on = clock.now()
    session.commit()
    return assessment


def _parse_points(points) -> float:
    try:
        value = float(str(points).strip().replace("＋", "+").replace("－", "-"))
    except (TypeError, ValueError):
        raise InvalidInput({"points": gettext("The adjustment must be a number of points, e.g. 2 or -1.5.")}) from None
    if value != value or value in (float("inf"), float("-inf")) or value == 0 or abs(value) > 100:
        raise InvalidInput({"points": gettext("The adjustment must be a non-zero number between -100 and 100.")})
    return round(value, 2)


def add_adjustment(session, plan_year: int, unit_code: str, points, reason: str, user=None, scope=ALL) -> ScoreAdjustment:
    """Adjust a unit's score by ``points`` for ``reason`` (both required).
    ``scope``: the :class:`~core.tenancy.scope.Scope` the author is limited to."""
    assessment = get_assessment(session, plan_year)
    if assessment is None:
        raise InvalidInput(gettext("The %(year)s assessment has not been computed yet.", year=plan_year))
    if assessment.status == PUBLISHED:
        raise AssessmentLocked(plan_year)
    errors: dict[str, str] = {}
    unit = session.execute(select(Unit).where(Unit.code == (unit_code or "").strip())).scalar_one_or_none()
    if unit is None or not Scope.of(scope).contains(unit):
        errors["unit"] = gettext("No unit of yours has this code.")
    else:
        scored = session.execute(
            select(AssessmentScore.id).where(AssessmentScore.assessment_id == assessment.id, AssessmentScore.unit_id == unit.id)
        ).first()
        if scored is None:
            errors["unit"] = gettext("This unit is not assessed (only cities and counties are).")
    reason = (reason or "").strip()
    if len(reason) < 2:
        errors["reason"] = gettext("Give the reason for the adjustment.")
    elif len(reason) > 500:
        errors["reason"] = gettext("The reason is too long (at most 500 characters).")
    try:
        value = _parse_points(points)
    except InvalidInput as exc:
        errors.update({k: v[0] for k, v in exc.messages.items()})
    if errors:
        raise InvalidInput(errors)
    adj = ScoreAdjustment(
        assessment_id=assessment.id, unit_id=unit.id, points=value, reason=reason,
        made_by_fk=getattr(user, "id", None), made_on=clock.now(),
    )
    session.add(adj)
    session.commit()
    return adj


def sees_drafts() -> bool:
    """Draft scores and adjustments are the province's: a province
    administrator's request, or a command (no request)."""
    from flask import has_request_context

    from core.tenancy.scope import current_user
    from core.tenancy.security import PROVINCE_ADMIN, role_of

    return not has_request_context() or role_of(current_user()) == PROVINCE_ADMIN


def results(session, plan_year: int, scope: Scope | None = None) -> dict:
    """Scores, adjustments, totals and ranks (within each tier) of a year;
    ``scope`` limits the rows shown, never the ranking. Until it is
    published, only the province sees them (``hidden`` for everyone else).
    A fixed number of queries."""
    assessment = get_assessment(session, plan_year)
    indicators = indicators_of(session, plan_year)
    out = {"plan_year": plan_year, "assessment": assessment, "indicators": indicators, "rows": [], "adjustments": [], "hidden": False}
    if assessment is None:
        return out
    if assessment.status != PUBLISHED and not sees_drafts():
        out["hidden"] = True
        return out
    scores = list(
        session.execute(
            select(AssessmentScore, Unit).join(Unit, Unit.id == AssessmentScore.unit_id).where(AssessmentScore.assessment_id == assessment.id)
        ).all()
    )
    adjustments = list(
        session.execute(
            select(ScoreAdjustment, Unit)
            .join(Unit, Unit.id == ScoreAdjustment.unit_id)
            .where(ScoreAdjustment.assessment_id == assessment.id)
            .order_by(ScoreAdjustment.made_on, ScoreAdjustment.id)
        ).all()
    )
    adjusted: dict[int, float] = defaultdict(float)
    for adj, _unit in adjustments:
        adjusted[adj.unit_id] += adj.points
    rows = []
    for score, unit in scores:
        adjustment = round(adjusted.get(unit.id, 0.0), 2)
        total = score.final_points if score.final_points is not None else round(score.points + adjustment, 2)
        rows.append(
            {
                "unit": unit.code, "unit_name": unit.name, "path": unit.path, "tier": score.tier,
                "tier_label": str(TARGET_TIERS.get(score.tier, score.tier)), "points": score.points,
                "adjustment": adjustment, "total": total, "max_points": score.max_points,
                "rank": score.rank, "details": json.loads(score.details or "{}"),
            }
        )
    if assessment.status != PUBLISHED:
        rank_rows(rows)
    rows.sort(key=lambda r: (TIER_ORDER.index(r["tier"]) if r["tier"] in TIER_ORDER else 99, r["rank"], r["unit"]))
    scope = Scope.of(scope)
    if not scope.everything:
        rows = [r for r in rows if scope.contains(r["path"])]
        adjustments = [(a, u) for a, u in adjustments if scope.contains(u)]
    out["rows"] = rows
    out["adjustments"] = adjustments
    return out


def rank_rows(rows: list[dict]) -> None:
    """Competition ranking within each tier (1, 2, 2, 4) by total."""
    by_tier: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        by_tier[r["tier"]].append(r)
    for tier_rows in by_tier.values():
        tier_rows.sort(key=lambda r: -r["total"])
        prev, rank = None, 0
        for i, r in enumerate(tier_rows, start=1):
            if r["total"] != prev:
                rank, prev = i, r["total"]
            r["rank"] = rank


def publish(session, plan_year: int, user=None) -> Assessment:
    """Freeze the totals and ranks; afterwards nothing of the year changes."""
    assessment = get_assessment(session, plan_year)
    if assessment is None or assessment.computed_on is None:
        raise InvalidInput(gettext("Compute the %(year)s scores before publishing them.", year=plan_year))
    if assessment.status == PUBLISHED:
        raise AssessmentLocked(plan_year)
    data = results(session, plan_year)
    frozen = {r["unit"]: r for r in data["rows"]}
    for score, unit in session.execute(
        select(AssessmentScore, Unit).join(Unit, Unit.id == AssessmentScore.unit_id).where(AssessmentScore.assessment_id == assessment.id)
    ).all():
        score.final_points = frozen[unit.code]["total"]
        score.rank = frozen[unit.code]["rank"]
    assessment.status = PUBLISHED
    assessment.published_on = clock.now()
    assessment.published_by_fk = getattr(user, "id", None)
    session.commit()
    return assessment


# -- export for awards --------------------------------------------------------------------
def export_xlsx(session, plan_year: int, scope: Scope | None = None) -> bytes:
    """Ranking per tier with every indicator's score, and the adjustments."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    data = results(session, plan_year, scope)
    assessment = data["assessment"]
    indicators = data["indicators"]
    wb = Workbook()
    ws = wb.active
    ws.title = gettext("Ranking")
    if assessment is None:
        state = gettext("Not computed")
    elif assessment.status == PUBLISHED:
        state = gettext("Published on %(date)s", date=format_date_zh(assessment.published_on.date()))
    else:
        state = gettext("Draft, not published")
    missing = not_installed(indicators)
    full = full_points(indicators)
    title = [gettext("%(year)s December assessment", year=plan_year), state]
    if missing:  # said in the title row: the header stays on row 2
        title.append(gettext("%(text)s: %(items)s. Totals are out of the points assessed (Maximum) and out of %(full)s.",
                             text=str(NOT_INSTALLED), items="、".join(f"{i.label}（{i.weight:g}）" for i in missing), full=f"{full:g}"))
    ws.append(title)
    ws["A1"].font = Font(bold=True, size=13)
    headers = [gettext("KPI tier"), gettext("Rank"), gettext("Unit"), gettext("Code")]
    headers += [f"{i.label}（{i.weight:g}）" for i in indicators]
    headers += [gettext("Computed score"), gettext("Adjustment"), gettext("Total"), gettext("Maximum"), gettext("Full marks")]
    ws.append(headers)
    for cell in ws[2]:
        cell.font = Font(bold=True)
    missing_keys = {i.key for i in missing}
    for r in data["rows"]:
        line = [r["tier_label"], r["rank"], r["unit_name"], r["unit"]]
        for i in indicators:
            d = r["details"].get(i.key) or {}
            if d.get("applicable"):
                line.append(d.get("score"))
            elif i.key in missing_keys or d.get("not_installed"):
                line.append(str(NOT_INSTALLED))
            else:
                line.append(gettext("n/a"))
        line += [r["points"], r["adjustment"], r["total"], r["max_points"], full]
        ws.append(line)
    ws.freeze_panes = "A3"
    ws.column_dimensions["A"].width = 14
    ws.column_dimensions["C"].width = 20
    adj = wb.create_sheet(gettext("Adjustments"))
    adj.append([gettext("Unit"), gettext("Code"), gettext("Points"), gettext("Reason"), gettext("Made by"), gettext("Made on")])
    for cell in adj[1]:
        cell.font = Font(bold=True)
    for a, unit in data["adjustments"]:
        who = a.made_by.username if a.made_by is not None else ""
        adj.append([unit.name, unit.code, a.points, a.reason, who, a.made_on])
    adj.column_dimensions["D"].width = 40
    adj.column_dimensions["F"].width = 20
    from core.excel.workbooks import save_workbook  # every cell neutralised

    return save_workbook(wb)

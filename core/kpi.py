"""KPI checks: what a plugin registers through ``qqh_kpi_checks``.

A check is set-based: ``query(plan_year, as_of)`` returns ONE SQLAlchemy
select of rows ``(unit_id, value)`` grouped by owning unit (``rollup="sum"``)
or of distinct ``(unit_id, member)`` pairs (``rollup="distinct"``, for counts
of people that must not be summed from children). Core rolls the figures up
the unit tree, so a unit's value covers its whole subtree.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any, Callable


@dataclass(frozen=True)
class KpiCheck:
    key: str
    label: Any  # lazy gettext string
    unit_of_measure: Any
    query: Callable[[int, datetime.date], Any]
    rollup: str = "sum"  # or "distinct"


@dataclass(frozen=True)
class TargetSpec:
    """A default target from the notice: for ``tier`` units, ``check`` must
    reach ``threshold`` by ``due``; ``period`` is None, "year" or "quarter"."""

    check: str
    tier: str
    threshold: float
    due: datetime.date
    period: str | None = None

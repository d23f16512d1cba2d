"""What the dashboard adds to a KPI report to explain and rank it
(presentation only: the figures themselves are core/kpi/engine.py's).

- *after the due date*: a year target counts the records dated on or before
  its due date; those dated after it, up to the as-of date, are counted apart
  ("期限后新增 N") so that a clerk who entered records late sees why the
  target is still overdue. One statement per check (``kpi.compute_values``).
- *completion*: value ÷ target of every cell, and per unit the mean over its
  targets (each capped at 100 %) and how many it met: the units below are
  ranked by it, and the table can be sorted by any column.
"""

from __future__ import annotations

from collections import defaultdict

from core.kpi import engine as kpi

SORTS = ("code", "rank")  # and "col:<column key>"


def after_due(session, report: kpi.Report) -> dict[tuple[int, int], int]:
    """{(unit id, target id): records dated after the due date up to the
    as-of date} for the year targets already due, where there are any."""
    checks = kpi.registered_checks()
    late = [
        r for r in report.rows
        if r.status != kpi.NOT_APPLICABLE and r.quarter is None and report.as_of > r.due
        and r.target.check_key in checks and r.value is not None
    ]
    if not late:
        return {}
    cutoffs = defaultdict(set)
    for r in late:
        cutoffs[r.target.check_key].add(report.as_of)
    wanted = {r.unit.code for r in late}
    own: dict = {}
    values = kpi.compute_values(session, report.plan_year, cutoffs, checks, report.root, wanted, own=own)
    out = {}
    for r in late:
        source = own if r.scope == kpi.OWN else values
        v = source.get((r.target.check_key, report.as_of, r.unit.code))
        if v is None:
            continue
        total = len(v) if isinstance(v, set) else v
        extra = kpi._number(total - (r.value or 0))
        if extra and extra > 0:
            out[(r.unit.id, r.target.id)] = extra
    return out


def completion(row) -> float | None:
    """Value ÷ target (1.0 = met), None when it cannot be told."""
    if row.status == kpi.NOT_APPLICABLE or row.value is None or not row.threshold:
        return None
    return float(row.value) / float(row.threshold)


def percent(fraction: float | None) -> str:
    return "—" if fraction is None else f"{int(fraction * 100 + 1e-9)}%"


def unit_summary(cells: list[list]) -> dict:
    """Mean completion (each target capped at 100 %), targets met / counted."""
    fractions, met = [], 0
    for rows in cells:
        for r in rows:
            f = completion(r)
            if f is None:
                continue
            fractions.append(min(f, 1.0))
            met += r.status == kpi.MET
    mean = sum(fractions) / len(fractions) if fractions else None
    return {"completion": mean, "percent": percent(mean), "met": met, "counted": len(fractions)}


def rank_lines(lines: list[dict], columns: list[dict], sort: str) -> str:
    """Give each child line its rank (by completion, then targets met) and
    order the child lines by ``sort``; the root line stays first. Returns
    the sort actually applied."""
    root, children = lines[:1], lines[1:]
    for line in lines:
        line["summary"] = unit_summary(line["cells"])
    def rank_key(line):
        s = line["summary"]
        return (-(s["completion"] if s["completion"] is not None else -1), -s["met"], line["unit"].code)
    ordered = sorted(children, key=rank_key)
    position = 0
    previous = None
    for i, line in enumerate(ordered, 1):
        key = rank_key(line)[:2]
        if key != previous:
            position, previous = i, key
        line["rank"] = position
    keys = {c["key"]: i for i, c in enumerate(columns)}
    if sort == "rank":
        children = ordered
    elif sort.startswith("col:") and sort[4:] in keys:
        i = keys[sort[4:]]
        def col_key(line):
            rows = line["cells"][i]
            f = completion(rows[0]) if rows else None
            return (f is None, -(f or 0), line["unit"].code)
        children = sorted(children, key=col_key)
    else:
        sort = "code"
        children = sorted(children, key=lambda line: line["unit"].code)
    lines[:] = root + children
    return sort

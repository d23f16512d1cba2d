"""What the dashboard adds to a KPI report to explain and rank it
(presentation only: the figures themselves are core/kpi/engine.py's).

- *after the due date*: a year target counts the records dated on or before
  its due date; those dated after it, up to the as-of date, are counted apart
  ("期限后新增 N") so that a clerk who entered records late sees why the
  target is still overdue. Read from the kept figures (``core.kpi.live``), computed with one
  statement per check only when the records changed.
- *completion*: value ÷ target of every cell, and per unit the mean over its
  targets (each capped at 100 %) and how many it met: the units below are
  ranked by it, and the table can be sorted by any column.
"""

from __future__ import annotations

from collections import defaultdict

from markupsafe import Markup, escape

from core.kpi import engine as kpi
from core.kpi import live as kpilive

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
    # the values up to the as-of date: the report's own read (``evaluate(..., after_due=True)``) where
    # it has them, else through the kept figures (core.kpi.live) — computed from the records only
    # when they changed, not on every view of a page
    values = report.figures
    needed = defaultdict(set)
    for r in late:
        if (r.target.check_key, None, report.as_of, r.unit.code) not in values:
            needed[r.target.check_key].add((None, report.as_of, r.unit.code))
    if needed:
        values = {**values, **kpilive.figures(session, report.plan_year, needed, checks, report.root, None)}
    out = {}
    for r in late:
        pair = values.get((r.target.check_key, None, report.as_of, r.unit.code))
        if pair is None:
            continue
        total = pair[0] if r.scope == kpi.OWN else pair[1]
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



# -- the table's rows, rendered once per page --------------------------------------------
def _text(value) -> str:
    """A value as ``{{ value }}`` shows it (core.web.display: None → "", 50.0 → 50), escaped."""
    if type(value) is int:
        return str(value)
    from core.web.display import display

    return str(escape(display(value)))


def table_rows_html(lines: list[dict], after_due: dict, scopes: dict, drill_url: str, placeholder: str) -> Markup:
    """The ``<tr>`` of every line of the dashboard's table: its unit (a
    drill-down link: ``drill_url`` with the unit's code for ``placeholder``,
    one URL built per page), rank, completion and a cell per target column.

    The table has a cell per unit and column (610 for the province at the
    bench's scale): through Jinja, each cell's translations, filters and
    lookups made the page cost 4× its figures. Here every sentence is
    translated once per page (a pattern filled per cell, its values escaped,
    as Jinja's ``_()`` does), every due date written once, each target's and
    status's parts looked up once. The markup is the one the template had."""
    from urllib.parse import quote

    from flask_babel import gettext

    from core.web.display import date_text

    status_label = {k: str(escape(v)) for k, v in kpi.STATUSES.items()}
    td = {k: f'<td class="qqh-status-{v}" data-status="{k}">' for k, v in kpi.STATUS_CSS.items()}
    tiers = {k: str(escape(v)) for k, v in kpi.TARGET_TIERS.items()}
    scope_text = {k: str(escape(v)) for k, v in scopes.items()}
    counts = Markup(gettext("counts: %(scope)s"))
    counts_by_scope = {k: str(counts % {"scope": str(v)}) for k, v in scopes.items()}
    after = Markup(gettext("after the due date: %(n)s"))
    approved = Markup(gettext("as approved %(value)s · as entered %(entered)s"))
    due_pattern = Markup(gettext("due %(date)s"))
    this_unit = Markup(gettext("%(unit)s (this unit)"))
    drill = Markup(gettext("Show the units below %(unit)s"))
    met_of = Markup(gettext("met %(met)s of %(n)s"))
    due_text: dict = {}
    of_target: dict = {}  # id(target) → its parts
    out = []
    for line in lines:
        unit, summary = line["unit"], line["summary"]
        name = escape(unit.name)
        if line["is_root"]:
            head = f'<tr class="qqh-root-row" data-unit="{escape(unit.code)}"><th>{this_unit % {"unit": unit.name}}'
        else:
            url = escape(drill_url.replace(placeholder, quote(unit.code, safe="")))
            head = (f'<tr class="qqh-child-row" data-unit="{escape(unit.code)}"><th>'
                    f'<a class="qqh-drill" href="{url}" title="{drill % {"unit": unit.name}}">{name}</a>')
        rank = line.get("rank", "")
        met = f'<br><small>{met_of % {"met": summary["met"], "n": summary["counted"]}}</small>' if summary["counted"] else ""
        out.append(f'{head}\n<br><small class="text-muted">{tiers.get(unit.kpi_tier) or escape(unit.kpi_tier)}</small></th>'
                   f'<td class="qqh-rank">{_text(rank)}</td>'
                   f'<td class="qqh-completion" data-completion="{summary["percent"]}"><strong>{summary["percent"]}</strong>{met}</td>')
        for rows in line["cells"]:
            if not rows:
                out.append('<td class="qqh-none">—</td>')
                continue
            out.append(td[rows[0].status])
            for r in rows:
                t = r.target
                parts = of_target.get(id(t))
                if parts is None:
                    parts = of_target[id(t)] = (t.id, escape(t.check_key))
                target_id, check = parts
                value, threshold = _text(r.value), _text(r.threshold)
                out.append(
                    f'<div class="qqh-cell" data-check="{check}" data-value="{value}" data-target="{threshold}">'
                    f'<strong class="qqh-status-word">{status_label[r.status]}</strong>'
                    f'<span class="qqh-figure">{value if r.value is not None else "—"} / {threshold}</span>\n'
                )
                f = completion(r)
                if f is not None:
                    out.append(f'<small class="qqh-percent">{percent(f)}</small>')
                late = after_due.get((unit.id, target_id))
                if late:
                    out.append(f'<br><small class="qqh-after-due" data-after="{_text(late)}">{after % {"n": late}}</small>')
                due = due_text.get(r.due)
                if due is None:
                    due = due_text[r.due] = str(due_pattern % {"date": date_text(r.due)})
                period = f"{escape(r.period_text)} · " if r.quarter else ""
                out.append(f"<br><small>{period}{due}</small>")
                if r.status != kpi.NOT_APPLICABLE:
                    scope = r.scope
                    out.append(f'<br><small class="qqh-scope" data-scope="{escape(scope)}">{counts_by_scope.get(scope) or counts % {"scope": r.scope_label}}')
                    if r.values_differ:
                        own, sub = _text(r.own_value), _text(r.subtree_value)
                        out.append(f' · <span class="qqh-own" data-value="{own}">{scope_text["own"]} {own}</span>'
                                   f' · <span class="qqh-subtree" data-value="{sub}">{scope_text["subtree"]} {sub}</span>')
                    out.append("</small>")
                if r.entered_value is not None:
                    out.append(f'<br><small class="qqh-approved" data-entered="{_text(r.entered_value)}">'
                               f'{approved % {"value": r.value, "entered": r.entered_value}}</small>')
                out.append("</div>")
            out.append("</td>")
        out.append("</tr>\n")
    return Markup("".join(out))

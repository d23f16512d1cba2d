"""The ``qqh kpi`` and ``qqh assessment`` commands."""

from __future__ import annotations



import datetime
import json
import unicodedata

import click
from flask import current_app
from flask_babel import gettext
from sqlalchemy import select

from core.kpi import assessment as asm
from core.kpi import engine as kpi
from core.tenancy.scope import InvalidInput
from core.tenancy.units import Unit
from core.kpi.pages import BadRequest, TARGET_LABELS, parse_as_of

# -- the qqh command --------------------------------------------------------------------
def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _table(headers: list[str], rows: list[list]) -> str:
    def cell(v):
        if v is None:
            return "—"
        if isinstance(v, datetime.date):
            return v.isoformat()
        return str(v)

    data = [[cell(v) for v in r] for r in rows]
    widths = [max([_width(h)] + [_width(r[i]) for r in data]) for i, h in enumerate(headers)]
    line = lambda vals: "  ".join(v + " " * (w - _width(v)) for v, w in zip(vals, widths)).rstrip()
    return "\n".join([line(headers), line(["-" * w for w in widths])] + [line(r) for r in data])


def _cli_unit(session, code):
    if code:
        unit = session.execute(select(Unit).where(Unit.code == code)).scalar_one_or_none()
        if unit is None:
            raise click.ClickException(f"no unit has the code {code}.")
        return unit
    unit = kpi.top_unit(session)
    if unit is None:
        raise click.ClickException("there is no unit yet: run `qqh init` first.")
    return unit


def _cli_date(value, year):
    try:
        return parse_as_of(value, year)
    except BadRequest as exc:
        raise click.ClickException(str(exc)) from None


def register_cli(cli) -> None:
    """Add ``qqh kpi ...``, ``qqh targets ...`` and ``qqh assessment ...``."""
    register_kpi_cli(cli)
    register_assessment_cli(cli)


def register_kpi_cli(cli) -> None:
    """Add ``qqh kpi ...`` and ``qqh targets ...``."""
    from core.web.commands import with_app

    @cli.group("kpi")
    def kpi_group():
        """KPI reports."""

    @kpi_group.command("report")
    @click.option("--year", type=int, required=True, help="Plan year, e.g. 2012.")
    @click.option("--unit", "unit_code", default=None, help="Unit code (default: the province).")
    @click.option("--as-of", "as_of", default=None, help="Date, e.g. 2012-06-30 (default: today or the year's end).")
    @click.option("--format", "fmt", type=click.Choice(["table", "json", "xlsx"]), default="table", show_default=True)
    @click.option("--out", type=click.Path(dir_okay=False), default=None, help="Write to this file (xlsx: required).")
    @click.option("--all", "whole", is_flag=True, help="Every unit of the subtree, not only the children.")
    @with_app
    def kpi_report(year, unit_code, as_of, fmt, out, whole):
        """Status of every target for a unit and its children."""
        session = current_app.appbuilder.session
        unit = _cli_unit(session, unit_code)
        rep = kpi.evaluate(session, year, unit, _cli_date(as_of, year), depth=None if whole else 1)
        if fmt == "xlsx":
            out = out or f"kpi-{year}-{unit.code}.xlsx"
            with open(out, "wb") as fh:
                fh.write(kpi.report_xlsx(rep))
            click.echo(f"{out}: {len(rep.rows)} rows")
            return
        if fmt == "json":
            text = json.dumps(rep.as_dicts(), ensure_ascii=False, indent=2)
        else:
            text = _table(kpi.report_headers(), kpi.report_table(rep))
        if out:
            with open(out, "w", encoding="utf-8") as fh:
                fh.write(text + "\n")
            click.echo(f"{out}: {len(rep.rows)} rows")
        else:
            click.echo(text)

    @cli.group("targets")
    def targets_group():
        """KPI targets (data)."""

    @targets_group.command("load")
    @click.option("--year", type=int, required=True, help="Plan year, e.g. 2012.")
    @with_app
    def targets_load(year):
        """Load the notice's targets and assessment indicators for a plan year (idempotent)."""
        if not 2000 <= year <= 2100:
            raise click.ClickException("the plan year must lie between 2000 and 2100.")
        n = kpi.load_default_targets(year)
        click.echo(f"Targets for {year}: {n} added.")

    @targets_group.command("list")
    @click.option("--year", type=int, required=True)
    @with_app
    def targets_list(year):
        """Show the targets of a plan year."""
        session = current_app.appbuilder.session
        targets = session.execute(select(kpi.KpiTarget).where(kpi.KpiTarget.plan_year == year)).scalars()
        rows = [
            [t.check_label, t.check_key, t.tier_label, kpi._number(t.threshold), t.due, t.period_label, t.scope_label]
            for t in sorted(targets, key=lambda t: (kpi.check_order(t.check_key), t.due, t.tier))
        ]
        keys = ("check_key", "check_key", "tier", "threshold", "due", "period", "scope")
        click.echo(_table([str(TARGET_LABELS[k]) for k in keys], rows))


def register_assessment_cli(cli) -> None:
    """Add ``qqh assessment ...``."""
    from core.web.commands import with_app

    @cli.group("assessment")
    def assessment_group():
        """The December assessment (督查考核)."""

    def _guard(fn):
        try:
            return fn()
        except InvalidInput as exc:
            current_app.appbuilder.session.rollback()
            raise click.ClickException(str(exc)) from None

    @assessment_group.command("compute")
    @click.option("--year", type=int, required=True)
    @click.option("--as-of", "as_of", default=None)
    @with_app
    def assessment_compute(year, as_of):
        """Compute every city's and county's score."""
        session = current_app.appbuilder.session
        day = _cli_date(as_of, year) if as_of else None
        _guard(lambda: asm.compute(session, year, day))
        click.echo(f"{len(asm.results(session, year)['rows'])} units scored.")

    @assessment_group.command("show")
    @click.option("--year", type=int, required=True)
    @with_app
    def assessment_show(year):
        """Ranking within each tier."""
        data = asm.results(current_app.appbuilder.session, year)
        full = asm.full_points(data["indicators"])
        rows = [[r["tier_label"], r["rank"], r["unit_name"], r["unit"], r["points"], r["adjustment"], r["total"], r["max_points"], full]
                for r in data["rows"]]
        headers = [gettext("KPI tier"), gettext("Rank"), gettext("Unit"), gettext("Code"), gettext("Computed score"),
                   gettext("Adjustment"), gettext("Total"), gettext("Maximum"), gettext("Full marks")]
        click.echo(_table(headers, rows))
        missing = asm.not_installed(data["indicators"])
        if missing:
            click.echo(f"{asm.NOT_INSTALLED}: " + "、".join(f"{i.label}（{i.weight:g}）" for i in missing))

    @assessment_group.command("adjust")
    @click.option("--year", type=int, required=True)
    @click.option("--unit", "unit_code", required=True)
    @click.option("--points", required=True)
    @click.option("--reason", required=True)
    @with_app
    def assessment_adjust(year, unit_code, points, reason):
        """Adjust a unit's score (with the reason)."""
        _guard(lambda: asm.add_adjustment(current_app.appbuilder.session, year, unit_code, points, reason))
        click.echo("Adjustment recorded.")

    @assessment_group.command("publish")
    @click.option("--year", type=int, required=True)
    @with_app
    def assessment_publish(year):
        """Publish the results: afterwards the scores cannot change."""
        _guard(lambda: asm.publish(current_app.appbuilder.session, year))
        click.echo(f"The {year} assessment is published.")

    @assessment_group.command("export")
    @click.option("--year", type=int, required=True)
    @click.option("--out", type=click.Path(dir_okay=False), required=True)
    @with_app
    def assessment_export(year, out):
        """Ranking and adjustments as an Excel workbook (for awards)."""
        with open(out, "wb") as fh:
            fh.write(asm.export_xlsx(current_app.appbuilder.session, year))
        click.echo(out)

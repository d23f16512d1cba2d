"""The dashboard's ranking and sorting (core/kpi/present.py): pure logic, no server."""

from types import SimpleNamespace as NS

from core.kpi import engine as kpi
from core.kpi.present import percent, rank_lines, unit_summary


def row(value, threshold, status=None):
    status = status or (kpi.MET if value >= threshold else kpi.IN_PROGRESS)
    return NS(value=value, threshold=threshold, status=status)


def line(code, *cells):
    return {"unit": NS(code=code), "cells": [[c] if c else [] for c in cells]}


def test_units_are_ranked_by_mean_completion_ties_share_a_rank_and_any_column_sorts():
    columns = [{"key": "a:year"}, {"key": "b:year"}]
    lines = [
        line("root", row(5, 10), row(1, 1)),
        line("c1", row(2, 10), row(0, 1)),  # 10 %
        line("c2", row(20, 10), row(0, 1)),  # (100 % capped + 0) / 2 = 50 %
        line("c3", row(5, 10), row(0, 1)),  # 25 %
        line("c4", row(5, 10), row(1, 1)),  # 75 %
        line("c5", row(10, 10), row(0, 1)),  # 50 %, one met like c2: same rank
        line("c6", None, row(0, 0, kpi.NOT_APPLICABLE)),  # nothing to tell
    ]
    assert rank_lines(lines, columns, "rank") == "rank"
    assert [x["unit"].code for x in lines] == ["root", "c4", "c2", "c5", "c3", "c1", "c6"]
    assert [x.get("rank") for x in lines] == [None, 1, 2, 2, 4, 5, 6]
    assert lines[1]["summary"] == {"completion": 0.75, "percent": "75%", "met": 1, "counted": 2}
    assert lines[-1]["summary"]["percent"] == "—"
    # by a column: its own completion, highest first (over 100 % counts here), empty cells last
    assert rank_lines(lines, columns, "col:a:year") == "col:a:year"
    assert [x["unit"].code for x in lines] == ["root", "c2", "c5", "c3", "c4", "c1", "c6"]
    # anything else: by unit code, and says so
    for junk in ("", "col:nope", "<script>", "rank; drop"):
        assert rank_lines(lines, columns, junk) == "code"
        assert [x["unit"].code for x in lines][1:] == ["c1", "c2", "c3", "c4", "c5", "c6"]


def test_percent_and_summary():
    assert [percent(None), percent(0.07), percent(0.29), percent(1.5)] == ["—", "7%", "29%", "150%"]
    assert unit_summary([[row(3, 6)], []]) == {"completion": 0.5, "percent": "50%", "met": 0, "counted": 1}

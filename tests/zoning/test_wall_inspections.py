"""Inspection intervals by colour and supervision grade ([inspections] of the rule set), overdue flags."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

from zoning.errors import RuleSetError
from zoning.rules import load_ruleset
from zoning.wall.inspections import inspection_intervals, inspection_status, parse_inspection_rules

RULES = parse_inspection_rules(load_ruleset())


@pytest.mark.parametrize("level, grade, days", [
    (1, None, 30), (2, None, 90), (3, None, 180), (4, None, 365),  # by colour alone
    (4, "A", 30), (3, "B", 90), (2, "D", 90), (1, "D", 30),        # the stricter of colour and grade
])
def test_interval_is_the_stricter_of_colour_and_grade(level, grade, days):
    assert inspection_intervals([level], [grade], RULES).tolist() == [days]


def test_overdue_after_the_interval_and_when_never_inspected():
    plots = pd.DataFrame({"plot_id": ["P1", "P2", "P3"], "level": [1, 4, 2], "supervision_grade": [None, "C", None]})
    inspections = pd.DataFrame({"plot_id": ["P1", "P1", "P2"],
                                "inspected_on": pd.to_datetime(["2026-10-01", "2026-11-10", "2026-06-01"])})
    status = inspection_status(plots, inspections, RULES, "2026-12-11")
    # P1: last 2026-11-10 + 30 d = 2026-12-10 < 12-11 → overdue; P2: C grade 180 d → due 2026-11-28 → overdue
    assert status["next_due"].dt.strftime("%Y-%m-%d").tolist()[:2] == ["2026-12-10", "2026-11-28"]
    assert status["overdue"].tolist() == [True, True, True]  # P3 never inspected
    assert inspection_status(plots, inspections, RULES, "2026-12-10")["overdue"].tolist() == [False, True, True]


def test_a_bad_interval_table_names_its_key():
    rules = load_ruleset()
    broken = dataclasses.replace(rules, tables={**rules.tables, "inspections": {"interval_days": [30, 90]}})
    with pytest.raises(RuleSetError, match="inspections.interval_days"):
        parse_inspection_rules(broken)

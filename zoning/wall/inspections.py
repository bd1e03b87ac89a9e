"""Inspection intervals by colour and supervision grade (分级分类监管), and overdue inspections.

The seeds' town supervises plots "根据不同风险等级实施分级分类监管": the redder the plot and the
closer its supervision grade (A closest … D lightest), the more often it is inspected. The
figures are in the rule set's ``[inspections]`` table (``interval_days`` by level 1-4 and
``grade_days`` by grade A-D; the stricter of the two applies); none was read in the seeds or a
standard, so the rule set marks them "to confirm".

>>> from zoning.rules import load_ruleset
>>> rules = parse_inspection_rules(load_ruleset())
>>> inspection_intervals([1, 4, 4], ["D", "A", None], rules).tolist()
[30, 30, 365]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from zoning.rules import LEVELS, RuleSet, get

__all__ = ["InspectionRules", "parse_inspection_rules", "inspection_intervals", "inspection_status"]

GRADES = ("A", "B", "C", "D")


@dataclass(frozen=True)
class InspectionRules:
    """Days between inspections by level (1 = red … 4) and by supervision grade (A … D)."""

    interval_days: tuple[int, int, int, int]
    grade_days: dict[str, int]


def parse_inspection_rules(ruleset: RuleSet) -> InspectionRules:
    """Parse ``[inspections]``; RuleSetError names a bad key path."""
    days = get(ruleset.tables, "inspections.interval_days", list)
    if len(days) != len(LEVELS):
        from zoning.errors import RuleSetError

        raise RuleSetError(f"inspections.interval_days: expected {len(LEVELS)} numbers of days, got {days!r}")
    levels = tuple(int(get({"d": d}, "d", int, minimum=1, root="inspections.interval_days")) for d in days)
    grades = {g: int(get(ruleset.tables, f"inspections.grade_days.{g}", int, minimum=1)) for g in GRADES}
    return InspectionRules(levels, grades)


def inspection_intervals(levels, grades, rules: InspectionRules) -> np.ndarray:
    """Days between inspections of each plot: the stricter of its level's and its grade's figure."""
    level = np.asarray(levels, dtype=np.int64)
    by_level = np.asarray(rules.interval_days, dtype=np.int64)[np.clip(level, 1, 4) - 1]
    by_grade = pd.Series(list(grades), dtype=object).map(rules.grade_days).fillna(by_level.max(initial=0))
    return np.minimum(by_level, by_grade.to_numpy(dtype=np.int64))


def inspection_status(plots: pd.DataFrame, inspections: pd.DataFrame, rules: InspectionRules,
                      today) -> pd.DataFrame:
    """Last inspection, next due date and whether it is overdue, per plot.

    Parameters
    ----------
    plots : DataFrame
        ``plot_id``, ``level`` and ``supervision_grade`` (the risk wall rows).
    inspections : DataFrame
        ``plot_id`` and ``inspected_on`` (the inspection records).
    today : date-like

    Returns
    -------
    DataFrame with ``plot_id``, ``last_inspection`` (NaT when never inspected), ``interval_days``,
    ``next_due`` and ``overdue`` (a plot never inspected is overdue).
    """
    day = pd.Timestamp(today).normalize()
    ids = plots["plot_id"].astype(str).to_numpy()
    grades = plots["supervision_grade"] if "supervision_grade" in plots else pd.Series([None] * len(plots))
    interval = inspection_intervals(plots["level"].to_numpy(), grades.to_numpy(dtype=object), rules)
    last = (pd.to_datetime(inspections["inspected_on"]).groupby(inspections["plot_id"].astype(str)).max()
            if len(inspections) else pd.Series(dtype="datetime64[ns]"))
    last = last.reindex(ids).to_numpy(dtype="datetime64[ns]")
    due = last + interval.astype("timedelta64[D]")
    overdue = np.isnat(last) | (due < np.datetime64(day.to_datetime64(), "ns"))
    return pd.DataFrame({"plot_id": ids, "last_inspection": last, "interval_days": interval, "next_due": due,
                         "overdue": overdue})

"""The hidden-danger loop (隐患闭环): found → tagged → rectified with the five in place → verified → closed.

The seeds' towns keep every hidden danger (事故隐患) on a loop: a danger found in an inspection is
tagged for the government's supervision (挂牌督办, with a level and a deadline) when it is major,
rectified with the five in place (五到位: 责任、措施、资金、时限、预案 — a responsible person,
measures, funds, a time limit and a contingency plan), verified (验收), and closed against the
ledger (对账销号, who and when). This module is the loop as rules over whole columns:

* :data:`TRANSITIONS` — the steps allowed from each status (a record may also stay where it is
  while its details are filled in); :func:`check_dangers` refuses any other step, naming the
  danger, where it was and where it was sent, and the statuses it could go to.
* :data:`REQUIRED` — what a record must hold in each status (a tagged danger its level and
  deadline, a danger being rectified the five in place, a verified one who verified it and when,
  a closed one who closed it and when).
* :func:`danger_counts` — per plot, the open major dangers and those under tagged supervision: the
  plot's ``open_major_dangers`` and ``tagged_dangers``, which the classification rules turn into
  its colour, follow the records.
* :func:`overdue_dangers` — not yet verified past the deadline (or the rectification time limit).

>>> import pandas as pd
>>> before = pd.DataFrame({"danger_id": ["D1"], "status": ["found"]})
>>> after = pd.DataFrame({"danger_id": ["D1"], "status": ["closed"], "level": ["major"]})
>>> try:
...     check_dangers(after, before)
... except DangerStepError as error:
...     print(error)
D1: cannot go from found to closed; from found: found, tagged, rectifying
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from geo.errors import RiskmapError

__all__ = ["STATUSES", "OPEN", "TRANSITIONS", "REQUIRED", "FIVE_IN_PLACE", "DangerStepError", "check_dangers",
           "danger_counts", "overdue_dangers"]

STATUSES = ("found", "tagged", "rectifying", "verified", "closed")
#: Statuses of a danger still counted against its plot (everything until it is closed: 对账销号).
OPEN = ("found", "tagged", "rectifying", "verified")
#: Statuses from which a danger may go to each listed status (staying put is always allowed, except
#: for a closed danger, which is final). A failed verification sends it back to rectification.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "found": ("found", "tagged", "rectifying"),
    "tagged": ("tagged", "rectifying"),
    "rectifying": ("rectifying", "verified"),
    "verified": ("verified", "closed", "rectifying"),
    "closed": (),
}
#: Statuses a new record may start in.
START = ("found", "tagged")
#: 五到位: the five things in place before rectification counts as under way.
FIVE_IN_PLACE = ("responsible", "measures", "funds_wan", "time_limit", "plan")
#: Fields a record must hold in each status.
REQUIRED: dict[str, tuple[str, ...]] = {
    "found": (),
    "tagged": ("tag_level", "deadline"),
    "rectifying": FIVE_IN_PLACE,
    "verified": (*FIVE_IN_PLACE, "verified_on", "verified_by"),
    "closed": (*FIVE_IN_PLACE, "verified_on", "verified_by", "closed_on", "closed_by"),
}


class DangerStepError(RiskmapError):
    """A hidden danger was sent where its loop does not go, or lacks what its status needs (HTTP 409)."""


def _blank(values: pd.Series) -> np.ndarray:
    text = values.astype(object)
    return (text.isna() | (text.astype(str).str.strip() == "")).to_numpy()


def check_dangers(after: pd.DataFrame, before: pd.DataFrame | None = None) -> None:
    """Refuse records whose status step or contents break the loop; one line naming the first.

    Parameters
    ----------
    after : DataFrame
        The records as they would be written (``danger_id``, ``status`` and the fields of
        :data:`REQUIRED`).
    before : DataFrame, optional
        The same records as held now (``danger_id``, ``status``); a record absent there is new and
        must start as ``found`` or ``tagged``.

    Raises
    ------
    DangerStepError
        ``"<id>: cannot go from <status> to <status>; from <status>: <allowed>"``, or
        ``"<id>: status <status> needs <fields>"``.
    """
    ids = after["danger_id"].astype(str).to_numpy()
    new_status = after["status"].astype(object).fillna("found").astype(str).to_numpy()
    old = pd.Series(dtype=object)
    if before is not None and len(before):
        old = pd.Series(before["status"].astype(object).to_numpy(), index=before["danger_id"].astype(str).to_numpy())
    old_status = old.reindex(ids).to_numpy(dtype=object)
    allowed = np.array([(n in START) if o is None or o != o else (n in TRANSITIONS.get(o, ()))
                        for o, n in zip(old_status, new_status)], dtype=bool)
    if not allowed.all():
        i = int(np.flatnonzero(~allowed)[0])
        o = old_status[i]
        if o is None or o != o:
            raise DangerStepError(f"{ids[i]}: a new hidden danger starts as {' or '.join(START)}, "
                                  f"not {new_status[i]}")
        options = ", ".join(TRANSITIONS.get(o, ())) or "nothing (a closed danger is final)"
        raise DangerStepError(f"{ids[i]}: cannot go from {o} to {new_status[i]}; from {o}: {options}")
    for status, fields in REQUIRED.items():
        rows = new_status == status
        if not rows.any():
            continue
        for field in fields:
            missing = rows & (_blank(after[field]) if field in after.columns else True)
            if np.any(missing):
                i = int(np.flatnonzero(missing)[0])
                lacking = [f for f in fields if f not in after.columns or _blank(after[f].iloc[[i]])[0]]
                raise DangerStepError(f"{ids[i]}: status {status} needs {', '.join(lacking)}")


def danger_counts(dangers: pd.DataFrame, plot_ids) -> pd.DataFrame:
    """Open major dangers and those under tagged supervision, per plot of ``plot_ids``.

    A danger counts until it is closed (对账销号). ``tagged_dangers`` counts open dangers with a
    ``tag_level`` (挂牌督办), major or not.

    >>> d = pd.DataFrame({"plot_id": ["P1", "P1", "P2"], "level": ["major", "major", "general"],
    ...                   "status": ["tagged", "closed", "found"], "tag_level": ["district", "town", None]})
    >>> danger_counts(d, ["P1", "P2", "P3"]).to_dict("records")  # doctest: +NORMALIZE_WHITESPACE
    [{'plot_id': 'P1', 'open_major_dangers': 1, 'tagged_dangers': 1},
     {'plot_id': 'P2', 'open_major_dangers': 0, 'tagged_dangers': 0},
     {'plot_id': 'P3', 'open_major_dangers': 0, 'tagged_dangers': 0}]
    """
    plots = pd.Index(pd.Series(list(plot_ids), dtype=object).astype(str), name="plot_id")
    open_ = dangers["status"].astype(object).isin(OPEN).to_numpy()
    major = (dangers["level"].astype(object) == "major").to_numpy()
    tagged = ~_blank(dangers["tag_level"]) if "tag_level" in dangers.columns else np.zeros(len(dangers), bool)
    frame = pd.DataFrame({"plot_id": dangers["plot_id"].astype(str).to_numpy(),
                          "open_major_dangers": (open_ & major).astype(np.int64),
                          "tagged_dangers": (open_ & tagged).astype(np.int64)})
    sums = frame.groupby("plot_id").sum().reindex(plots, fill_value=0)
    return sums.astype(np.int64).reset_index()


def overdue_dangers(dangers: pd.DataFrame, today) -> np.ndarray:
    """True for each danger not yet verified whose deadline (or time limit, the earlier) has passed.

    >>> d = pd.DataFrame({"status": ["tagged", "closed", "rectifying"],
    ...                   "deadline": pd.to_datetime(["2026-01-10", "2026-01-01", None]),
    ...                   "time_limit": pd.to_datetime([None, None, "2026-03-01"])})
    >>> overdue_dangers(d, "2026-02-01").tolist()
    [True, False, False]
    """
    day = pd.Timestamp(today).normalize()
    dates = [pd.to_datetime(dangers[c], errors="coerce") for c in ("deadline", "time_limit") if c in dangers.columns]
    if not dates:
        return np.zeros(len(dangers), dtype=bool)
    due = pd.concat(dates, axis=1).min(axis=1)
    pending = dangers["status"].astype(object).isin(("found", "tagged", "rectifying")).to_numpy()
    return pending & (due < day).fillna(False).to_numpy(dtype=bool)

"""A town's three lists (一图三单) and a plot's history, as tables.

The seeds' towns keep, beside the wall (一图), three lists (三单): the risk list (风险清单: every plot
with its colour, reasons and supervision), the hidden-danger list (隐患清单: every danger with its
step in the loop, deadline and whether it is overdue) and the responsibility list (责任清单: who
answers for each plot, and its control measures). These functions build them from the layers'
rows, with Chinese-first column headings, for the wall page and for CSV / XLSX export; and a
plot's timeline from the audit log (colour changes with their reasons, edits, dangers,
inspections). Pure functions over frames: the caller reads the store.

>>> import pandas as pd
>>> audit = pd.DataFrame({"when": ["2026-12-01T08:00:00+00:00"], "actor": ["town_editor:1"], "action": ["update"],
...     "layer": ["risk_wall"], "feature": ["P1"], "detail": ["follows industrial_plots edit: report"],
...     "before": [{"colour_zh": "黄", "colour_name": "yellow", "reasons": "a"}],
...     "after": [{"colour_zh": "红", "colour_name": "red", "reasons": "b"}]})
>>> plot_timeline(audit).loc[0, "what"]
'颜色 黄 → 红 colour yellow → red: b'
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from zoning.wall.dangers import overdue_dangers

__all__ = ["LISTS", "risk_list", "danger_list", "responsibility_list", "plot_timeline"]

#: The three lists by name, with their Chinese and English titles.
LISTS = {"risk": ("风险清单", "risk list"), "dangers": ("隐患清单", "hidden-danger list"),
         "responsibilities": ("责任清单", "responsibility list")}
_LEVEL_ZH = {1: "重大", 2: "较大", 3: "一般", 4: "低"}
_STATUS_ZH = {"found": "已发现", "tagged": "挂牌督办", "rectifying": "整改中", "verified": "已验收", "closed": "已销号"}


def _dates(values) -> pd.Series:
    return pd.to_datetime(pd.Series(values), errors="coerce").dt.strftime("%Y-%m-%d").fillna("")


def risk_list(wall: pd.DataFrame, inspections: pd.DataFrame | None = None) -> pd.DataFrame:
    """The risk list: plots red first, with level, reasons, supervision grade and inspection dates.

    ``inspections`` is :func:`zoning.wall.inspections.inspection_status` of the same plots.
    """
    out = pd.DataFrame({
        "地块 plot": wall["plot_id"].astype(str).to_numpy(),
        "企业 enterprise": wall.get("enterprise", pd.Series([""] * len(wall))).fillna("").to_numpy(),
        "风险等级 level": pd.Series(wall["level"].astype(int).map(_LEVEL_ZH)).to_numpy(),
        "颜色 colour": wall["colour_zh"].astype(str).to_numpy(),
        "定级依据 reasons": wall["reasons"].astype(str).to_numpy(),
        "监管等级 supervision": wall.get("supervision_grade", pd.Series([""] * len(wall))).fillna("").to_numpy(),
    })
    if inspections is not None:
        status = inspections.set_index("plot_id").reindex(wall["plot_id"].astype(str))
        out["最近检查 last inspection"] = _dates(status["last_inspection"].to_numpy()).to_numpy()
        out["下次检查 next due"] = _dates(status["next_due"].to_numpy()).to_numpy()
        out["检查逾期 inspection overdue"] = np.where(status["overdue"].fillna(True).to_numpy(bool), "逾期 overdue", "")
    return out


def danger_list(dangers: pd.DataFrame, today) -> pd.DataFrame:
    """The hidden-danger list: every danger with its step, deadline, five in place and overdue flag."""
    overdue = overdue_dangers(dangers, today) if len(dangers) else np.zeros(0, bool)
    return pd.DataFrame({
        "隐患 danger": dangers["danger_id"].astype(str).to_numpy(),
        "地块 plot": dangers["plot_id"].astype(str).to_numpy(),
        "描述 description": dangers["description"].astype(str).to_numpy(),
        "等级 level": dangers["level"].map({"major": "重大", "general": "一般"}).fillna("").to_numpy(),
        "状态 status": dangers["status"].map(_STATUS_ZH).fillna("").to_numpy(),
        "挂牌 tagged": dangers["tag_level"].fillna("").to_numpy(),
        "整改期限 deadline": _dates(dangers["deadline"].to_numpy()).to_numpy(),
        "责任人 responsible": dangers["responsible"].fillna("").to_numpy(),
        "措施 measures": dangers["measures"].fillna("").to_numpy(),
        "销号 closed": (dangers["closed_by"].fillna("") + " " + _dates(dangers["closed_on"].to_numpy()).to_numpy()
                       ).str.strip().to_numpy(),
        "逾期 overdue": np.where(overdue, "逾期 overdue", ""),
        "status": dangers["status"].astype(str).to_numpy(),
    })


def responsibility_list(responsibilities: pd.DataFrame, wall: pd.DataFrame) -> pd.DataFrame:
    """The responsibility list: each plot (red first, as on the wall) with its responsible person, unit, measures.

    A plot without a record is listed with empty cells: the gap shows.
    """
    resp = responsibilities.drop_duplicates("plot_id", keep="last").set_index("plot_id")
    ids = wall["plot_id"].astype(str)
    found = resp.reindex(ids)
    return pd.DataFrame({
        "地块 plot": ids.to_numpy(),
        "颜色 colour": wall["colour_zh"].astype(str).to_numpy(),
        "包保责任人 person": found["person"].fillna("").to_numpy() if "person" in found else "",
        "责任单位 unit": found["unit"].fillna("").to_numpy() if "unit" in found else "",
        "管控措施 control measures": found["measures"].fillna("").to_numpy() if "measures" in found else "",
    })


def _changed_fields(before, after) -> str:
    if not isinstance(before, dict) or not isinstance(after, dict):
        return ""
    skip = {"row_version", "updated_at", "updated_by", "geometry"}
    keys = [k for k in after if k not in skip and before.get(k) != after.get(k)]
    moved = "geometry" in after and before.get("geometry") != after.get("geometry")
    parts = [f"{k}: {before.get(k)} → {after.get(k)}" for k in keys]
    return "; ".join(parts + (["geometry moved"] if moved else []))


def plot_timeline(audit: pd.DataFrame) -> pd.DataFrame:
    """A plot's history from its audit rows (any of its layers), newest first.

    Columns ``when``, ``who``, ``kind`` (colour, edit, danger, inspection, responsibility),
    ``what`` and ``why`` (the edit's reason).
    """
    kinds = {"risk_wall": "colour 颜色", "industrial_plots": "edit 编辑", "hidden_dangers": "danger 隐患",
             "inspections": "inspection 检查", "responsibilities": "responsibility 责任"}
    rows = []
    for entry in audit.sort_values("when", ascending=False).itertuples(index=False):
        before, after = entry.before or {}, entry.after or {}
        if entry.layer == "risk_wall":
            if before.get("colour_name") == after.get("colour_name") and entry.action == "update":
                continue
            what = (f"颜色 {before.get('colour_zh', '–')} → {after.get('colour_zh', '–')} colour "
                    f"{before.get('colour_name', '–')} → {after.get('colour_name', '–')}: {after.get('reasons', '')}")
        elif entry.layer == "hidden_dangers":
            what = (f"{entry.feature}: {before.get('status', 'new')} → {after.get('status', 'retired')} "
                    f"{after.get('description', before.get('description', ''))}")
        elif entry.layer == "inspections":
            what = f"{entry.feature}: {after.get('inspector', '')} {after.get('findings', '')}".strip()
        else:
            what = f"{entry.action}: " + (_changed_fields(before, after) or entry.action)
        rows.append({"when": str(entry.when)[:19].replace("T", " "), "who": entry.actor,
                     "kind": kinds.get(entry.layer, entry.layer), "what": what, "why": entry.detail or ""})
    return pd.DataFrame(rows, columns=["when", "who", "kind", "what", "why"])

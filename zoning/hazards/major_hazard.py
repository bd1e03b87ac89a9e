"""Major hazard sources (重大危险源): identification and grading after GB 18218-2018.

A unit holding dangerous chemicals is a major hazard source when the sum over its substances of
design maximum quantity over critical quantity reaches one (§4.1)::

    Σ qᵢ/Qᵢ ≥ 1

and it is then graded by (§4.2)::

    R = α · Σ βᵢ·qᵢ/Qᵢ        一级 R ≥ 100;  二级 50 ≤ R < 100;  三级 10 ≤ R < 50;  四级 R < 10

with β the substance's correction factor and α the factor for the people within 500 m of the
fence. Every figure (Q, β, the α bands, the grade cut points) is read from the rule set's
``[major_hazard]`` and ``[substances]`` tables; nothing is held here.

>>> from zoning.rules import load_ruleset
>>> rules = parse_major_hazard_rules(load_ruleset())
>>> rules.substance("Chlorine").critical_t, rules.substance("7782-50-5").beta
(5.0, 4.0)
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from layers.errors import Problem, ValidationError
from zoning.errors import RuleSetError
from zoning.rules import RuleSet, get

__all__ = ["HAZARD_CLASSES", "Substance", "MajorHazardRules", "parse_major_hazard_rules",
           "inventory_items", "inventory_ratio", "grade_sites"]

#: Hazard classes a substance may have; they pick the GB/T 37243-2019 method and table distance.
HAZARD_CLASSES = ("explosive", "flammable_gas", "toxic_gas", "flammable_liquid", "oxidizer", "other")
_BURNING = ("explosive", "flammable_gas", "flammable_liquid")
_GRADE_ZH = {1: "一级", 2: "二级", 3: "三级", 4: "四级"}
_ITEM_COLUMNS = ["site", "name", "cas", "quantity_t", "substance", "hazard_class", "critical_t",
                 "beta", "flammable", "ratio", "known"]


@dataclass(frozen=True)
class Substance:
    """One row of the substance table (GB 18218-2018 Table 1 critical quantity, β factor)."""

    key: str
    zh: str
    cas: str
    hazard_class: str
    critical_t: float
    beta: float
    flammable: bool
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class MajorHazardRules:
    """The ``[major_hazard]`` and ``[substances]`` tables of a rule set, checked.

    ``alpha_bands`` and ``grade_bands`` are ``(lower bound, value)`` pairs in strictly decreasing
    order of bound, the last bound being 0, so each count or R falls in exactly one band.
    """

    substances: tuple[Substance, ...]
    alpha_bands: tuple[tuple[int, float], ...]
    grade_bands: tuple[tuple[float, int], ...]
    ratio_threshold: float = 1.0

    def substance(self, name_or_cas: str) -> Substance | None:
        """The substance called ``name_or_cas`` (name, alias or CAS; case-insensitive), or None."""
        key = _lookup(self).get(str(name_or_cas).strip().lower())
        return None if key is None else {s.key: s for s in self.substances}[key]

    def table(self) -> pd.DataFrame:
        """The substance table as a DataFrame indexed by key (columns as in :class:`Substance`)."""
        rows = [(s.key, s.zh, s.cas, s.hazard_class, s.critical_t, s.beta, s.flammable)
                for s in self.substances]
        return pd.DataFrame(rows, columns=["substance", "zh", "cas", "hazard_class", "critical_t",
                                           "beta", "flammable"]).set_index("substance")

    def alpha_for(self, people):
        """α for a count (or array of counts) of people within 500 m (GB 18218-2018 §4.2).

        >>> from zoning.rules import load_ruleset
        >>> parse_major_hazard_rules(load_ruleset()).alpha_for([0, 1, 29, 30, 50, 99, 100]).tolist()
        [0.5, 1.0, 1.0, 1.2, 1.5, 1.5, 2.0]
        """
        return _in_band(self.alpha_bands, np.asarray(people, dtype=float)).astype(float)

    def grade_for(self, r):
        """Grade 1–4 for R (or an array of R), by the rule set's cut points (GB 18218-2018 §4.2).

        >>> from zoning.rules import load_ruleset
        >>> parse_major_hazard_rules(load_ruleset()).grade_for([5, 10, 49.9, 50, 100, 250]).tolist()
        [4, 3, 3, 2, 1, 1]
        """
        r = np.round(np.asarray(r, dtype=float), 9)  # R = 50 computed as 49.999999999 is 50
        return _in_band(self.grade_bands, r).astype(int)


def _in_band(bands, x):
    """The value of the band (lower bound, value; bounds decreasing, last 0) each x falls in."""
    bounds, values = np.array(bands, dtype=float)[::-1].T
    return values[np.clip(np.searchsorted(bounds, x, side="right") - 1, 0, len(bounds) - 1)]


def _path(table: str, key: str) -> str:
    return f'{table}."{key}"' if any(c in key for c in ' ."') else f"{table}.{key}"


def parse_major_hazard_rules(ruleset: RuleSet) -> MajorHazardRules:
    """Read and check the ``[major_hazard]`` and ``[substances]`` tables of a rule set.

    Parameters
    ----------
    ruleset : zoning.rules.RuleSet

    Returns
    -------
    MajorHazardRules

    Raises
    ------
    zoning.errors.RuleSetError
        Naming the key path, e.g. ``substances.chlorine.critical_t: -5.0 is not above 0``, an
        unknown hazard class (listing the valid ones), unordered or gapped α / grade bands, or a
        name, alias or CAS number claimed by two substances.
    """
    mh = ruleset.table("major_hazard")
    threshold = get(mh, "ratio_threshold", float, default=1.0, root="major_hazard")
    if threshold <= 0:
        raise RuleSetError(f"major_hazard.ratio_threshold: {threshold!r} is not above 0")
    alpha = _bands(mh, "alpha", "min_people", int, "alpha", float)
    grades = _bands(mh, "grades", "min_r", float, "grade", int)
    for _, g in grades:
        if g not in _GRADE_ZH:
            raise RuleSetError(f"major_hazard.grades: grade {g!r} is not one of 1, 2, 3, 4")
    table = ruleset.table("substances")
    substances = tuple(_substance(key, entry) for key, entry in table.items())
    if not substances:
        raise RuleSetError("substances: the table is empty")
    rules = MajorHazardRules(substances, alpha, grades, threshold)  # type: ignore[arg-type]
    _lookup(rules)  # raises on a name claimed twice
    return rules


def _bands(mh: dict, key: str, bound: str, bound_kind: type, value: str, value_kind: type):
    rows = get(mh, key, list, root="major_hazard")
    out = []
    for i, row in enumerate(rows):
        root = f"major_hazard.{key}[{i}]"
        if not isinstance(row, dict):
            raise RuleSetError(f"{root}: expected a table {{{bound} = …, {value} = …}}, got {row!r}")
        out.append((get(row, bound, bound_kind, minimum=0, root=root),
                    get(row, value, value_kind, minimum=0, root=root)))
    bounds = [b for b, _ in out]
    if not out or any(a <= b for a, b in zip(bounds, bounds[1:])) or bounds[-1] != 0:
        raise RuleSetError(f"major_hazard.{key}: {bound} must be strictly decreasing and end at 0, "
                           f"got {bounds}")
    return tuple(out)


def _substance(key: str, entry) -> Substance:
    root = _path("substances", key)
    if not isinstance(entry, dict):
        raise RuleSetError(f"{root}: expected a table, got {entry!r}")
    if key != key.strip().lower():
        raise RuleSetError(f"{root}: substance keys are lower-case names, e.g. {key.strip().lower()!r}")
    hazard_class = get(entry, "hazard_class", str, root=root)
    if hazard_class not in HAZARD_CLASSES:
        raise RuleSetError(f"{root}.hazard_class: {hazard_class!r} is not one of "
                           f"{', '.join(HAZARD_CLASSES)}")
    values = {}
    for field in ("critical_t", "beta"):
        v = get(entry, field, float, root=root)
        if not math.isfinite(v) or v <= 0:
            raise RuleSetError(f"{root}.{field}: {v!r} is not above 0")
        values[field] = v
    aliases = get(entry, "aliases", list, default=[], root=root)
    if not all(isinstance(a, str) and a.strip() for a in aliases):
        raise RuleSetError(f"{root}.aliases: expected a list of names, got {aliases!r}")
    return Substance(
        key=key, zh=get(entry, "zh", str, default="", root=root),
        cas=get(entry, "cas", str, root=root).strip(), hazard_class=hazard_class,
        critical_t=values["critical_t"], beta=values["beta"],
        flammable=get(entry, "flammable", bool, default=hazard_class in _BURNING, root=root),
        aliases=tuple(a.strip().lower() for a in aliases),
    )


def _lookup(rules: MajorHazardRules) -> dict[str, str]:
    """Name, alias and CAS (lower-case) → substance key; RuleSetError if one is claimed twice."""
    seen: dict[str, str] = {}
    for s in rules.substances:
        for name in {s.key, *s.aliases, s.cas.lower()} - {""}:
            if seen.setdefault(name, s.key) != s.key:
                raise RuleSetError(f"{_path('substances', s.key)}: {name!r} is also claimed by "
                                   f"{_path('substances', seen[name])}")
    return seen


def _parse_inventory(value, site) -> list:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value == "":
        return []
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise ValidationError("hazard_sites", [Problem(str(site), "inventory",
                                                           f"not valid JSON: {exc}")]) from None
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise ValidationError("hazard_sites", [Problem(
            str(site), "inventory", 'expected a list of {"name", "cas", "quantity_t"} items')])
    return value


def inventory_items(inventories, rules: MajorHazardRules, site_ids=None) -> pd.DataFrame:
    """Explode inventories into one row per item, matched with the substance table.

    Parameters
    ----------
    inventories : sequence or pandas.Series
        One inventory per site: a JSON text or a list of ``{"name", "cas", "quantity_t"}`` items
        (hazard_sites.inventory); None or empty means no item.
    rules : MajorHazardRules
    site_ids : sequence, optional
        Site ids used in error messages (default: the position).

    Returns
    -------
    pandas.DataFrame
        Columns ``site`` (position of the site, 0-based), ``name``, ``cas``, ``quantity_t``,
        ``substance`` (key in the rule set, None when unknown), ``hazard_class``, ``critical_t``,
        ``beta``, ``flammable``, ``ratio`` (q/Q, NaN when unknown) and ``known``. An item is
        matched by its name or an alias (case-insensitive), else by its CAS number.

    Raises
    ------
    layers.errors.ValidationError
        If an inventory is not JSON, not a list of items, or an item has no usable quantity
        (missing, not a number, negative); one problem per offending site and item.
    """
    inventories = list(inventories)
    ids = list(range(len(inventories))) if site_ids is None else list(site_ids)
    parsed = pd.Series([_parse_inventory(v, s) for v, s in zip(inventories, ids)], dtype=object)
    items = parsed.explode().dropna()
    if items.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in _ITEM_COLUMNS}).astype(
            {"site": int, "quantity_t": float, "ratio": float, "known": bool})
    df = pd.DataFrame(items.tolist(), index=items.index).reindex(columns=["name", "cas", "quantity_t"])
    df["site"] = df.index.to_numpy(dtype=int)
    df = df.reset_index(drop=True)
    quantity = pd.to_numeric(df["quantity_t"], errors="coerce")
    bad = quantity.isna() | (quantity < 0) | ~np.isfinite(quantity.fillna(0))
    if bad.any():
        problems = [Problem(str(ids[s]), "inventory", f"item {n!r}: quantity_t "
                            f"{'missing' if q is None or q != q else repr(q)} is not a number of tonnes ≥ 0")
                    for s, n, q in df.loc[bad, ["site", "name", "quantity_t"]].itertuples(index=False)]
        raise ValidationError("hazard_sites", problems)
    df["quantity_t"] = quantity.astype(float)
    lookup = _lookup(rules)
    for col in ("name", "cas"):
        df[col] = df[col].astype(object).where(df[col].notna(), None)
    by_name = df["name"].astype("string").str.strip().str.lower().map(lookup)
    by_cas = df["cas"].astype("string").str.strip().str.lower().map(lookup)
    df["substance"] = by_name.where(by_name.notna(), by_cas).astype(object)
    df["substance"] = df["substance"].where(df["substance"].notna(), None)
    table = rules.table().drop(columns=["zh", "cas"])
    df = df.join(table, on="substance")
    df["known"] = df["substance"].notna()
    df["ratio"] = df["quantity_t"] / df["critical_t"]
    return df[_ITEM_COLUMNS]


def inventory_ratio(inventories, rules: MajorHazardRules) -> pd.Series:
    """Σ qᵢ/Qᵢ of each site over the substances the rule set knows (GB 18218-2018 §4.1).

    Parameters
    ----------
    inventories : sequence or pandas.Series
        As for :func:`inventory_items`.
    rules : MajorHazardRules

    Returns
    -------
    pandas.Series of float
        One value per inventory (indexed like ``inventories`` when it is a Series); 0 for an
        empty inventory. Unknown substances are not counted (see :func:`grade_sites`).

    Examples
    --------
    >>> from zoning.rules import load_ruleset
    >>> rules = parse_major_hazard_rules(load_ruleset())
    >>> inv = [[{"name": "chlorine", "quantity_t": 10}, {"name": "methanol", "quantity_t": 100}], []]
    >>> inventory_ratio(inv, rules).round(3).tolist()
    [2.2, 0.0]
    """
    index = inventories.index if isinstance(inventories, pd.Series) else None
    items = inventory_items(inventories, rules)
    sums = items.groupby("site")["ratio"].sum(min_count=1).reindex(range(len(inventories)))
    out = sums.fillna(0.0).astype(float)
    out.index = index if index is not None else out.index
    return out


def _fmt(x) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".") if abs(x) >= 100 else f"{x:.4g}"

def grade_sites(sites_gdf, rules: MajorHazardRules) -> pd.DataFrame:
    """Identify and grade major hazard sources (GB 18218-2018 §4.1 and §4.2).

    Parameters
    ----------
    sites_gdf : pandas.DataFrame or geopandas.GeoDataFrame
        hazard_sites rows: ``site_id``, ``inventory`` and ``people_500m`` (missing or null counts
        take the highest α band, the conservative choice, and say so). An optional
        ``major_hazard_grade`` column is compared with the computed grade.
    rules : MajorHazardRules

    Returns
    -------
    pandas.DataFrame
        Indexed like ``sites_gdf``; columns ``site_id``, ``ratio_sum`` (Σ q/Q), ``R``
        (α·Σ β·q/Q), ``alpha``, ``grade`` (1–4, or 0 when Σ q/Q < 1: not a major hazard source)
        and ``reasons`` (list of sentences naming every substance and figure). Unknown substances
        are not counted: each gives the reason "substance 'xyz' not in the rule set's table; not
        counted", and ``attrs["warnings"]`` lists them with their site.

    Examples
    --------
    >>> import pandas as pd
    >>> from zoning.rules import load_ruleset
    >>> rules = parse_major_hazard_rules(load_ruleset())
    >>> sites = pd.DataFrame({"site_id": ["S1"], "people_500m": [60],
    ...     "inventory": ['[{"name": "chlorine", "quantity_t": 10}, {"name": "methanol", "quantity_t": 100}]']})
    >>> graded = grade_sites(sites, rules)
    >>> graded[["ratio_sum", "alpha", "R", "grade"]].round(3).values.tolist()
    [[2.2, 1.5, 12.3, 3.0]]
    """
    n = len(sites_gdf)
    ids = sites_gdf["site_id"].astype(str).to_numpy() if n else np.array([], dtype=object)
    items = inventory_items(sites_gdf["inventory"], rules, site_ids=ids)
    known = items[items["known"]]
    grouped = known.assign(weighted=known["beta"] * known["ratio"]).groupby("site")
    ratio_sum = grouped["ratio"].sum().reindex(range(n), fill_value=0.0).to_numpy(dtype=float)
    weighted = grouped["weighted"].sum().reindex(range(n), fill_value=0.0).to_numpy(dtype=float)
    people_col = sites_gdf["people_500m"] if "people_500m" in sites_gdf else pd.Series([None] * n)
    people = pd.to_numeric(pd.Series(people_col.to_numpy()), errors="coerce")
    unknown_people = people.isna().to_numpy()
    alpha = np.where(unknown_people, rules.alpha_bands[0][1], rules.alpha_for(people.fillna(0)))
    r = alpha * weighted
    is_major = np.round(ratio_sum, 9) >= rules.ratio_threshold
    grade = np.where(is_major, rules.grade_for(r), 0)

    # Reasons: one sentence per item, then Σ q/Q, α and R for the site.
    item_reason = np.where(
        items["known"],
        items["substance"].astype(str) + " " + items["quantity_t"].map(_fmt).astype(str) + " t / Q "
        + items["critical_t"].map(_fmt).astype(str) + " t = " + items["ratio"].map(_fmt).astype(str)
        + " (β " + items["beta"].map(_fmt).astype(str) + ", " + items["hazard_class"].astype(str)
        + "; GB 18218-2018 Table 1)",
        "substance '" + items["name"].fillna(items["cas"]).astype(str)
        + "' not in the rule set's table; not counted",
    )
    per_site = pd.Series(item_reason, index=items["site"].to_numpy()).groupby(level=0).agg(list)
    f = lambda a: pd.Series(a, dtype=float).map(_fmt).astype(str)  # noqa: E731
    threshold = _fmt(rules.ratio_threshold)
    identified = np.where(
        is_major,
        "Σq/Q = " + f(ratio_sum) + f" ≥ {threshold}: major hazard source (GB 18218-2018 §4.1)",
        "Σq/Q = " + f(ratio_sum) + f" < {threshold}: not a major hazard source (GB 18218-2018 §4.1)",
    )
    who = np.where(unknown_people, "people within 500 m unknown: highest band taken",
                   people.fillna(0).astype(int).astype(str) + " people within 500 m")
    alpha_reason = "α = " + f(alpha) + " (" + who + "; GB 18218-2018 §4.2)"
    grade_s = pd.Series(grade).map(lambda g: f" → {_GRADE_ZH.get(g, '')} (grade {g}; GB 18218-2018 §4.2)")
    r_reason = ("R = α·Σβq/Q = " + f(alpha) + " × " + f(weighted) + " = " + f(r)
                + np.where(is_major, grade_s, ""))
    declared = pd.to_numeric(pd.Series(sites_gdf.get("major_hazard_grade", pd.Series([None] * n))
                                       .to_numpy()), errors="coerce")
    extra = np.where(declared.notna() & (declared.fillna(-1).to_numpy() != grade),
                     "declared grade " + declared.fillna(0).astype(int).astype(str)
                     + " differs from the computed grade " + pd.Series(grade).astype(str), "")
    reasons = [list(per_site.get(i, [])) + [a, b, c] + ([e] if e else [])
               for i, a, b, c, e in zip(range(n), identified, alpha_reason, r_reason, extra)]
    unknown = items[~items["known"]]
    warnings = [f"site {ids[s]}: substance '{name}' not in the rule set's table; not counted"
                for s, name in zip(unknown["site"], unknown["name"].fillna(unknown["cas"]))]
    out = pd.DataFrame(
        {"site_id": ids, "ratio_sum": ratio_sum, "R": r, "alpha": alpha,
         "grade": grade.astype(int), "reasons": reasons},
        index=sites_gdf.index,
    )
    out.attrs["warnings"] = warnings
    return out

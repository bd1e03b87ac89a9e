"""Major hazard sources (重大危险源): identification and grading after GB 18218-2018.

A unit holding dangerous chemicals is a major hazard source when the sum over its substances of
design maximum quantity (§4.2.2) over critical quantity reaches one (§4.2.1, formula (1))::

    Σ qᵢ/Qᵢ ≥ 1

and it is then graded by (§4.3, formula (2); grades by Table 6)::

    R = α · Σ βᵢ·qᵢ/Qᵢ        一级 R ≥ 100;  二级 50 ≤ R < 100;  三级 10 ≤ R < 50;  四级 R < 10

Q is Table 1's for the 85 substances it names and Table 2's, by hazard category, for any other
(§4.1.2); β is Table 3's for the toxic gases it names, else Table 4's by category; α (Table 5) is
the factor for the people within 500 m of the fence. Every figure is read from the rule set's
``[major_hazard]`` (α, grades, and the categories of Tables 2 and 4) and ``[substances]`` (Table 1)
tables; an inventory item is matched to them by :mod:`layers.substances`, the matcher the import
check uses too, so what the import accepts is exactly what is graded here.

>>> from zoning.rules import load_ruleset
>>> rules = parse_major_hazard_rules(load_ruleset())
>>> rules.substance("Chlorine").critical_t, rules.substance("7782-50-5").beta
(5.0, 4.0)
>>> rules.substance("丙烯腈").critical_t, rules.category("W5.3").critical_t
(50.0, 1000.0)
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from geo.errors import InputError
from layers.errors import Problem, ValidationError
from layers.substances import HAZARD_CLASSES, Category, Substance, SubstanceTable, parse_tables
from zoning.errors import RuleSetError
from zoning.rules import RuleSet, get

__all__ = ["HAZARD_CLASSES", "Substance", "Category", "MajorHazardRules", "parse_major_hazard_rules",
           "inventory_items", "inventory_ratio", "grade_sites"]

_GRADE_ZH = {1: "一级", 2: "二级", 3: "三级", 4: "四级"}
_ITEM_COLUMNS = ["site", "item", "name", "cas", "ghs", "quantity_t", "substance", "source", "no",
                 "hazard_class", "critical_t", "beta", "beta_from", "flammable", "ratio", "known", "problem",
                 "problem_kind"]


@dataclass(frozen=True)
class MajorHazardRules:
    """The ``[major_hazard]`` and ``[substances]`` tables of a rule set, checked.

    ``gb18218`` holds Tables 1, 2 and 4 (:class:`layers.substances.SubstanceTable`).
    ``alpha_bands`` and ``grade_bands`` are ``(lower bound, value)`` pairs in strictly decreasing
    order of bound, the last bound being 0, so each count or R falls in exactly one band.
    """

    gb18218: SubstanceTable
    alpha_bands: tuple[tuple[int, float], ...]
    grade_bands: tuple[tuple[float, int], ...]
    ratio_threshold: float = 1.0

    @property
    def substances(self) -> tuple[Substance, ...]:
        """The rows of Table 1."""
        return self.gb18218.substances

    @property
    def categories(self) -> tuple[Category, ...]:
        """The rows of Table 2, with their Table 4 β."""
        return self.gb18218.categories

    def substance(self, name_or_cas: str) -> Substance | None:
        """The Table 1 row called ``name_or_cas`` (CAS, name or alias; case, blanks, punctuation and
        full-width forms ignored), or None."""
        return self.gb18218.find(name_or_cas)

    def category(self, key_or_symbol: str) -> Category | None:
        """The Table 2 category with this key or symbol (``"W5.3"``), or None."""
        return self.gb18218.category(key_or_symbol)

    def alpha_for(self, people):
        """α for a count (or array of counts) of people within 500 m (GB 18218-2018 Table 5).

        >>> from zoning.rules import load_ruleset
        >>> parse_major_hazard_rules(load_ruleset()).alpha_for([0, 1, 29, 30, 50, 99, 100]).tolist()
        [0.5, 1.0, 1.0, 1.2, 1.5, 1.5, 2.0]
        """
        return _in_band(self.alpha_bands, np.asarray(people, dtype=float)).astype(float)

    def grade_for(self, r):
        """Grade 1–4 for R (or an array of R), by the rule set's cut points (GB 18218-2018 Table 6).

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
        unknown hazard class (listing the valid ones), a CAS number with a wrong check digit, a β
        that differs from the Table 4 β of the category it cites, unordered or gapped α / grade
        bands, or a name, alias, CAS symbol or 序号 claimed by two rows.
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
    try:
        table = parse_tables(ruleset.table("substances"), get(mh, "categories", dict, root="major_hazard"))
    except InputError as exc:
        raise RuleSetError(str(exc)) from None
    return MajorHazardRules(table, alpha, grades, threshold)  # type: ignore[arg-type]


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
    """Explode inventories into one row per item, matched with GB 18218-2018 Tables 1 and 2.

    Parameters
    ----------
    inventories : sequence or pandas.Series
        One inventory per site: a JSON text or a list of ``{"name", "cas", "quantity_t", "ghs"}``
        items (hazard_sites.inventory; ``ghs`` optional, see :mod:`layers.substances`); None or
        empty means no item.
    rules : MajorHazardRules
    site_ids : sequence, optional
        Site ids used in error messages (default: the position).

    Returns
    -------
    pandas.DataFrame
        Columns ``site`` (position of the site, 0-based), ``item`` (1-based within the site),
        ``name``, ``cas``, ``ghs``, ``quantity_t``, then the match
        (:meth:`layers.substances.SubstanceTable.match`: ``substance``, ``source``, ``no``,
        ``hazard_class``, ``critical_t``, ``beta``, ``beta_from``, ``flammable``), ``ratio``
        (q/Q, NaN when unmatched), ``known`` (matched, so counted) and ``problem`` (None, or what
        the import would refuse the item for).

    Raises
    ------
    layers.errors.ValidationError
        If an inventory is not JSON, not a list of items, or an item has no usable quantity
        (missing, not a number, negative); one problem per offending site and item.

    Examples
    --------
    >>> from zoning.rules import load_ruleset
    >>> rules = parse_major_hazard_rules(load_ruleset())
    >>> items = inventory_items(['[{"name": "丙烯腈", "quantity_t": 20}, '
    ...                          '{"name": "丙烯酸", "cas": "79-10-7", "quantity_t": 500, "ghs": "W5.4"}]'], rules)
    >>> items[["item", "substance", "source", "critical_t", "ratio"]].values.tolist()
    [[1, 'acrylonitrile', 'table_1', 50.0, 0.4], [2, 'flammable_liquid_3', 'table_2', 5000.0, 0.1]]
    """
    inventories = list(inventories)
    ids = list(range(len(inventories))) if site_ids is None else list(site_ids)
    parsed = pd.Series([_parse_inventory(v, s) for v, s in zip(inventories, ids)], dtype=object)
    items = parsed.explode().dropna()
    if items.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in _ITEM_COLUMNS}).astype(
            {"site": int, "item": int, "quantity_t": float, "critical_t": float, "beta": float,
             "ratio": float, "known": bool})
    df = pd.DataFrame(items.tolist(), index=items.index).reindex(columns=["name", "cas", "quantity_t", "ghs"])
    df["site"] = df.index.to_numpy(dtype=int)
    df = df.reset_index(drop=True)
    df["item"] = df.groupby("site").cumcount() + 1
    quantity = pd.to_numeric(df["quantity_t"], errors="coerce")
    bad = quantity.isna() | (quantity < 0) | ~np.isfinite(quantity.fillna(0))
    if bad.any():
        problems = [Problem(str(ids[s]), "inventory", f"item {n!r}: quantity_t "
                            f"{'missing' if q is None or q != q else repr(q)} is not a number of tonnes ≥ 0")
                    for s, n, q in df.loc[bad, ["site", "name", "quantity_t"]].itertuples(index=False)]
        raise ValidationError("hazard_sites", problems)
    df["quantity_t"] = quantity.astype(float)
    for col in ("name", "cas", "ghs"):
        df[col] = df[col].astype(object).where(df[col].notna(), None)
    df = df.join(rules.gb18218.match(df["name"], df["cas"], df["ghs"]))
    df["known"] = df["substance"].notna()
    df["ratio"] = df["quantity_t"] / df["critical_t"].astype(float)
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


def _item_reasons(items: pd.DataFrame) -> np.ndarray:
    """One sentence per item: its q/Q with β and where each figure comes from, or why it is not counted."""
    f = lambda col: items[col].map(_fmt).astype(str)
    figures = (" " + f("quantity_t") + " t / Q " + f("critical_t") + " t = " + f("ratio") + " (β "
               + f("beta") + ", " + items["beta_from"].astype(str) + "; " + items["hazard_class"].astype(str))
    table_1 = (items["substance"].astype(str) + figures + "; GB 18218-2018 Table 1 No. "
               + items["no"].astype(str) + ")")
    table_2 = ("'" + items["name"].fillna(items["cas"]).astype(str) + "' as " + items["substance"].astype(str)
               + figures + "; GB 18218-2018 Table 2, declared category, §4.1.2 b)")
    skipped = "item " + items["item"].astype(str) + ": " + items["problem"].astype(str) + "; not counted"
    return np.where(items["source"] == "table_1", table_1, np.where(items["source"] == "table_2", table_2, skipped))


def grade_sites(sites_gdf, rules: MajorHazardRules) -> pd.DataFrame:
    """Identify and grade major hazard sources (GB 18218-2018 §4.2.1 and §4.3).

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
        and ``reasons`` (list of sentences naming every substance and figure, with its table).
        An item matching neither Table 1 nor a declared Table 2 category is not counted (the
        import refuses such items; this engine may be handed other inventories): its reason says
        so, and ``attrs["warnings"]`` lists it, as every other item problem, with its site.

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
    grouped = known.assign(weighted=known["beta"].astype(float) * known["ratio"]).groupby("site")
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
    per_site = pd.Series(_item_reasons(items), index=items["site"].to_numpy()).groupby(level=0).agg(list)
    f = lambda a: pd.Series(a, dtype=float).map(_fmt).astype(str)
    threshold = _fmt(rules.ratio_threshold)
    identified = np.where(
        is_major,
        "Σq/Q = " + f(ratio_sum) + f" ≥ {threshold}: major hazard source (GB 18218-2018 §4.2.1)",
        "Σq/Q = " + f(ratio_sum) + f" < {threshold}: not a major hazard source (GB 18218-2018 §4.2.1)",
    )
    who = np.where(unknown_people, "people within 500 m unknown: highest band taken",
                   people.fillna(0).astype(int).astype(str) + " people within 500 m")
    alpha_reason = "α = " + f(alpha) + " (" + who + "; GB 18218-2018 Table 5)"
    grade_s = pd.Series(grade).map(lambda g: f" → {_GRADE_ZH.get(g, '')} (grade {g}; GB 18218-2018 §4.3, Table 6)")
    r_reason = ("R = α·Σβq/Q = " + f(alpha) + " × " + f(weighted) + " = " + f(r)
                + np.where(is_major, grade_s, ""))
    declared = pd.to_numeric(pd.Series(sites_gdf.get("major_hazard_grade", pd.Series([None] * n))
                                       .to_numpy()), errors="coerce")
    extra = np.where(declared.notna() & (declared.fillna(-1).to_numpy() != grade),
                     "declared grade " + declared.fillna(0).astype(int).astype(str)
                     + " differs from the computed grade " + pd.Series(grade).astype(str), "")
    reasons = [list(per_site.get(i, [])) + [a, b, c] + ([e] if e else [])
               for i, a, b, c, e in zip(range(n), identified, alpha_reason, r_reason, extra)]
    flagged = items[items["problem"].notna()]
    warnings = [f"site {ids[s]}: item {k}: {p}" + (f"; counted as {key}" if counted else "; not counted")
                for s, k, p, key, counted in zip(flagged["site"], flagged["item"], flagged["problem"],
                                                 flagged["substance"], flagged["known"])]
    out = pd.DataFrame(
        {"site_id": ids, "ratio_sum": ratio_sum, "R": r, "alpha": alpha,
         "grade": grade.astype(int), "reasons": reasons},
        index=sites_gdf.index,
    )
    out.attrs["warnings"] = warnings
    return out

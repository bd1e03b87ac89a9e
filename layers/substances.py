"""GB 18218-2018 substances and hazard categories, and how an inventory item is matched to them.

A hazardous-chemical site's inventory (``hazard_sites.inventory``) lists items
``{"name", "cas", "quantity_t", "ghs"}``. Whether the site is a major hazard source, and its grade,
depend on each item's critical quantity Q and correction factor β, which GB 18218-2018 gives in
two ways (§4.1.2):

a) for the 85 substances **named in Table 1**, Q from that table (β from Table 3 for the toxic
   gases it names, else from Table 4 by the substance's category);
b) for any other substance, Q from **Table 2** and β from **Table 4**, by its hazard category
   (GHS class and category, e.g. W5.3 "flammable liquid category 2"); a substance of several
   categories takes the lowest Q.

Both tables live in the rule set (``[substances]`` and ``[major_hazard.categories]`` of
``data/rules/default.toml``), every figure with its clause. This module parses them and matches
items, and both the import check (:mod:`layers.validate`, which reads the shipped rule set through
:func:`riskmap_data.rules_file`) and the engine (:mod:`zoning.hazards.major_hazard`, with whatever
rule set it runs) call the same :meth:`SubstanceTable.match`, so the two cannot disagree.

Matching, per item (:meth:`SubstanceTable.match`):

1. by **CAS** number first (full-width digits and dashes accepted); a CAS shared by several rows
   (the grades of nitrocellulose, ammonium nitrate, potassium nitrate) goes to the row of lowest Q
   unless the name picks another of them;
2. else by **name**: the row's key, Chinese name or an alias, ignoring case, blanks, punctuation and
   full-width forms (``" Hydrogen-Sulfide "``, ``"（液氯）"``);
3. else by the declared category ``"ghs"`` (a key of Table 2 such as ``"flammable_liquid_2"``, or
   its symbol ``"W5.3"``; a list for a substance of several categories).

A name and a CAS that name two different Table 1 rows, an unknown category, and an item matching
nothing are *problems*: the import refuses them, the engine warns. Mixtures (§4.2.3) are out of
scope: an item is taken as the pure substance it names; describe a mixture by its category, under
a name and CAS that are not Table 1's.

>>> table = default_table()
>>> len(table.substances), len(table.categories)
(85, 24)
>>> table.find("107-13-1").key, table.find("丙烯腈").critical_t, table.find("ＡＣＲＹＬＯＮＩＴＲＩＬＥ").no
('acrylonitrile', 50.0, 61)
>>> table.category("W5.3").key, table.category("flammable_liquid_2").critical_t
('flammable_liquid_2', 1000.0)
"""

from __future__ import annotations

import math
import re
import tomllib
import unicodedata
from dataclasses import dataclass
from functools import cache, cached_property

import numpy as np
import pandas as pd

from geo.errors import InputError
from riskmap_data import rules_file

__all__ = ["HAZARD_CLASSES", "TABLE_3", "Substance", "Category", "SubstanceTable", "parse_tables",
           "default_table", "normalise_names", "normalise_cas", "cas_is_valid"]

#: Hazard classes a substance may have; they pick the GB/T 37243-2019 method and table distance.
HAZARD_CLASSES = ("explosive", "flammable_gas", "toxic_gas", "flammable_liquid", "oxidizer", "other")
#: A multi-category item takes the hazard class that comes first here (the strictest method first).
_PRECEDENCE = ("explosive", "toxic_gas", "flammable_gas", "flammable_liquid", "oxidizer", "other")
_BURNING = ("explosive", "flammable_gas", "flammable_liquid")
#: ``beta_from`` of a Table 1 row whose β is Table 3's (a toxic gas named there).
TABLE_3 = "table_3"
_CAS = re.compile(r"(\d{2,7})-(\d{2})-(\d)")
_DASHES = str.maketrans({c: "-" for c in "‐‑‒–—―−"})
#: What :meth:`SubstanceTable._declared` gives when no item declares a category.
_NO_CATEGORY = pd.DataFrame(columns=["key", "critical_t", "beta", "hazard_class", "flammable", "symbols"])
_MATCH_COLUMNS = ["substance", "source", "no", "critical_t", "beta", "beta_from", "hazard_class",
                  "flammable", "problem", "problem_kind"]


@dataclass(frozen=True)
class Category:
    """One row of GB 18218-2018 Table 2 (critical quantity) with its Table 4 β."""

    key: str
    symbol: str
    zh: str
    critical_t: float
    beta: float
    hazard_class: str
    flammable: bool


@dataclass(frozen=True)
class Substance:
    """One row of GB 18218-2018 Table 1: 序号 ``no``, names, CAS, critical quantity and β.

    ``beta_from`` is :data:`TABLE_3` or the key of the Table 2 category whose Table 4 β the row
    takes ("" in a rule set that does not say).
    """

    key: str
    zh: str
    cas: str
    hazard_class: str
    critical_t: float
    beta: float
    flammable: bool
    aliases: tuple[str, ...] = ()
    no: int = 0
    other_cas: tuple[str, ...] = ()
    beta_from: str = ""


def cas_is_valid(cas: str) -> bool:
    """True if ``cas`` is a CAS registry number whose check digit is right.

    >>> cas_is_valid("7782-50-5"), cas_is_valid("7782-50-6"), cas_is_valid("chlorine")
    (True, False, False)
    """
    m = _CAS.fullmatch(cas)
    if m is None:
        return False
    digits = (m[1] + m[2])[::-1]
    return sum(i * int(d) for i, d in enumerate(digits, start=1)) % 10 == int(m[3])


@cache
def _dropped() -> dict[int, None]:
    """Punctuation, separators and control characters of the BMP (removed from names)."""
    return {i: None for i in range(0x10000) if unicodedata.category(chr(i))[0] in "PZC"}


def _name_key(value) -> str | None:
    if not isinstance(value, str):
        return None
    text = unicodedata.normalize("NFKC", value).casefold().translate(_dropped())
    return text.replace("<=", "≤").replace(">=", "≥") or None


def _cas_key(value) -> str | None:
    if not isinstance(value, str):
        return None
    text = "".join(unicodedata.normalize("NFKC", value).translate(_DASHES).split())
    return text if _CAS.fullmatch(text) else None


def normalise_names(values) -> pd.Series:
    """Names as compared: NFKC (full-width → ASCII), case-folded, ``<=``/``>=`` as ``≤``/``≥``,
    without punctuation or blanks; None where nothing is left or the value is not text.

    (Plain Python per value: pandas' string methods loop in Python too, with more overhead.)

    >>> normalise_names(pd.Series(["  Hydrogen-Sulfide ", "（液氯）", "2,4,6-TNT", "--", None])).tolist()
    ['hydrogensulfide', '液氯', '246tnt', None, None]
    """
    values = pd.Series(values, dtype=object)
    return pd.Series([_name_key(v) for v in values], index=values.index, dtype=object)


def normalise_cas(values) -> pd.Series:
    """CAS numbers as compared (NFKC, any dash as ``-``, blanks removed); None unless well formed.

    >>> normalise_cas(pd.Series(["７７８２－５０－５", " 7782 -50-5", "7782505", None])).tolist()
    ['7782-50-5', '7782-50-5', None, None]
    """
    values = pd.Series(values, dtype=object)
    return pd.Series([_cas_key(v) for v in values], index=values.index, dtype=object)


def _category_name(value: str) -> str:
    """A category key or symbol as compared: ``"Flammable liquid-2"`` → ``"flammable_liquid_2"``."""
    return re.sub(r"[\s\-_]+", "_", unicodedata.normalize("NFKC", value).casefold().strip())


@dataclass(frozen=True)
class SubstanceTable:
    """GB 18218-2018 Table 1 (:class:`Substance`) and Table 2 with Table 4 (:class:`Category`)."""

    substances: tuple[Substance, ...]
    categories: tuple[Category, ...] = ()

    # ------------------------------------------------------------------ look-ups (built once)
    @cached_property
    def _names(self) -> dict[str, str]:
        """Normalised key, Chinese name and aliases → substance key; raises if one is claimed twice."""
        keys = [s.key for s in self.substances for _ in range(2 + len(s.aliases))]
        names = [n for s in self.substances for n in (s.key, s.zh, *s.aliases)]
        out: dict[str, str] = {}
        for key, norm, raw in zip(keys, normalise_names(names), names):
            if norm is None:
                continue
            if out.setdefault(norm, key) != key:
                raise InputError(f"{_path('substances', key)}: {raw!r} is also claimed by "
                                 f"{_path('substances', out[norm])}")
        return out

    @cached_property
    def _cas(self) -> dict[str, str]:
        """CAS → substance key; a CAS of several rows goes to the one of lowest Q (then the first)."""
        out: dict[str, Substance] = {}
        for s in self.substances:
            for cas in {s.cas, *s.other_cas} - {""}:
                if cas not in out or s.critical_t < out[cas].critical_t:
                    out[cas] = s
        return {cas: s.key for cas, s in out.items()}

    @cached_property
    def _pairs(self) -> frozenset[str]:
        """``"key|cas"`` for every CAS of every row (does a name's row hold the given CAS?)."""
        return frozenset(f"{s.key}|{c}" for s in self.substances for c in {s.cas, *s.other_cas} - {""})

    @cached_property
    def _category_names(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for c in self.categories:
            for name in (c.key, c.symbol):
                if out.setdefault(_category_name(name), c.key) != c.key:
                    raise InputError(f"{_path('major_hazard.categories', c.key)}: {name!r} is also "
                                     f"claimed by {_path('major_hazard.categories', out[_category_name(name)])}")
        clash = sorted({c.key for c in self.categories} & {s.key for s in self.substances})
        if clash:
            raise InputError(f"{_path('major_hazard.categories', clash[0])}: the key is also a substance's")
        return out

    @cached_property
    def _rows(self) -> pd.DataFrame:
        """Table 1 as a frame indexed by key, with the β source as it reads in reasons."""
        symbol = {c.key: c.symbol for c in self.categories}
        return pd.DataFrame(
            [(s.key, s.no, s.critical_t, s.beta,
              "Table 3" if s.beta_from == TABLE_3 else
              f"Table 4 {symbol[s.beta_from]}" if s.beta_from in symbol else "rule set",
              s.hazard_class, s.flammable, s.beta_from == TABLE_3) for s in self.substances],
            columns=["key", "no", "critical_t", "beta", "beta_from", "hazard_class", "flammable", "table_3"],
        ).set_index("key")

    @cached_property
    def _category_rows(self) -> pd.DataFrame:
        return pd.DataFrame(
            [(c.key, c.symbol, c.critical_t, c.beta, c.hazard_class, c.flammable, _PRECEDENCE.index(c.hazard_class))
             for c in self.categories],
            columns=["key", "symbol", "critical_t", "beta", "hazard_class", "flammable", "rank"],
        ).set_index("key")

    def find(self, name_or_cas: str) -> Substance | None:
        """The Table 1 row called ``name_or_cas`` (CAS, key, Chinese name or alias), or None."""
        key = self._cas.get(_cas_key(name_or_cas)) or self._names.get(_name_key(name_or_cas))
        return None if key is None else next(s for s in self.substances if s.key == key)

    def category(self, key_or_symbol: str) -> Category | None:
        """The Table 2 category with this key or symbol (e.g. ``"W5.3"``), or None."""
        key = self._category_names.get(_category_name(str(key_or_symbol)))
        return None if key is None else next(c for c in self.categories if c.key == key)

    def category_list(self) -> str:
        """The valid category keys with their symbols, for error messages."""
        return ", ".join(f"{c.key} ({c.symbol})" for c in self.categories)

    # ------------------------------------------------------------------ matching
    def match(self, name, cas, ghs=None) -> pd.DataFrame:
        """Match inventory items to Table 1, else to their declared Table 2 categories.

        Parameters
        ----------
        name, cas : pandas.Series
            The items' names and CAS numbers (None where not given).
        ghs : pandas.Series, optional
            Declared categories: a key or symbol of Table 2, a list of them, or None.

        Returns
        -------
        pandas.DataFrame
            Indexed like ``name``: ``substance`` (Table 1 key, or for a category item the key of
            the category that sets its hazard class; None when unmatched), ``source``
            (``"table_1"``, ``"table_2"`` or None), ``no`` (Table 1 序号, 0 otherwise),
            ``critical_t`` Q, ``beta`` β, ``beta_from`` (e.g. ``"Table 3"``, ``"Table 4 W5.1,
            declared"``), ``hazard_class``, ``flammable``, ``problem`` (None, or a sentence
            naming the item, what is wrong and how to fix it) and ``problem_kind``
            (``"conflict"``: name and CAS of two Table 1 rows, the CAS taken; ``"ghs"``: an
            unknown category; ``"unmatched"``: neither table).

        Examples
        --------
        Acrylonitrile is in Table 1; acrylic acid is not, and is graded by its category (a
        flammable liquid of category 3, W5.4); a substance of two categories takes the lowest Q
        and the highest β:

        >>> items = default_table().match(
        ...     pd.Series(["丙烯腈", "acrylic acid", "new product", "x"]),
        ...     pd.Series([None, "79-10-7", None, None]),
        ...     pd.Series([None, "W5.4", ["flammable_liquid_3", "J3"], "W99"]))
        >>> items[["substance", "critical_t", "beta", "beta_from"]].values.tolist()[:3]
        [['acrylonitrile', 50.0, 1.0, 'Table 4 W5.3'], ['flammable_liquid_3', 5000.0, 1.0, 'Table 4 W5.4'], ['acute_toxicity_2_3_gas', 50.0, 2.0, 'Table 4 J3+W5.4']]
        >>> items.loc[3, "problem"]
        "'x': ghs 'W99' is not a GB 18218-2018 Table 2 category"
        """
        name = pd.Series(name, dtype=object)
        index = name.index
        cas = pd.Series(cas, dtype=object, index=index) if not isinstance(cas, pd.Series) else cas
        given_cas = normalise_cas(cas)
        by_name = normalise_names(name).map(self._names).astype(object)
        by_cas = given_cas.map(self._cas).astype(object)
        shares = (by_name.astype(str) + "|" + given_cas.astype(str)).isin(self._pairs)
        use_name = by_name.notna() & (by_cas.isna() | shares)
        chosen = by_name.where(use_name, by_cas)
        conflict = (by_name.notna() & by_cas.notna() & ~use_name).to_numpy()

        declared, bad_ghs = self._declared(ghs, index)
        table_1, has_category = chosen.notna().to_numpy(), index.isin(declared.index)
        out = (self._rows.reindex(chosen.where(chosen.notna(), "").to_numpy()).set_axis(index)
               .astype({"beta_from": object, "hazard_class": object, "flammable": object}))
        out.insert(0, "substance", chosen.where(chosen.notna(), None))
        decl = declared.reindex(index)
        # β of a Table 1 row not in Table 3 follows the category the item declares (Table 4).
        override = table_1 & has_category & ~out["table_3"].fillna(False).to_numpy(dtype=bool)
        if override.any():
            out.loc[override, "beta"] = decl.loc[override, "beta"]
            out.loc[override, "beta_from"] = "Table 4 " + decl.loc[override, "symbols"] + ", declared"
        by_category = ~table_1 & has_category
        if by_category.any():
            for column in ("critical_t", "beta", "hazard_class", "flammable"):
                out.loc[by_category, column] = decl.loc[by_category, column]
            out.loc[by_category, "substance"] = decl.loc[by_category, "key"]
            out.loc[by_category, "beta_from"] = "Table 4 " + decl.loc[by_category, "symbols"]
        out["source"] = pd.Series(np.where(table_1, "table_1", np.where(by_category, "table_2", "")),
                                  index=index, dtype=object).replace("", None)
        out["no"] = out["no"].fillna(0).astype(int)
        out["flammable"] = out["flammable"].astype(object).where(out["substance"].notna(), None)

        problem = pd.Series([None] * len(index), index=index, dtype=object)
        kind = problem.copy()
        unmatched = ~table_1 & ~has_category & ~index.isin(bad_ghs.index)
        if not (conflict.any() or len(bad_ghs) or unmatched.any()):
            out["problem"], out["problem_kind"] = problem, kind
            return out[_MATCH_COLUMNS]
        what = _describe(name, cas)
        if conflict.any():
            rows = self._rows["no"]
            problem[conflict] = (what[conflict] + ": the name is GB 18218-2018 Table 1 No. "
                                 + by_name[conflict].map(rows).astype(str) + " (" + by_name[conflict]
                                 + ") but the CAS is No. " + by_cas[conflict].map(rows).astype(str)
                                 + " (" + by_cas[conflict] + "): correct the name or the CAS")
            kind[conflict] = "conflict"
        if len(bad_ghs):
            text = what[bad_ghs.index] + ": ghs " + bad_ghs.map(repr) + " is not a GB 18218-2018 Table 2 category"
            problem[text.index] = _joined(problem[text.index], text)
            kind[text.index] = "ghs"
        problem[unmatched] = (what[unmatched] + ": in neither GB 18218-2018 Table 1 nor Table 2: give the CAS"
                              " or name of a Table 1 substance, or declare its GHS category (\"ghs\")")
        kind[unmatched] = "unmatched"
        out["problem"], out["problem_kind"] = problem, kind
        return out[_MATCH_COLUMNS]

    def _declared(self, ghs, index) -> tuple[pd.DataFrame, pd.Series]:
        """Per item declaring valid categories: Q (lowest, §4.1.2 b), β (highest), class, symbols;
        and the first unknown value of each item declaring one."""
        if ghs is None:
            ghs = pd.Series([None] * len(index), index=index, dtype=object)
        values = pd.Series(ghs, dtype=object, index=index).map(_as_list).explode().dropna()
        if values.empty:
            return _NO_CATEGORY, values
        keys = values.astype(str).map(lambda v: self._category_names.get(_category_name(v)))
        bad = values[keys.isna()]
        bad = bad[~bad.index.duplicated()]
        good = keys.dropna()
        rows = self._category_rows.reindex(good.to_numpy()).set_axis(good.index).reset_index(names="item")
        rows["key"] = good.to_numpy()
        rows = rows.sort_values(["item", "rank", "critical_t"], kind="stable")
        grouped = rows.groupby("item", sort=True)
        declared = grouped.agg(key=("key", "first"), critical_t=("critical_t", "min"), beta=("beta", "max"),
                               hazard_class=("hazard_class", "first"), flammable=("flammable", "any"))
        joined = rows.drop_duplicates(["item", "symbol"]).assign(symbol=lambda r: r["symbol"] + "+")
        declared["symbols"] = joined.groupby("item", sort=True)["symbol"].sum().str[:-1]
        declared = declared.drop(index=bad.index, errors="ignore")
        return declared, bad


def _as_list(value) -> list:
    """A declared ``ghs`` as a list of values (none for a missing or blank one)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return []
    values = value if isinstance(value, (list, tuple)) else [value]
    return [v for v in values if not (isinstance(v, str) and not v.strip())]


def _describe(name: pd.Series, cas: pd.Series) -> pd.Series:
    """``'name' (CAS x)`` for each item, as it was given."""
    has_name = name.notna() & (name.astype(str).str.strip() != "")
    has_cas = cas.notna() & (cas.astype(str).str.strip() != "")
    text = pd.Series(np.where(has_name, "'" + name.astype(str) + "'", "an item without a name"), index=name.index)
    return text + np.where(has_cas, " (CAS " + cas.astype(str) + ")", "")


def _joined(first: pd.Series, second: pd.Series) -> pd.Series:
    return second.where(first.isna(), first.astype(str) + "; " + second)


def _path(table: str, key: str) -> str:
    return f'{table}."{key}"' if any(c in key for c in ' ."') else f"{table}.{key}"


# ---------------------------------------------------------------------------- parsing the rule set
def _field(entry: dict, field: str, kind, root: str, default=None):
    if field not in entry:
        if default is not None:
            return default
        raise InputError(f"{root}.{field}: missing")
    value = entry[field]
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        names = {float: "a number", str: "a string", bool: "true/false", list: "a list", int: "an integer"}
        raise InputError(f"{root}.{field}: expected {names[kind]}, got {value!r}")
    return value


def _positive(entry: dict, field: str, root: str) -> float:
    value = _field(entry, field, float, root)
    if not math.isfinite(value) or value <= 0:
        raise InputError(f"{root}.{field}: {value!r} is not above 0")
    return value


def _hazard_class(entry: dict, root: str) -> str:
    value = _field(entry, "hazard_class", str, root)
    if value not in HAZARD_CLASSES:
        raise InputError(f"{root}.hazard_class: {value!r} is not one of {', '.join(HAZARD_CLASSES)}")
    return value


def _strings(entry: dict, field: str, root: str) -> tuple[str, ...]:
    values = _field(entry, field, list, root, default=[])
    if not all(isinstance(v, str) and v.strip() for v in values):
        raise InputError(f"{root}.{field}: expected a list of non-empty strings, got {values!r}")
    return tuple(v.strip() for v in values)


def _category(key: str, entry) -> Category:
    root = _path("major_hazard.categories", key)
    if not isinstance(entry, dict):
        raise InputError(f"{root}: expected a table, got {entry!r}")
    hazard_class = _hazard_class(entry, root)
    return Category(key=key, symbol=_field(entry, "symbol", str, root).strip(),
                    zh=_field(entry, "zh", str, root, default=""),
                    critical_t=_positive(entry, "critical_t", root), beta=_positive(entry, "beta", root),
                    hazard_class=hazard_class,
                    flammable=_field(entry, "flammable", bool, root, default=hazard_class in _BURNING))


def _substance(key: str, entry, categories: dict[str, Category]) -> Substance:
    root = _path("substances", key)
    if not isinstance(entry, dict):
        raise InputError(f"{root}: expected a table, got {entry!r}")
    if key != key.strip().lower():
        raise InputError(f"{root}: substance keys are lower-case names, e.g. {key.strip().lower()!r}")
    hazard_class = _hazard_class(entry, root)
    critical_t, beta = _positive(entry, "critical_t", root), _positive(entry, "beta", root)
    cas = _field(entry, "cas", str, root).strip()
    other_cas = _strings(entry, "other_cas", root)
    for number in (cas, *other_cas):
        if number and not cas_is_valid(number):
            raise InputError(f"{root}: {number!r} is not a CAS number with a right check digit")
    beta_from = _field(entry, "beta_from", str, root, default="")
    if beta_from and beta_from != TABLE_3:
        if beta_from not in categories:
            raise InputError(f"{root}.beta_from: {beta_from!r} is neither {TABLE_3!r} nor a key of "
                             "[major_hazard.categories]")
        if categories[beta_from].beta != beta:
            raise InputError(f"{root}.beta: {beta:g} differs from the Table 4 β {categories[beta_from].beta:g} "
                             f"of {beta_from} ({categories[beta_from].symbol}), its beta_from")
    no = _field(entry, "no", int, root, default=0)
    if no < 0:
        raise InputError(f"{root}.no: {no!r} is below 0")
    return Substance(key=key, zh=_field(entry, "zh", str, root, default=""), cas=cas, hazard_class=hazard_class,
                     critical_t=critical_t, beta=beta,
                     flammable=_field(entry, "flammable", bool, root, default=hazard_class in _BURNING),
                     aliases=_strings(entry, "aliases", root), no=no, other_cas=other_cas, beta_from=beta_from)


def parse_tables(substances, categories) -> SubstanceTable:
    """Check and read the ``[substances]`` and ``[major_hazard.categories]`` tables of a rule set.

    Raises
    ------
    geo.errors.InputError
        Naming the key path: a missing or out-of-range figure
        (``substances.chlorine.critical_t: -5.0 is not above 0``), an unknown hazard class, a CAS
        number with a wrong check digit, a β that differs from the Table 4 β of the category it
        cites, a Table 1 序号 used twice, or a name, alias or symbol claimed twice.
    """
    if not isinstance(substances, dict) or not substances:
        raise InputError("substances: the table is empty")
    if not isinstance(categories, dict):
        raise InputError(f"major_hazard.categories: expected a table, got {categories!r}")
    cats = {key: _category(key, entry) for key, entry in categories.items()}
    rows = tuple(_substance(key, entry, cats) for key, entry in substances.items())
    numbers = [s.no for s in rows if s.no]
    if len(numbers) != len(set(numbers)):
        twice = sorted({n for n in numbers if numbers.count(n) > 1})
        raise InputError(f"substances: Table 1 No. {twice[0]} is given to more than one substance")
    table = SubstanceTable(rows, tuple(cats.values()))
    table._names, table._category_names  # noqa: B018 - build the look-ups now: they raise on a name claimed twice
    return table


@cache
def default_table() -> SubstanceTable:
    """The tables of the shipped default rule set (what the import check matches against)."""
    tables = tomllib.loads(rules_file().read_text(encoding="utf-8"))
    return parse_tables(tables.get("substances"), tables.get("major_hazard", {}).get("categories", {}))

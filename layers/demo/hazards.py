"""Generated hazardous-chemical sites (危险化学品场所) on about 15 % of the industrial plots.

Each site is a point at its plot's centroid with an inventory of one to four substances drawn from
a starter list of common ones (named exactly as the rule set's substance table names them, so the
engine finds them). Quantities are drawn as multiples of each substance's GB 18218-2018 critical
quantity Q, read from the rule set (``data/rules/default.toml``, table ``[substances]``), so that
about one site in four reaches Σ q/Q ≥ 1 and is a major hazard source, of every grade. The declared grade
(``major_hazard_grade``) is the one GB 18218-2018 §4.2 gives with the rule set's own figures
(R = α·Σ β·q/Q, α by the people within 500 m), so the engine's check of declared against computed
grades finds them consistent. Processes (comma separated; null for none) are drawn from the
key-supervised hazardous processes.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import shapely

from geo.errors import InputError
from layers.demo.sampling import demo_ids, demo_names

__all__ = ["SUBSTANCES", "NOT_KEY_SUPERVISED", "PROCESSES", "SITE_SHARE", "hazard_sites"]

#: The starter list: rule-set substance names (lower case) and how common each is in the demo.
SUBSTANCES = {
    "chlorine": 6, "ammonia": 10, "liquefied petroleum gas": 10, "hydrogen": 6, "methanol": 12,
    "benzene": 6, "toluene": 10, "gasoline": 10, "ethylene oxide": 3, "hydrogen sulphide": 2,
    "hydrogen fluoride": 2, "phosgene": 1, "tnt": 1, "ammonium nitrate": 1,
}
#: Substances that are not key-supervised hazardous chemicals (重点监管危险化学品); every other
#: demo substance is on that list (安监总管三〔2011〕95号, 〔2013〕12号).
NOT_KEY_SUPERVISED = frozenset({"tnt"})
#: Key-supervised hazardous processes (重点监管危险化工工艺) a site may run.
PROCESSES = ("nitration", "chlorination", "fluorination", "diazotisation", "peroxidation")
#: Share of the plots that hold a hazardous-chemical site.
SITE_SHARE = 0.15
_LAND_USE_WEIGHT = {"M1": 0.5, "M2": 1.5, "M3": 4.0, "W": 1.5, "other": 0.5}


def _check(rules: dict) -> None:
    missing = [s for s in SUBSTANCES if s not in rules.get("substances", {})]
    if missing:
        raise InputError(f"the rule set has no [substances] entry for {', '.join(missing)}")
    if "major_hazard" not in rules:
        raise InputError("the rule set has no [major_hazard] table")


def _grade(ratio: np.ndarray, weighted: np.ndarray, people: np.ndarray, rules: dict) -> np.ndarray:
    """GB 18218-2018 §4.2 grade with the rule set's α bands and grade cut points (0 = none)."""
    mh = rules["major_hazard"]
    alpha = np.zeros(people.size)
    for band in sorted(mh["alpha"], key=lambda b: b["min_people"]):
        alpha[people >= band["min_people"]] = band["alpha"]
    r = alpha * weighted
    grade = np.zeros(people.size, dtype=int)
    for band in sorted(mh["grades"], key=lambda b: b["min_r"]):
        grade[r >= band["min_r"]] = band["grade"]
    grade[ratio < mh.get("ratio_threshold", 1.0)] = 0
    return grade


def _round_sig(q: np.ndarray, digits: int = 3) -> np.ndarray:
    mag = np.floor(np.log10(np.maximum(q, 1e-9)))
    scale = 10.0 ** (digits - 1 - mag)
    return np.maximum(np.round(q * scale) / scale, 0.01)


def hazard_sites(
    rng: np.random.Generator, plots: pd.DataFrame, rules: dict
) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """Hazardous-chemical sites on about :data:`SITE_SHARE` of ``plots`` (metric geometry).

    Parameters
    ----------
    rng : numpy.random.Generator
    plots : pandas.DataFrame
        Generated plots (``plot_id``, ``land_use``, ``geometry``).
    rules : dict
        The rule set (:func:`~layers.demo.sampling.read_ruleset`), with ``[substances]``
        (critical_t, beta, cas) and ``[major_hazard]`` (alpha, grades, ratio_threshold).

    Returns
    -------
    sites : pandas.DataFrame
        The ``hazard_sites`` fields and a point ``geometry`` (the plot centroid).
    plot_updates : dict
        Per-plot arrays to apply to ``plots``: ``major_hazard_grade``, ``key_process``,
        ``key_chemical``, ``ammonia_refrigeration`` (True where the site made it so).
    """
    _check(rules)
    table = rules["substances"]
    names = np.array(list(SUBSTANCES), dtype=object)
    critical = np.array([table[s]["critical_t"] for s in names], dtype=float)
    beta = np.array([table[s]["beta"] for s in names], dtype=float)
    cas = [table[s]["cas"] for s in names]
    freq = np.array(list(SUBSTANCES.values()), dtype=float)

    n_plots = len(plots)
    n = max(1, int(round(SITE_SHARE * n_plots)))
    w = plots["land_use"].map(_LAND_USE_WEIGHT).fillna(1.0).to_numpy(dtype=float)
    on = np.sort(rng.choice(n_plots, size=n, replace=False, p=w / w.sum()))

    # one to four distinct substances per site: top-k of Gumbel-perturbed log frequencies
    k = 1 + rng.binomial(3, 0.3, n)
    keys = np.log(freq)[None, :] + rng.gumbel(size=(n, names.size))
    order = np.argsort(-keys, axis=1)
    held = np.zeros((n, names.size), dtype=bool)
    np.put_along_axis(held, order, np.arange(names.size)[None, :] < k[:, None], axis=1)
    # most holdings are small fractions of Q; one in seven is a large store of a few Q
    large = rng.random((n, names.size)) < 0.15
    share = np.where(
        large, rng.lognormal(np.log(3.0), 1.2, large.shape), rng.lognormal(np.log(0.15), 1.0, large.shape)
    )
    qty = np.where(held, _round_sig(share * critical[None, :]), 0.0)
    ratio = (qty / critical).sum(axis=1)
    weighted = (beta * qty / critical).sum(axis=1)
    people = np.where(rng.random(n) < 0.05, 0, np.round(rng.lognormal(np.log(250.0), 1.3, n))).astype(int)
    grade = _grade(ratio, weighted, people, rules)

    inventory = [
        json.dumps(
            [{"name": names[j], "cas": cas[j], "quantity_t": float(qty[i, j])}
             for j in np.flatnonzero(held[i])],
            ensure_ascii=False,
        )
        for i in range(n)
    ]
    n_proc = np.where(rng.random(n) < 0.25, 1 + (rng.random(n) < 0.2), 0)
    proc_order = np.argsort(rng.random((n, len(PROCESSES))), axis=1)
    processes = np.array(
        [",".join(PROCESSES[p] for p in sorted(proc_order[i, : n_proc[i]])) or None for i in range(n)],
        dtype=object,
    )
    declared = np.where(rng.random(n) < 0.10, np.round(rng.uniform(50.0, 1200.0, n), -1), np.nan)

    centroids = shapely.centroid(plots["geometry"].to_numpy()[on])
    sites = pd.DataFrame(
        {
            "site_id": demo_ids("HS", n),
            "plot_id": plots["plot_id"].to_numpy()[on],
            "name": demo_names("危化场所", n),
            "inventory": inventory,
            "major_hazard_grade": grade,
            "processes": processes,
            "declared_distance_m": declared,
            "people_500m": people,
            "generated": True,
            "geometry": centroids,
        }
    )
    key_held = held[:, [s not in NOT_KEY_SUPERVISED for s in names]].any(axis=1)
    ammonia = held[:, list(names).index("ammonia")] & (rng.random(n) < 0.3)
    updates = {}
    for field, values in (
        ("major_hazard_grade", grade), ("key_process", n_proc > 0), ("key_chemical", key_held),
        ("ammonia_refrigeration", ammonia),
    ):
        full = np.zeros(n_plots, dtype=values.dtype)
        full[on] = values
        updates[field] = full
    return sites, updates

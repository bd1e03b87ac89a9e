"""The ``hazards`` field of shelters: a set of known hazards, refused with the valid list otherwise.

An empty record means the catalogue's default (earthquake and fire, team's choice documented in
``layers/catalogue/shelters.py``); chemical release and flood are never assumed.
"""

from __future__ import annotations

import geopandas as gpd
import pytest
from shapely import Point

from layers.catalogue.shelters import DEFAULT_HAZARDS, SCHEMA, is_declared, shelter_hazards
from layers.errors import ValidationError
from layers.validate import validate_layer


def frame(*hazards):
    n = len(hazards)
    return gpd.GeoDataFrame({"shelter_id": [f"S{i}" for i in range(n)], "class": ["emergency"] * n,
                             "effective_area_m2": [1000.0] * n, "hazards": list(hazards)},
                            geometry=[Point(119.97, 31.8)] * n, crs="EPSG:4490")


@pytest.mark.parametrize("given, stored", [
    ("earthquake", "earthquake"), ("flood,earthquake", "earthquake,flood"), ("Fire; CHEMICAL", "fire,chemical"),
    ("地震、火灾、洪涝", "earthquake,fire,flood"), ("chemical release, earthquake", "earthquake,chemical"),
    ("fire,fire", "fire"), ("fire|flood", "fire,flood"),
])
def test_hazards_are_stored_as_codes_in_the_catalogue_order(given, stored):
    assert validate_layer("shelters", frame(given))["hazards"].iloc[0] == stored


def test_an_unknown_hazard_is_refused_naming_the_shelter_the_field_and_the_valid_keys():
    with pytest.raises(ValidationError) as e:
        validate_layer("shelters", frame("fire", "earthquake,tsunami", "landslide"))
    lines = [str(p) for p in e.value.problems]
    assert lines == ["S1: hazards: 'tsunami' is not one of: earthquake, fire, chemical, flood",
                     "S2: hazards: 'landslide' is not one of: earthquake, fire, chemical, flood"]


def test_no_hazards_means_the_default_and_says_so():
    clean = validate_layer("shelters", frame(None, "", "flood"))
    assert clean["hazards"].isna().tolist() == [True, True, False]
    assert shelter_hazards(clean["hazards"]).tolist() == [DEFAULT_HAZARDS, DEFAULT_HAZARDS, ("flood",)]
    assert is_declared(clean["hazards"]).tolist() == [False, False, True]
    assert "chemical" not in DEFAULT_HAZARDS and "flood" not in DEFAULT_HAZARDS


def test_the_field_is_public_with_bilingual_labels():
    field = SCHEMA.field("hazards")
    assert "hazards" in SCHEMA.public_fields and field.multiple
    assert [(c.value, c.zh) for c in field.choices] == [("earthquake", "地震"), ("fire", "火灾"),
                                                        ("chemical", "危化品泄漏"), ("flood", "洪涝")]

"""The layer catalogue: every layer of DESIGN.md's table with a well-formed schema."""

from __future__ import annotations

import pytest

from layers.catalogue import CATALOGUE, get_schema
from layers.errors import LayerNotFound

DESIGN_LAYERS = {"admin_areas", "industrial_plots", "hazard_sites", "protected_targets",
                 "rescue_stations", "shelters", "roads", "hidden_dangers", "inspections",
                 "responsibilities"}


def test_catalogue_holds_the_design_layers():
    assert set(CATALOGUE) == DESIGN_LAYERS


@pytest.mark.parametrize("name", sorted(DESIGN_LAYERS))
def test_schema_is_well_formed(name):
    schema = get_schema(name)
    names = schema.field_names
    assert len(names) == len(set(names)), "duplicate field names"
    assert schema.id_field in schema.required_fields
    for f in schema.fields:
        assert f.zh and f.en, f"{name}.{f.name} needs both labels"
        if f.choices:
            assert len(set(f.values)) == len(f.values)
            if f.default is not None:
                assert f.default in f.values
        if f.minimum is not None and f.maximum is not None:
            assert f.minimum <= f.maximum


def test_confidential_fields_are_never_public():
    plots = get_schema("industrial_plots")
    for secret in ("enterprise", "contact", "open_major_dangers", "tagged_dangers", "workers"):
        assert secret not in plots.public_fields
    assert get_schema("hazard_sites").public_fields == ()
    assert "inventory" not in get_schema("hazard_sites").public_fields
    assert plots.public_fields == ()  # plots reach the public only through the risk wall (level ≤ 2)


def test_unknown_layer_lists_known_ones():
    with pytest.raises(LayerNotFound, match="known layers: admin_areas"):
        get_schema("plots")


def test_enumeration_labels_are_bilingual():
    kind = get_schema("protected_targets").field("kind")
    assert kind.label("school") == "学校"
    assert kind.label("school", "en") == "school"


def test_every_number_field_is_bounded_both_ways():
    """Issue 14: a 1e308 population must be refused by validation; every int/float field has a range."""
    unbounded = [f"{name}.{f.name}" for name, schema in CATALOGUE.items() for f in schema.fields
                 if f.type in ("int", "float") and (f.minimum is None or f.maximum is None)]
    assert not unbounded, unbounded

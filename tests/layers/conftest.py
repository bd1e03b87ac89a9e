"""Fixtures of the layers and CLI tests: empty and seeded GeoPackage stores in a tmp folder."""

from __future__ import annotations

import shutil

import pytest

from layers.gpkg import GeoPackageStore
from layers_common import plots, stations


@pytest.fixture
def store(tmp_path) -> GeoPackageStore:
    """An empty store."""
    return GeoPackageStore.create(tmp_path / "city.gpkg")


@pytest.fixture(scope="session")
def _seeded_template(tmp_path_factory):
    from layers.validate import validate_layer

    template = GeoPackageStore.create(tmp_path_factory.mktemp("template") / "city.gpkg")
    template.write("industrial_plots", validate_layer("industrial_plots", plots(5)))
    template.write("rescue_stations", validate_layer("rescue_stations", stations(4)))
    return template.path


@pytest.fixture
def seeded_store(_seeded_template, tmp_path) -> GeoPackageStore:
    """A store holding 5 industrial plots and 4 rescue stations (version 1 each)."""
    path = tmp_path / "city.gpkg"
    shutil.copyfile(_seeded_template, path)
    return GeoPackageStore(path)

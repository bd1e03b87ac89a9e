"""copy_store / riskmap copy: a whole store between backends, losslessly (gpkg → postgis → gpkg)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely
from affine import Affine
from typer.testing import CliRunner

from layers.errors import StoreError
from layers.store import create_store, open_store
from layers.store_copy import copy_store
from layers.validate import validate_layer
from layers_common import plots, stations
from server.cli.main import app

runner = CliRunner()


@pytest.fixture
def rich_store(tmp_path):
    """A GeoPackage store with everything a store can hold: edits, retired rows, rasters, audit."""
    store = create_store(tmp_path / "source.gpkg")
    store.write("industrial_plots", validate_layer("industrial_plots", plots(40, seed=5)), actor="importer")
    store.write("rescue_stations", validate_layer("rescue_stations", stations(4)), actor="importer")
    store.write("risk_zones", store.read("industrial_plots")[["plot_id", "town", "geometry"]].assign(
        level=np.arange(40) % 4 + 1, share=np.linspace(0, 1, 40), reasons=[["a", "b"]] * 40), derived=True,
        ruleset_version="default@1", fingerprint="f00d", action="derive", actor="engine")
    row = store.read("industrial_plots", where={"plot_id": "P003"})
    store.edit("industrial_plots", row.assign(workers=77, geometry=[shapely.box(119.95, 31.7, 119.96, 31.71)]),
               ["P004", "P005"], {"P003": 1, "P004": 1, "P005": 1}, actor="alice", reason="survey")
    store.write_raster("risk_surface", (np.arange(513 * 300).reshape(300, 513) % 5).astype("uint8"),
                       {"crs": "EPSG:4549", "transform": Affine(100, 0, 4e5, 0, -100, 3.55e6), "nodata": 0,
                        "colormap": {0: (0, 0, 0, 0), 1: (215, 25, 28, 255)}, "tags": {"palette": "wall"}})
    people = np.random.default_rng(2).gamma(2, 40, (260, 1025)).astype("float32")
    people[:10] = -9999.0
    store.write_raster("population", people, {"crs": "EPSG:4549", "nodata": -9999.0,
                                              "transform": Affine(100, 0, 4e5, 0, -100, 3.56e6)}, derived=False)
    return store


def assert_same_store(a, b) -> None:
    """Every layer, row (values, versions, retired rows), raster cell and audit entry equal."""
    assert a.infos() == b.infos()
    for info in a.infos():
        if info.kind == "raster":
            with a.read_raster(info.name) as x, b.read_raster(info.name) as y:
                assert np.array_equal(x.read(1), y.read(1)), info.name
                assert (x.profile["dtype"], x.crs, x.transform, x.nodata, x.tags()) == \
                    (y.profile["dtype"], y.crs, y.transform, y.nodata, y.tags())
                assert (x.colormap(1) if info.name == "risk_surface" else None) == \
                    (y.colormap(1) if info.name == "risk_surface" else None)
            continue
        left, right = a.read(info.name, include_retired=True), b.read(info.name, include_retired=True)
        pd.testing.assert_frame_equal(pd.DataFrame(left.drop(columns="geometry")),
                                      pd.DataFrame(right.drop(columns="geometry")))
        assert left.geometry.geom_equals_exact(right.geometry, tolerance=1e-9).all(), info.name
        assert (shapely.to_wkb(left.geometry.values) == shapely.to_wkb(right.geometry.values)).mean() > 0.99
    pd.testing.assert_frame_equal(a.audit(limit=None), b.audit(limit=None))


def test_gpkg_to_postgis_to_gpkg_keeps_every_row_and_cell(rich_store, postgis_address, tmp_path):
    to_postgis = copy_store(rich_store, postgis_address)
    assert to_postgis.layers == {"industrial_plots": 38, "rescue_stations": 4, "risk_zones": 40}
    assert (sorted(to_postgis.rasters), to_postgis.retired) == (["population", "risk_surface"], 2)
    middle = open_store(postgis_address)
    assert_same_store(rich_store, middle)
    back = copy_store(middle, tmp_path / "back.gpkg")
    assert back.audit_rows == len(rich_store.audit(limit=None))
    assert_same_store(rich_store, open_store(tmp_path / "back.gpkg"))
    assert open_store(tmp_path / "back.gpkg").check(full=True) == []
    # the copy goes on as the original would: versions continue, conflicts still detected
    copy = open_store(tmp_path / "back.gpkg")
    row = copy.read("industrial_plots", where={"plot_id": "P003"}, versions=True)
    assert copy.edit("industrial_plots", row, actor="bob").versions == {"P003": 3}


def test_a_copy_refuses_a_target_that_holds_a_store(rich_store, tmp_path):
    create_store(tmp_path / "taken.gpkg")
    with pytest.raises(StoreError, match="already exists"):
        copy_store(rich_store, tmp_path / "taken.gpkg")


def test_a_failed_copy_leaves_no_target(rich_store, tmp_path, monkeypatch):
    import layers.gpkg_write

    def broken(self, name, raster):
        raise OSError("disk full")

    monkeypatch.setattr(layers.gpkg_write.GpkgTransaction, "put_raster", broken)
    with pytest.raises(StoreError, match="disk full"):
        copy_store(rich_store, tmp_path / "half.gpkg")
    assert not (tmp_path / "half.gpkg").exists()


def test_riskmap_copy_and_check_through_the_cli(rich_store, tmp_path, postgis_address):
    result = runner.invoke(app, ["copy", "--store", rich_store.address, postgis_address])
    assert result.exit_code == 0, result.output
    assert "industrial_plots" in result.stdout and "2 retired row(s)" in result.stdout
    assert "***" not in result.stdout or "@" in postgis_address
    result = runner.invoke(app, ["check", "--store", postgis_address])
    assert result.exit_code == 0 and "ok" in result.stdout, result.output
    again = runner.invoke(app, ["copy", "--store", rich_store.address, postgis_address])
    assert again.exit_code == 1 and "already holds a riskmap store" in again.stderr
    result = runner.invoke(app, ["copy", "-s", postgis_address, str(tmp_path / "out.gpkg"), "--json"])
    assert result.exit_code == 0, result.output
    assert '"retired": 2' in result.stdout

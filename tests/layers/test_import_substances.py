"""Importing hazard_sites: every inventory item must be a GB 18218-2018 Table 1 substance or declare
its Table 2 category, else the import names the site and the item and writes nothing.

Through the real importer (:func:`layers.io.import_layer`) and the CLI (``riskmap import``).
"""

from __future__ import annotations

import json

import pytest
from layers_common import hazard_sites, sha256
from typer.testing import CliRunner

from layers.errors import ValidationError
from layers.io import import_layer
from layers.substances import default_table
from server.cli.main import app

runner = CliRunner()


def _sites(*inventories):
    """hazard_sites H1, H2… with these inventories (lists of items)."""
    frame = hazard_sites(len(inventories))
    frame["inventory"] = [json.dumps(items, ensure_ascii=False) for items in inventories]
    return frame


def _file(tmp_path, frame, name="sites.gpkg"):
    path = tmp_path / name
    frame.to_file(path)
    return path


ACRYLONITRILE = {"name": "丙烯腈", "cas": "107-13-1", "quantity_t": 30.0}
METHYL_ACRYLATE = {"name": "丙烯酸甲酯", "cas": "96-33-3", "quantity_t": 12.0, "ghs": "flammable_liquid_2"}
UNLISTED = {"name": "acrylic acid", "cas": "79-10-7", "quantity_t": 3.0}


def test_table_1_substances_and_declared_categories_are_imported(store, tmp_path):
    full_width = {"name": "ＡＣＲＹＬＯＮＩＴＲＩＬＥ", "quantity_t": 1.0}     # No. 61 by its name, full width
    by_symbol = {"name": "某自反应物", "quantity_t": 2.0, "ghs": ["W6.2"]}
    path = _file(tmp_path, _sites([ACRYLONITRILE, METHYL_ACRYLATE], [full_width, by_symbol]))
    report = import_layer(store, "hazard_sites", path)
    assert report.rows == 2
    stored = [json.loads(text) for text in store.read("hazard_sites").sort_values("site_id")["inventory"]]
    assert stored[0][1]["ghs"] == "flammable_liquid_2" and stored[1][1]["ghs"] == ["W6.2"]


@pytest.mark.parametrize("inventory, fragments", [
    ([ACRYLONITRILE, UNLISTED],
     ["item 2: 'acrylic acid' (CAS 79-10-7): in neither GB 18218-2018 Table 1 nor Table 2",
      "give the CAS or name of a Table 1 substance, or declare its GHS category",
      '"ghs" is one of: acute_toxicity_1_gas (J1),', "flammable_liquid_2 (W5.3)", "water_reactive_1_2 (W11)"]),
    ([{"name": "某液体", "quantity_t": 1.0, "ghs": "flammable liquid"}],
     ["item 1: '某液体': ghs 'flammable liquid' is not a GB 18218-2018 Table 2 category",
      "flammable_liquid_3 (W5.4)"]),
    ([{"name": "chlorine", "cas": "7664-41-7", "quantity_t": 1.0}],
     [("item 1: 'chlorine' (CAS 7664-41-7): the name is GB 18218-2018 Table 1 No. 12 (chlorine) but the CAS is "
       "No. 1 (ammonia): correct the name or the CAS")]),
])
def test_a_refused_item_names_site_row_and_fix(seeded_store, tmp_path, inventory, fragments):
    path = _file(tmp_path, _sites([ACRYLONITRILE], inventory))
    before = sha256(seeded_store.path)
    with pytest.raises(ValidationError) as error:
        import_layer(seeded_store, "hazard_sites", path)
    [problem] = error.value.problems
    assert (problem.feature, problem.field) == ("H2", "inventory")
    for fragment in fragments:
        assert fragment in problem.message
    assert sha256(seeded_store.path) == before


def test_every_bad_item_of_every_site_is_listed(store, tmp_path):
    path = _file(tmp_path, _sites([UNLISTED, ACRYLONITRILE, {"name": "x", "quantity_t": 1}], [ACRYLONITRILE],
                                  [{"name": "y", "quantity_t": 1}]))
    with pytest.raises(ValidationError) as error:
        import_layer(store, "hazard_sites", path)
    by_site = {p.feature: p.message for p in error.value.problems}
    assert sorted(by_site) == ["H1", "H3"]
    assert "item 1: 'acrylic acid'" in by_site["H1"] and "item 3: 'x'" in by_site["H1"]
    assert "item 2" not in by_site["H1"] and "item 1: 'y'" in by_site["H3"]


def test_cli_import_refuses_an_unlisted_substance_and_says_how_to_fix(seeded_store, tmp_path):
    path = _file(tmp_path, _sites([ACRYLONITRILE], [METHYL_ACRYLATE, UNLISTED]))
    before = sha256(seeded_store.path)
    result = runner.invoke(app, ["import", "hazard_sites", str(path), "--store", str(seeded_store.path)])
    assert result.exit_code == 1
    assert result.stderr.startswith("error: layer 'hazard_sites'")
    assert "H2: inventory: item 2: 'acrylic acid' (CAS 79-10-7): in neither GB 18218-2018 Table 1" in result.stderr
    assert "declare its GHS category" in result.stderr and "flammable_liquid_2 (W5.3)" in result.stderr
    assert "Traceback" not in result.output
    assert sha256(seeded_store.path) == before
    fixed = _file(tmp_path, _sites([ACRYLONITRILE], [METHYL_ACRYLATE, dict(UNLISTED, ghs="W5.4")]), "fixed.gpkg")
    result = runner.invoke(app, ["import", "hazard_sites", str(fixed), "--store", str(seeded_store.path)])
    assert result.exit_code == 0, result.output
    assert "imported 2 feature(s)" in result.stdout


def test_the_import_check_reads_the_shipped_rule_set():
    """The check matches against riskmap_data's default.toml: all 85 rows of Table 1, 24 of Table 2."""
    table = default_table()
    assert (len(table.substances), len(table.categories)) == (85, 24)
    assert table.find("107-13-1").critical_t == 50.0

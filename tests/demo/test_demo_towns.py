"""Town areas: Voronoi cells of GeoNames town points, clipped to their district."""

from __future__ import annotations

import pytest
import shapely

from layers.demo.towns import _chinese_name, changzhou_towns, town_points
from layers.validate import validate_layer


def test_every_district_has_towns_with_coded_names(districts, towns):
    assert set(towns["parent"]) == set(districts["code"])
    assert towns["code"].is_unique
    assert towns["code"].str.fullmatch(r"\d{9}").all()
    assert (towns["code"].str[:6] == towns["parent"]).all()
    assert set(towns["level"]) == {"town"}
    assert len(towns) >= 40  # 54 GeoNames towns and streets in the six districts
    validate_layer("admin_areas", towns.drop(columns="centre"))


@pytest.mark.parametrize("code", ["320402", "320404", "320411", "320412", "320413", "320481"])
def test_towns_tile_their_district(districts, towns, code):
    district = districts[districts["code"] == code].to_crs(4549).geometry.iloc[0]
    mine = towns[towns["parent"] == code].to_crs(4549).geometry.values
    assert shapely.union_all(mine).area == pytest.approx(district.area, rel=1e-3)
    assert shapely.area(mine).sum() == pytest.approx(district.area, rel=1e-3)
    tree = shapely.STRtree(mine)
    i, j = tree.query(mine, predicate="intersects")
    pairs = i < j
    overlap = shapely.area(shapely.intersection(mine[i[pairs]], mine[j[pairs]]))
    assert (overlap <= 1.0).all()  # m²


def test_xueyan_is_a_town_of_wujin(towns):
    xueyan = towns[towns["name"] == "雪堰镇"]
    assert len(xueyan) == 1
    assert xueyan["parent"].iloc[0] == "320412"
    assert xueyan.geometry.iloc[0].contains(shapely.Point(120.09471, 31.51006))


def test_a_district_without_points_is_one_town(districts):
    points = town_points(districts)
    towns = changzhou_towns(districts, points[points["district"] != "320404"])
    zhonglou = towns[towns["parent"] == "320404"]
    assert zhonglou[["code", "name"]].values.tolist() == [["320404001", "钟楼区"]]
    assert zhonglou.geometry.iloc[0].equals(districts[districts["code"] == "320404"].geometry.iloc[0])


@pytest.mark.parametrize(
    ("alternates", "ascii_name", "expected"),
    [
        (["Xueyan", "雪堰", "雪堰镇"], "Xueyan", "雪堰镇"),
        (["北港", "北港街道", "钟楼区"], "Beigang", "北港街道"),
        (["钱桥"], "Qianqiao", "钱桥"),
        (["武进区"], "Somewhere", "Somewhere"),
        ([], "Taihua", "Taihua"),
    ],
)
def test_names_prefer_a_chinese_town_name(alternates, ascii_name, expected):
    assert _chinese_name(alternates, ascii_name) == expected

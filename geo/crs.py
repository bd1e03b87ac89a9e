"""Coordinate reference systems: CGCS2000 and its Gauss-Krüger zones, parsing, guards.

The store keeps every layer in CGCS2000 geographic coordinates (EPSG:4490, China's national datum
since 2008). Anything measured in metres is computed in a CGCS2000 3-degree Gauss-Krüger
projection whose central meridian is nearest the data (EPSG:4534–4554, "CM" variants without the
zone number prefixed to the easting), e.g. EPSG:4549 (central meridian 120°E) for Changzhou.

Axis order: EPSG:4490 declares latitude first and EPSG:4549 northing first. geopandas and everything
here work in x/y (longitude/easting first); any pyproj transformer is built with
``always_xy=True``.
"""

from __future__ import annotations

import re

import numpy as np
import pyproj
from pyproj import CRS, Transformer

from geo import gcj02
from geo.errors import CRSError, InputError

__all__ = [
    "STORE_CRS", "WEB_MERCATOR", "WGS84", "OFFSETS", "CHINA_EXTENT", "gauss_kruger_zone", "gk_epsg",
    "metric_crs_for", "require_metric", "require_same_crs", "parse_crs", "to_store_crs",
]

#: CGCS2000 geographic 2D, the CRS of the store (EPSG registry).
STORE_CRS = "EPSG:4490"
#: WGS 84 / Pseudo-Mercator, the CRS of XYZ web tiles (EPSG registry).
WEB_MERCATOR = "EPSG:3857"
#: WGS 84 geographic 2D (EPSG registry).
WGS84 = "EPSG:4326"
#: Names of the Chinese web-map offsets that :func:`parse_crs` and :func:`to_store_crs` know.
OFFSETS = ("gcj02", "bd09")
#: (west, south, east, north) inside which :func:`metric_crs_for` picks a Gauss-Krüger zone.
CHINA_EXTENT = (73.0, 3.0, 136.0, 54.0)

# First and last CGCS2000 3-degree zones (EPSG:4513-4533 with zone prefix, 4534-4554 CM variants).
_FIRST_ZONE, _LAST_ZONE, _FIRST_CM_EPSG = 25, 45, 4534
_ACCEPTED = (
    "'EPSG:<code>', '<code>' (e.g. '4549'), 'wgs84', 'cgcs2000', 'gcj02', 'bd09', "
    "or a WKT / PROJ string"
)
_ALIASES = {
    "wgs84": (WGS84, None),
    "cgcs2000": (STORE_CRS, None),
    "gcj02": (WGS84, "gcj02"),
    "gcj": (WGS84, "gcj02"),
    "bd09": (WGS84, "bd09"),
    "bd09ll": (WGS84, "bd09"),
}


def gauss_kruger_zone(lon):
    """Return the CGCS2000 3-degree Gauss-Krüger zone number for a longitude.

    Zone ``n`` has central meridian ``3·n`` degrees east and covers ``3·n ± 1.5``; China uses zones
    25 (75°E) to 45 (135°E), i.e. longitudes 73.5°E to 136.5°E (EPSG:4513–4533 for the zoned
    CRSs). A longitude exactly on a zone edge belongs to the eastern zone.

    Parameters
    ----------
    lon : float or array_like
        Longitude in degrees east.

    Returns
    -------
    int or numpy.ndarray of int

    Raises
    ------
    CRSError
        If a longitude is outside 73.5–136.5°E (or NaN).

    Examples
    --------
    >>> gauss_kruger_zone(119.97)   # Changzhou
    40
    >>> gauss_kruger_zone([75.2, 118.5, 135.0]).tolist()
    [25, 40, 45]
    """
    lon = np.asarray(lon, dtype=float)
    zone = np.floor(lon / 3.0 + 0.5)
    bad = ~((zone >= _FIRST_ZONE) & (zone <= _LAST_ZONE))
    if np.any(bad):
        first = lon[bad].flat[0] if lon.ndim else float(lon)
        raise CRSError(
            f"longitude {first} has no CGCS2000 3-degree Gauss-Krüger zone: zones 25-45 cover "
            "73.5-136.5°E; use geo.crs.metric_crs_for(...) to get a UTM zone elsewhere"
        )
    zone = zone.astype(int)
    return int(zone) if zone.ndim == 0 else zone


def gk_epsg(lon):
    """Return the EPSG code of the CGCS2000 3-degree Gauss-Krüger CM projection for a longitude.

    These are the variants *without* the zone number prefixed to the easting (false easting
    500 000 m): EPSG:4534 "CGCS2000 / 3-degree Gauss-Kruger CM 75E" to EPSG:4554 "… CM 135E", one
    code per zone (EPSG registry).

    Parameters
    ----------
    lon : float or array_like
        Longitude in degrees east, 73.5–136.5.

    Returns
    -------
    int or numpy.ndarray of int

    Examples
    --------
    >>> gk_epsg(120.0)
    4549
    >>> gk_epsg([75.0, 135.0]).tolist()
    [4534, 4554]
    """
    return gauss_kruger_zone(lon) - _FIRST_ZONE + _FIRST_CM_EPSG


def _as_crs(crs, role: str = "the data") -> CRS:
    if crs is None:
        raise CRSError(
            f"{role} has no CRS; set it (e.g. gdf.set_crs('EPSG:4490')) before this step")
    try:
        return CRS.from_user_input(crs)
    except pyproj.exceptions.CRSError as exc:
        raise CRSError(f"{role}: unknown CRS {crs!r} ({exc})") from None


def _describe(crs: CRS) -> str:
    auth = crs.to_authority()
    code = f"{auth[0]}:{auth[1]}" if auth else crs.to_string()[:60]
    return f"{code} ({crs.name})"


def metric_crs_for(data, crs=None) -> CRS:
    """Choose a metric CRS for some data: the CGCS2000 Gauss-Krüger zone of its centre, or UTM.

    The bounds are first reprojected to CGCS2000 longitude/latitude (EPSG:4490, ``always_xy``).
    If their centre lies in China's extent (lon 73–136, lat 3–54, :data:`CHINA_EXTENT`) the
    result is the 3-degree Gauss-Krüger CM projection of its longitude (:func:`gk_epsg`); elsewhere
    it is the WGS 84 / UTM zone of the centre (EPSG:326xx north, 327xx south; the Norway and
    Svalbard exceptions are ignored).

    Parameters
    ----------
    data : tuple of 4 floats, geopandas.GeoSeries or geopandas.GeoDataFrame
        ``(minx, miny, maxx, maxy)``, or geometries whose ``total_bounds`` and ``crs`` are used.
    crs : CRS-like, optional
        CRS of a bounds tuple; defaults to EPSG:4490 (longitude/latitude). Ignored for a GeoSeries
        or GeoDataFrame, which carry their own.

    Returns
    -------
    pyproj.CRS

    Raises
    ------
    CRSError
        If the geometries have no CRS.
    InputError
        If there is nothing to take bounds from (empty, or only empty geometries).

    Examples
    --------
    >>> metric_crs_for((119.1, 31.1, 120.2, 32.1)).to_epsg()   # Changzhou
    4549
    >>> metric_crs_for((2.2, 48.8, 2.5, 48.9)).to_epsg()   # Paris: UTM 31N
    32631
    """
    if hasattr(data, "total_bounds"):
        bounds, crs = data.total_bounds, _as_crs(data.crs)
    else:
        bounds, crs = data, _as_crs(STORE_CRS if crs is None else crs, "the bounds")
    bounds = np.asarray(bounds, dtype=float)
    if bounds.shape != (4,) or not np.all(np.isfinite(bounds)):
        raise InputError(f"cannot choose a metric CRS: no usable bounds (got {bounds.tolist()})")
    to_lonlat = Transformer.from_crs(crs, STORE_CRS, always_xy=True)
    west, south, east, north = to_lonlat.transform_bounds(*bounds, densify_pts=21)
    if west > east:  # crosses the antimeridian
        east += 360.0
    lon = (west + east) / 2.0
    lon = (lon + 180.0) % 360.0 - 180.0
    lat = (south + north) / 2.0
    cw, cs, ce, cn = CHINA_EXTENT
    if cw <= lon <= ce and cs <= lat <= cn:
        return CRS.from_epsg(int(gk_epsg(np.clip(lon, 73.5, 136.4999))))
    zone = int(np.clip(np.floor((lon + 180.0) / 6.0) + 1, 1, 60))
    return CRS.from_epsg((32600 if lat >= 0 else 32700) + zone)


def require_metric(crs, what: str = "distance") -> CRS:
    """Raise unless ``crs`` is a projected CRS in metres; return it as a pyproj CRS.

    riskmap refuses to measure in degrees (geopandas only warns): a safety distance is a
    regulatory output.

    Parameters
    ----------
    crs : CRS-like or None
        The CRS to check (anything :meth:`pyproj.CRS.from_user_input` takes).
    what : str
        What needs metres, quoted in the message.

    Returns
    -------
    pyproj.CRS

    Raises
    ------
    CRSError
        If ``crs`` is None, geographic, or projected in another unit; the message names the CRS
        and the fix.

    Examples
    --------
    >>> require_metric("EPSG:4549").to_epsg()
    4549
    >>> require_metric("EPSG:4490", what="buffer")  # doctest: +ELLIPSIS +NORMALIZE_WHITESPACE
    Traceback (most recent call last):
    ...
    geo.errors.CRSError: buffer needs a projected CRS in metres, but the data are in EPSG:4490 ...
    a geographic CRS (degrees); reproject with geo.crs.metric_crs_for(...) e.g. EPSG:4549 ...
    """
    fix = (
        "reproject with geo.crs.metric_crs_for(...) e.g. EPSG:4549 "
        "(CGCS2000 / 3-degree Gauss-Kruger CM 120E) around Changzhou"
    )
    if crs is None:
        raise CRSError(f"{what} needs a projected CRS in metres, but the data have no CRS; "
                       f"set the CRS they are in, then {fix}")
    crs = _as_crs(crs)
    if crs.is_geographic or not crs.is_projected:
        raise CRSError(f"{what} needs a projected CRS in metres, but the data are in "
                       f"{_describe(crs)}, a geographic CRS (degrees); {fix}")
    units = {axis.unit_name for axis in crs.axis_info}
    if not units <= {"metre", "meter"}:
        raise CRSError(f"{what} needs a projected CRS in metres, but {_describe(crs)} is in "
                       f"{', '.join(sorted(units))}; {fix}")
    return crs


def require_same_crs(a, b, names: tuple[str, str] = ("left", "right")) -> CRS:
    """Raise unless two layers (or CRSs) share one CRS; return it.

    Objects with a ``crs`` attribute (GeoSeries, GeoDataFrame) are compared by that. Axis order is
    ignored (geopandas always stores x/y). A missing CRS on either side is an error too.

    Parameters
    ----------
    a, b : CRS-like, GeoSeries or GeoDataFrame
    names : tuple of 2 str
        How to call ``a`` and ``b`` in the message.

    Returns
    -------
    pyproj.CRS

    Raises
    ------
    CRSError
        Naming both CRSs and the fix.

    Examples
    --------
    >>> require_same_crs("EPSG:4549", "EPSG:4549").to_epsg()
    4549
    >>> require_same_crs("EPSG:4549", "EPSG:4490", names=("plots", "schools"))
    ... # doctest: +ELLIPSIS +NORMALIZE_WHITESPACE
    Traceback (most recent call last):
    ...
    geo.errors.CRSError: plots and schools are in different CRSs: plots EPSG:4549 (CGCS2000 / ...
    schools EPSG:4490 (China ...); reproject one to the other, e.g. schools.to_crs(plots.crs)
    """
    left, right = (getattr(x, "crs", x) for x in (a, b))
    left, right = _as_crs(left, names[0]), _as_crs(right, names[1])
    if not left.equals(right, ignore_axis_order=True):
        raise CRSError(
            f"{names[0]} and {names[1]} are in different CRSs: {names[0]} {_describe(left)}, "
            f"{names[1]} {_describe(right)}; reproject one to the other, "
            f"e.g. {names[1]}.to_crs({names[0]}.crs)"
        )
    return left


def parse_crs(text) -> tuple[CRS, str | None]:
    """Parse a CRS given by a user, including the Chinese web-map offsets.

    Parameters
    ----------
    text : str, int or pyproj.CRS
        ``"EPSG:4549"``, ``"4549"``, ``"wgs84"``, ``"cgcs2000"``, ``"gcj02"`` / ``"gcj-02"``,
        ``"bd09"`` / ``"bd-09"`` (case, spaces, ``-`` and ``_`` ignored in these names), or a WKT /
        PROJ string.

    Returns
    -------
    crs : pyproj.CRS
        GCJ-02 and BD-09 give EPSG:4326: they are offset WGS84 longitude/latitude.
    offset : {"gcj02", "bd09", None}
        The offset to remove (see :func:`to_store_crs`).

    Raises
    ------
    CRSError
        If the text is none of these; the message lists the accepted forms.

    Examples
    --------
    >>> crs, offset = parse_crs("GCJ-02")
    >>> crs.to_epsg(), offset
    (4326, 'gcj02')
    >>> parse_crs("4549")[0].name
    'CGCS2000 / 3-degree Gauss-Kruger CM 120E'
    """
    if isinstance(text, CRS):
        return text, None
    if isinstance(text, (int, np.integer)) and not isinstance(text, bool):
        text = str(text)
    if not isinstance(text, str) or not text.strip():
        raise CRSError(f"no CRS given ({text!r}); accepted: {_ACCEPTED}")
    key = re.sub(r"[\s_\-]", "", text.lower())
    if key in _ALIASES:
        code, offset = _ALIASES[key]
        return CRS.from_user_input(code), offset
    source = f"EPSG:{key}" if key.isdigit() else text.strip()
    try:
        return CRS.from_user_input(source), None
    except pyproj.exceptions.CRSError:
        raise CRSError(f"unknown CRS {text!r}; accepted: {_ACCEPTED}") from None


def to_store_crs(gdf, source_offset: str | None = None):
    """Reproject a GeoDataFrame (or GeoSeries) to the store's CRS, EPSG:4490.

    With ``source_offset="gcj02"`` or ``"bd09"`` the web-map offset is removed first from every
    coordinate of every geometry (:func:`geo.gcj02.gcj02_to_wgs84` /
    :func:`~geo.gcj02.bd09_to_wgs84`, accurate to 1 cm, vectorised with :func:`shapely.transform`);
    the data must then be longitude/latitude, and are taken as WGS84 if they carry no CRS.
    geopandas reprojects in x/y order (``always_xy``), whatever axis order EPSG:4490 declares.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame or geopandas.GeoSeries
    source_offset : {None, "gcj02", "bd09"}

    Returns
    -------
    Same kind as ``gdf``, a new object in EPSG:4490.

    Raises
    ------
    CRSError
        If the data have no CRS (and no offset is given), or carry an offset but are projected.
    InputError
        If ``source_offset`` is not one of the accepted names.

    Examples
    --------
    >>> import geopandas
    >>> from shapely import Point
    >>> amap = geopandas.GeoSeries([Point(119.9747, 31.8081)], crs="EPSG:4326")
    >>> store = to_store_crs(amap, source_offset="gcj02")
    >>> store.crs.to_epsg(), round(float(store.x.iloc[0]), 3), round(float(store.y.iloc[0]), 3)
    (4490, 119.97, 31.81)
    """
    if source_offset is not None and source_offset not in OFFSETS:
        accepted = ", ".join(map(repr, OFFSETS))
        raise InputError(f"unknown source_offset {source_offset!r}; accepted: None, {accepted}")
    if source_offset is None:
        _as_crs(gdf.crs)
        return gdf.to_crs(STORE_CRS)
    crs = _as_crs(WGS84 if gdf.crs is None else gdf.crs)
    if not crs.is_geographic:
        raise CRSError(
            f"{source_offset} offsets apply to longitude/latitude, but the data are in "
            f"{_describe(crs)}; declare them as EPSG:4326 (they were digitised on a web map)"
        )
    inverse = gcj02.gcj02_to_wgs84 if source_offset == "gcj02" else gcj02.bd09_to_wgs84
    geoms = gcj02.transform_geometries(gdf.geometry, inverse).set_crs(WGS84, allow_override=True)
    if hasattr(gdf, "set_geometry"):  # GeoDataFrame
        out = gdf.set_crs(WGS84, allow_override=True)  # a new frame
        out[gdf.geometry.name] = geoms
    else:
        out = geoms
    return out.to_crs(STORE_CRS)

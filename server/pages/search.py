"""Search for the public map (``GET /api/public/search?q=``): places by name, pinyin or coordinates.

What is found, from the **public** views only:

* towns and districts (``admin_areas``), roads by name (``roads``: one entry per name, over all
  its segments), shelters (``shelters``: name and address) and fire stations
  (``rescue_stations``); schools and hospitals are in ``protected_targets``, a private layer, and
  are not listed (a school that serves as a shelter is found as that shelter);
* by Chinese name (any part: "雪堰" finds 雪堰镇), by pinyin without tones (``xueyan``) or its
  initials (``xyz``), any case, spaces ignored;
* coordinates pasted from a map app, ``lon,lat`` or ``lat,lon`` (inside China the two ranges do not
  overlap, so the order is told apart, as :func:`geo.checks.looks_swapped` does), answered twice:
  read as GCJ-02 (Amap, Tencent: converted with :func:`geo.gcj02.gcj02_to_wgs84`) and as WGS 84 /
  CGCS2000 (GPS, 天地图), GCJ-02 first since a Chinese map app is where such text comes from.

The index (:class:`SearchIndex`) is a few numpy string arrays (name, full pinyin, initials),
built with ``pypinyin`` once per version of the four layers, on the first search; a query is a
handful of vectorised substring searches over them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely

from geo.checks import CHINA_BOUNDS, looks_swapped, outside_bounds
from geo.gcj02 import gcj02_to_wgs84
from layers.catalogue.roads import CLASSES as ROAD_CLASSES
from server.pages.public_data import PerVersion, public_frame
from server.redaction import Redactor
from server.source import LayerSource

__all__ = ["KINDS", "SearchIndex", "parse_coordinates", "pinyin_keys"]

#: Kinds of result, in the order they rank among equally good matches: (中文, English).
KINDS = {"district": ("区", "district"), "town": ("镇/街道", "town"), "road": ("道路", "road"),
         "shelter": ("避难场所", "shelter"), "station": ("消防站", "fire station"),
         "coordinates": ("坐标", "coordinates")}
_RANK = {k: i for i, k in enumerate(KINDS)}
_ROAD_CLASSES = {c.value: c.zh for c in ROAD_CLASSES}
_LAYERS = ("admin_areas", "roads", "shelters", "rescue_stations")
_PAIR = re.compile(r"^\s*(-?\d{1,3}(?:\.\d+)?)\s*[°]?\s*[NEne]?\s*[,，;；\s]\s*(-?\d{1,3}(?:\.\d+)?)\s*[°]?\s*[NEne]?\s*$")
_CJK = re.compile(r"[\u3400-\u9fff]")
_SPACE = re.compile(r"[\s·・\-_]+")


def pinyin_keys(names) -> tuple[np.ndarray, np.ndarray]:
    """Full pinyin (no tones, no spaces) and initials of each name, lower case.

    Letters and digits that are not Chinese stay as they are (in both keys).

    >>> full, initials = pinyin_keys(["雪堰镇", "长江路12号", None])
    >>> full.tolist(), initials.tolist()
    (['xueyanzhen', 'changjianglu12hao', ''], ['xyz', 'cjl12h', ''])
    """
    from pypinyin import Style, lazy_pinyin  # its dictionaries take about a second to load: not at startup

    full, initials = [], []
    for name in names:
        text = "" if name is None or (isinstance(name, float) and np.isnan(name)) else _SPACE.sub("", str(name))
        full.append("".join(lazy_pinyin(text)).lower())
        initials.append("".join(lazy_pinyin(text, style=Style.FIRST_LETTER)).lower())
    return np.array(full, dtype=str), np.array(initials, dtype=str)


def parse_coordinates(text: str) -> list[dict] | None:
    """Two numbers as a place: ``[{lon, lat, crs, zh, en}, …]`` (GCJ-02 reading first), or None.

    >>> [(round(r["lon"], 4), round(r["lat"], 4), r["crs"]) for r in parse_coordinates("31.51006, 120.09471")]
    [(120.0898, 31.5118, 'GCJ-02'), (120.0947, 31.5101, 'WGS84')]
    >>> parse_coordinates("雪堰") is None, parse_coordinates("200, 100")
    (True, [])
    """
    m = _PAIR.match(text)
    if not m:
        return None
    a, b = float(m.group(1)), float(m.group(2))
    if bool(looks_swapped(a, b, CHINA_BOUNDS)):
        a, b = b, a
    if not (-180 <= a <= 180 and -90 <= b <= 90):
        return []
    out = []
    if not outside_bounds(a, b, CHINA_BOUNDS):
        glon, glat = gcj02_to_wgs84(a, b)
        out.append({"lon": float(glon), "lat": float(glat), "crs": "GCJ-02",
                    "zh": f"高德/腾讯地图坐标 (GCJ-02) {a:.6f}, {b:.6f}",
                    "en": f"Amap/Tencent coordinates (GCJ-02) {a:.6f}, {b:.6f}"})
    out.append({"lon": a, "lat": b, "crs": "WGS84", "zh": f"GPS/天地图坐标 (WGS84/CGCS2000) {a:.6f}, {b:.6f}",
                "en": f"GPS/Tianditu coordinates (WGS84/CGCS2000) {a:.6f}, {b:.6f}"})
    return out


def _entries(kind: str, frame, names, details) -> pd.DataFrame:
    geoms = np.asarray(frame.geometry.values, dtype=object)
    point = shapely.point_on_surface(geoms)
    bounds = shapely.bounds(geoms)
    return pd.DataFrame({"kind": kind, "name": np.asarray(names, dtype=object), "detail": np.asarray(details, dtype=object),
                         "lon": shapely.get_x(point), "lat": shapely.get_y(point),
                         "w": bounds[:, 0], "s": bounds[:, 1], "e": bounds[:, 2], "n": bounds[:, 3]})


def _roads(frame) -> pd.DataFrame:
    """One entry per road name: the bounds of all its segments, a point on its longest one."""
    named = frame[frame["name"].notna() & (frame["name"].astype(str).str.strip() != "")]
    if not len(named):
        return _entries("road", named, [], [])
    geoms = np.asarray(named.geometry.values, dtype=object)
    b = shapely.bounds(geoms)
    table = pd.DataFrame({"name": named["name"].astype(str).to_numpy(), "length": shapely.length(geoms),
                          "w": b[:, 0], "s": b[:, 1], "e": b[:, 2], "n": b[:, 3], "row": np.arange(len(named))})
    box = table.groupby("name").agg(w=("w", "min"), s=("s", "min"), e=("e", "max"), n=("n", "max"))
    longest = table.sort_values("length", ascending=False, kind="stable").drop_duplicates("name").set_index("name")
    mid = shapely.line_interpolate_point(geoms[longest["row"].to_numpy()], 0.5, normalized=True)
    box = box.loc[longest.index]
    cls = named["class"].astype(str).to_numpy()[longest["row"].to_numpy()] if "class" in named else None
    return pd.DataFrame({"kind": "road", "name": box.index.to_numpy(dtype=object),
                         "detail": cls if cls is not None else None,
                         "lon": shapely.get_x(mid), "lat": shapely.get_y(mid),
                         "w": box["w"].to_numpy(), "s": box["s"].to_numpy(), "e": box["e"].to_numpy(),
                         "n": box["n"].to_numpy()})


@dataclass(frozen=True)
class _Index:
    """Search keys (name, full pinyin, initials), kind rank and name length, and the answer of each row."""

    keys: dict
    rank: np.ndarray
    length: np.ndarray
    rows: list


def _result(row) -> dict:
    """One answer of the search, from one row of the index."""
    zh, en = KINDS[row.kind]
    detail = None if row.detail is None or (isinstance(row.detail, float) and np.isnan(row.detail)) else str(row.detail)
    return {"kind": row.kind, "kind_zh": zh, "kind_en": en, "name": str(row.name), "detail": detail,
            "lon": round(float(row.lon), 7), "lat": round(float(row.lat), 7),
            "bbox": [round(float(v), 7) for v in (row.w, row.s, row.e, row.n)]}


class SearchIndex:
    """The public search index over ``source``, rebuilt when one of its layers changes."""

    def __init__(self, source: LayerSource, redactor: Redactor):
        self.source, self.redactor = source, redactor
        self._index = PerVersion(source, _LAYERS, self._build)

    def _frame(self, infos, name):
        return public_frame(self.source, self.redactor, infos, name)

    def _build(self, infos) -> _Index:
        parts = []
        areas = self._frame(infos, "admin_areas")
        if areas is not None and "level" in areas:
            names = dict(zip(areas["code"].astype(str), areas["name"]))
            for level in ("district", "town"):
                rows = areas[areas["level"] == level]
                parent = rows["parent"].astype(str).map(names) if "parent" in rows else None
                parts.append(_entries(level, rows, rows["name"], parent if parent is not None else [None] * len(rows)))
        roads = self._frame(infos, "roads")
        if roads is not None and "name" in roads:
            parts.append(_roads(roads))
        for name, kind, detail in (("shelters", "shelter", "address"), ("rescue_stations", "station", "town")):
            frame = self._frame(infos, name)
            if frame is not None and "name" in frame:
                frame = frame[frame["name"].notna()]
                parts.append(_entries(kind, frame, frame["name"], frame[detail] if detail in frame else [None] * len(frame)))
        table = pd.concat([p for p in parts if len(p)], ignore_index=True) if any(len(p) for p in parts) else \
            pd.DataFrame(columns=["kind", "name", "detail", "lon", "lat", "w", "s", "e", "n"])
        codes = dict(zip(areas["code"].astype(str), areas["name"])) if areas is not None else {}
        is_station = (table["kind"] == "station").to_numpy()
        table.loc[is_station, "detail"] = table.loc[is_station, "detail"].astype(str).map(codes)
        is_road = (table["kind"] == "road").to_numpy()
        table.loc[is_road, "detail"] = table.loc[is_road, "detail"].map(_ROAD_CLASSES)
        full, initials = pinyin_keys(table["name"].tolist())
        table["key"] = np.array([_SPACE.sub("", str(n)).lower() for n in table["name"]], dtype=str)
        table["pinyin"], table["initials"] = full, initials
        return _Index(keys={c: table[c].to_numpy(dtype=str) for c in ("key", "pinyin", "initials")},
                      rank=table["kind"].map(_RANK).to_numpy(int),
                      length=table["name"].astype(str).str.len().to_numpy(int),
                      rows=[_result(r) for r in table.itertuples()])  # the answers, made once

    def index(self) -> "_Index":
        """The index (built or rebuilt as needed)."""
        return self._index.get()

    def search(self, q: str, limit: int = 10) -> list[dict]:
        """Results for ``q``, best first (see the module docstring)."""
        coords = parse_coordinates(q)
        if coords is not None:
            return [{"kind": "coordinates", "kind_zh": KINDS["coordinates"][0], "kind_en": KINDS["coordinates"][1],
                     "name": c["zh"], "detail": c["en"], "crs": c["crs"], "lon": round(c["lon"], 7),
                     "lat": round(c["lat"], 7), "bbox": None} for c in coords]
        query = _SPACE.sub("", q).lower()
        index = self.index()
        if not query or not len(index.rows):
            return []
        columns = ("key",) if _CJK.search(query) else ("key", "pinyin", "initials")
        score = np.full(len(index.rows), 99, dtype=int)
        for k, column in enumerate(columns):  # exact, then prefix, then anywhere; Chinese before pinyin
            values = index.keys[column]
            where = np.strings.find(values, query) if hasattr(np, "strings") else np.char.find(values, query)
            found = np.where(values == query, 0, np.where(where == 0, 1, 2)) + 3 * k
            score = np.minimum(score, np.where(where >= 0, found, 99))
        hits = np.flatnonzero(score < 99)
        order = hits[np.lexsort((index.length[hits], index.rank[hits], score[hits]))][:limit]
        return [{**index.rows[i], "bbox": list(index.rows[i]["bbox"])} for i in order]

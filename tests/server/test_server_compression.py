"""Compression: Accept-Encoding negotiated by q-values, gzip and brotli, Vary, ETags per encoding.

The negotiation is checked against RFC 9110 §12.5.3 case by case; the responses are checked on the
wire (raw bytes before httpx decodes them): a compressed body decompresses to exactly the plain
body, tiny bodies and PNG tiles are sent as they are, and ``If-None-Match`` answers 304 whichever
encoding the client holds.
"""

from __future__ import annotations

import gzip
import re

import brotli
import pytest

from geo.tiles import tile_containing
from server.middleware.compression import choose_encoding, etag_matches
from server_common import PLANNER, plot_geometry

Z, (X, Y) = 14, tile_containing(plot_geometry(0).centroid.x, plot_geometry(0).centroid.y, 14)
TILE = f"/tiles/risk_wall/{Z}/{X}/{Y}.mvt"  # 460 bytes: under the compression threshold
BIG_TILE = "/tiles/all/10/{}/{}.mvt".format(*tile_containing(119.99, 31.74, 10))  # 2 kB
PAGE = "/collections/roads/items?limit=50"


@pytest.mark.parametrize("header, expected", [
    (None, "identity"),                       # no header: no coding needed
    ("", "identity"),                         # empty: identity only (§12.5.3)
    ("gzip", "gzip"),
    ("br", "br"),
    ("gzip, br", "br"),                       # equal q: the server's preference
    ("gzip;q=1.0, br;q=0.5", "gzip"),
    ("br;q=0, gzip", "gzip"),                 # q=0 refuses
    ("*", "br"),                              # any coding
    ("*;q=0.5, gzip;q=0.1", "br"),            # br not named: the * weight
    ("deflate", "identity"),                  # nothing the server has: identity is still fine
    ("identity;q=0, gzip", "gzip"),
    ("identity;q=0, deflate", None),          # nothing acceptable: 406
    ("*;q=0", None),                          # refuses identity too
    ("*;q=0, identity", "identity"),
    ("gzip;q=0.2, identity;q=0.5", "identity"),
    ("GZIP ; Q=0.9", "gzip"),                 # case-insensitive
    ("gzip;q=abc", "identity"),               # a malformed weight refuses that coding
])
def test_accept_encoding_is_negotiated_by_q_values(header, expected):
    assert choose_encoding(header) == expected


def test_weak_comparison_of_validators():
    assert etag_matches('W/"a1"', '"a1"') and etag_matches('"x", W/"a1"', 'W/"a1"')
    assert not etag_matches('"a2"', '"a1"') and not etag_matches(None, '"a1"')


def raw(client, url, encoding, headers=None):
    """``(response, bytes on the wire)`` of a GET asking for ``encoding``."""
    with client.stream("GET", url, headers={"Accept-Encoding": encoding, **(headers or {})}) as r:
        return r, b"".join(r.iter_raw())


def _timeless(body: bytes) -> bytes:
    """The body without a feature page's ``timeStamp`` (two requests may fall in different seconds)."""
    return re.sub(rb'"timeStamp": ?"[^"]*"', b'"timeStamp": ""', body)


@pytest.mark.parametrize("url", [BIG_TILE, PAGE, "/collections?f=html", "/openapi.json"])
def test_gzip_and_brotli_bodies_decode_to_the_plain_body(client, url):
    plain_response, plain = raw(client, url, "identity")
    assert plain_response.status_code == 200 and "content-encoding" not in plain_response.headers
    gz_response, gz = raw(client, url, "gzip")
    br_response, br = raw(client, url, "br")
    assert gz_response.headers["content-encoding"] == "gzip" and _timeless(gzip.decompress(gz)) == _timeless(plain)
    assert br_response.headers["content-encoding"] == "br" and _timeless(brotli.decompress(br)) == _timeless(plain)
    assert len(gz) < len(plain) and len(br) < len(plain)
    assert int(gz_response.headers["content-length"]) == len(gz)
    for r in (plain_response, gz_response, br_response):
        assert "accept-encoding" in r.headers["vary"].lower()


@pytest.mark.parametrize("encoding", ["identity", "gzip", "br"])
def test_if_none_match_answers_304_whatever_encoding_the_client_holds(client, encoding):
    first, _ = raw(client, BIG_TILE, encoding)
    etag = first.headers["etag"]
    assert etag.startswith('W/"')  # one weak validator names the plain, gzip and brotli bodies
    for other in ("identity", "gzip", "br"):
        again = client.get(BIG_TILE, headers={"Accept-Encoding": other, "If-None-Match": etag})
        assert again.status_code == 304 and again.content == b"", (encoding, other)
        assert again.headers["etag"].strip('W/"') == etag.strip('W/"')
    changed = client.get(BIG_TILE, headers={"Accept-Encoding": encoding, "If-None-Match": 'W/"other"'})
    assert changed.status_code == 200


def test_private_tiles_have_their_own_validator_in_every_encoding(client):
    public, _ = raw(client, TILE, "gzip")
    private, _ = raw(client, TILE, "gzip", PLANNER)
    assert public.headers["etag"] != private.headers["etag"]
    assert client.get(TILE, headers={**PLANNER, "If-None-Match": public.headers["etag"]}).status_code == 200


def test_tiny_bodies_and_png_are_sent_as_they_are(client):
    tiny, body = raw(client, "/collections/nope", "gzip, br")
    assert tiny.status_code == 404 and len(body) < 512 and "content-encoding" not in tiny.headers
    png_tile = f"/tiles/risk_surface/{Z}/{X}/{Y}.png"
    png, data = raw(client, png_tile, "gzip, br", PLANNER)
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    assert "content-encoding" not in png.headers and data[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_client_refusing_identity_gets_even_small_bodies_compressed_or_a_406(client):
    r, body = raw(client, "/collections/nope", "identity;q=0, gzip")
    assert r.headers["content-encoding"] == "gzip" and gzip.decompress(body).startswith(b"{")
    refused = client.get("/collections", headers={"Accept-Encoding": "identity;q=0, deflate"})
    assert refused.status_code == 406 and "identity" in refused.json()["description"]


def test_streamed_static_files_are_compressed_as_they_stream(client):
    plain_response, plain = raw(client, "/static/leaflet/leaflet.js", "identity")
    r, gz = raw(client, "/static/leaflet/leaflet.js", "gzip")
    assert r.headers["content-encoding"] == "gzip" and "content-length" not in r.headers
    assert gzip.decompress(gz) == plain and len(gz) < len(plain) / 2


def test_head_is_not_compressed_but_varies(client):
    r = client.head(PAGE, headers={"Accept-Encoding": "gzip"})
    assert r.status_code in (200, 405) and "content-encoding" not in r.headers


def test_a_tile_served_again_is_not_compressed_again_and_each_coding_is_kept_apart(client, monkeypatch):
    import server.middleware.compression as compression

    calls = []
    real = compression.compress
    monkeypatch.setattr(compression, "compress",
                        lambda data, coding, **kw: calls.append(coding) or real(data, coding, **kw))
    url = BIG_TILE
    plain = client.get(url, headers={"Accept-Encoding": "identity"}).content
    bodies = {}
    for round_ in range(2):
        if round_:
            calls.clear()
        for coding in ("br", "gzip"):
            r = client.get(url, headers={"Accept-Encoding": coding})
            assert r.headers["content-encoding"] == coding and r.content == plain  # httpx decodes both
            bodies.setdefault(coding, set()).add(r.headers["content-length"])
    assert calls == []  # the second round: from the cache of compressed bodies
    assert all(len(v) == 1 for v in bodies.values()) and bodies["br"] != bodies["gzip"]
    # a changed body under the same ETag is not answered from the cache
    middleware = compression.CompressionMiddleware(None)
    one = middleware._compress(b"a" * 600, "gzip", '"e"')
    two = middleware._compress(b"b" * 600, "gzip", '"e"')
    assert gzip.decompress(one) == b"a" * 600 and gzip.decompress(two) == b"b" * 600


def test_tiles_are_compressed_at_the_fast_levels_and_pages_at_the_strong_ones(client):
    """A tile's brotli and gzip bodies are exactly those of the tile levels (quality 1, level 1), a
    document's those of the page levels (5 and 6): the bytes on the wire tell the level. (The
    OpenAPI document: a feature page carries the second it was made, and two requests may differ.)"""
    for url, quality, level in ((BIG_TILE, 1, 1), ("/openapi.json", 5, 6)):
        plain = client.get(url, headers={**PLANNER, "Accept-Encoding": "identity"}).content
        with client.stream("GET", url, headers={**PLANNER, "Accept-Encoding": "br"}) as r:
            assert r.headers["content-encoding"] == "br"
            assert b"".join(r.iter_raw()) == brotli.compress(plain, quality=quality), url
        with client.stream("GET", url, headers={**PLANNER, "Accept-Encoding": "gzip"}) as r:
            assert r.headers["content-encoding"] == "gzip"
            assert b"".join(r.iter_raw()) == gzip.compress(plain, compresslevel=level, mtime=0), url

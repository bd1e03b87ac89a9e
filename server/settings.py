"""Server settings: one pydantic-settings class, read once at start-up and passed down.

Every field can be set from the environment with the prefix ``RISKMAP_`` (``RISKMAP_STORE``,
``RISKMAP_PUBLIC_URL``, ``RISKMAP_TOKENS``…); no ``.env`` file is read, so what the process
environment says is what the server does. Complex values (``RISKMAP_TOKENS``) are JSON.

Tokens
------
``tokens`` maps a bearer token to a role, a town editor's town codes after a colon (comma
separated). They are for **development**: accounts kept in the store (``riskmap users``,
:mod:`server.accounts`) are looked up first and are what a deployment uses::

    RISKMAP_TOKENS='{"s3cret-planner": "planner", "xy-office": "town_editor:320412015,320412001"}'

Roles are ``public`` < ``town_editor`` < ``planner`` < ``admin`` (see :mod:`server.auth`). A
request without a valid token is public.

>>> Settings(tokens={"s3cret-planner": "planner"}).tokens
{'s3cret-planner': 'planner'}
>>> try:
...     Settings(tokens={"s3cret-mayor": "mayor"})
... except ValueError as exc:
...     print("refused:", "unknown role 'mayor'" in str(exc))
refused: True
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict, SettingsError

from geo.errors import RiskmapError

__all__ = ["ROLES", "Settings", "ConfigError", "load_settings"]

#: Roles from least to most privileged.
ROLES = ("public", "town_editor", "planner", "admin")


class Settings(BaseSettings):
    """Everything the server can be configured with (environment prefix ``RISKMAP_``)."""

    model_config = SettingsConfigDict(env_prefix="RISKMAP_", env_file=None, extra="ignore",
                                      frozen=True)

    # --- store and identity
    store: str | None = Field(None, description="Address of the store served (for `riskmap serve`): a "
                                                "GeoPackage path or a postgresql:// URL.")
    title: str = Field("riskmap 风险地图", description="Service title on the landing page.")
    public_url: str | None = Field(
        None, description="Base URL clients reach the server at (behind a proxy); links are built "
                          "from the request when unset.")
    basemap_url: str | None = Field(
        None, description="XYZ template of an online basemap; None (default) keeps every page offline.")

    # --- features (OGC API - Features)
    default_limit: int = Field(100, ge=1, description="Features per page when no limit is given.")
    max_limit: int = Field(10_000, ge=1, description="Largest page; a larger limit is clamped to it.")
    frame_cache_size: int = Field(
        32, ge=0, description="Whole layers (one per layer, version and view) kept in memory.")
    frame_cache_rows: int = Field(
        5_000_000, ge=0, description="Rows the in-memory layers may hold in total (about 1-2 GB at "
                                     "5 million: a city's roads and plots).")
    index_max_rows: int = Field(
        2_000_000, ge=0, description="Layers up to this many rows are answered from memory with a "
                                   "spatial index; larger ones are read from the store per request.")

    request_threads: int | None = Field(
        None, ge=1, le=1000, description="Threads of each worker process that run request handlers; default: "
                                         "two per core, at least 4 (Starlette's own default is 40). Handlers "
                                         "are mostly Python holding the GIL: with 40 of them at once every "
                                         "request waits behind all the others (see server.app.request_threads).")
    tile_load_wait: float = Field(
        3.0, ge=0, le=60, description="A tile waits for the layers it shows to be loaded into memory while "
                                      "the loads make progress, and reads their rows from the store instead "
                                      "once one load has taken this many seconds of the loader's CPU (or ten "
                                      "times as many in all; never on a store that builds tiles itself while "
                                      "that is on).")

    # --- tiles
    min_zoom: int = Field(0, ge=0, le=30)
    max_zoom: int = Field(22, ge=0, le=30, description="Deepest zoom served; deeper tiles are 400.")
    tile_extent: int = Field(4096, ge=256, description="MVT tile extent (coordinate units per tile).")
    tile_buffer: int = Field(64, ge=0, description="Clip buffer around a tile, in tile units.")
    tile_cache: str | None = Field(
        None, description="The tile cache shared by the workers: a SQLite file, or a folder holding one file "
                          "per store (named after the store's address), or 'memory' for a cache per "
                          "process; default: the folder $XDG_CACHE_HOME/riskmap/tiles (~/.cache/riskmap/tiles).")
    layer_cache: str | None = Field(
        None, description="Where layers prepared for tiles are kept between starts, so a new worker has them in "
                          "a fraction of the time: a folder (one sub-folder per store), or 'off'; default: "
                          "$XDG_CACHE_HOME/riskmap/layers (~/.cache/riskmap/layers).")
    tile_cache_bytes: int = Field(512 * 2**20, ge=0, description="Largest size of the shared tile cache; "
                                                                 "least recently used tiles go past it.")
    tile_cache_size: int = Field(4096, ge=0, description="Tiles kept by a per-process ('memory') tile cache.")
    database_tiles: bool = Field(True, description="On a PostGIS store, build Web Mercator vector tiles in the "
                                                    "database (ST_AsMVT) rather than in Python.")
    tile_max_age: int = Field(60, ge=0, description="Cache-Control max-age of tiles, seconds.")

    # --- auth
    tokens: dict[str, str] = Field(
        default_factory=dict, description="Development bearer tokens → role (or 'town_editor:<code>[,<code>…]'); "
                                    "accounts in the store come first.")

    # --- HTTP edges (server.middleware, server.security)
    compress_min_bytes: int = Field(
        512, ge=0, description="Bodies smaller than this are sent uncompressed (gzip/brotli cost more "
                               "than they save on a few hundred bytes).")
    gzip_level: int = Field(6, ge=1, le=9, description="gzip compression level.")
    brotli_quality: int = Field(5, ge=0, le=11, description="brotli quality (when brotli is installed).")
    tile_gzip_level: int = Field(1, ge=1, le=9, description="gzip level of vector tiles (small, compressed once "
                                                             "per worker: the fastest level).")
    tile_brotli_quality: int = Field(1, ge=0, le=11, description="brotli quality of vector tiles (1: as small as "
                                                                  "gzip level 6, six times faster than 5).")
    max_body_bytes: int = Field(
        2_000_000, ge=1024, description="Largest request body of any route, counted while it arrives.")
    max_login_body_bytes: int = Field(
        4096, ge=256, description="Largest body of POST /login and /logout (a token and a path).")
    max_json_depth: int = Field(
        32, ge=4, le=1000, description="Deepest nesting of arrays and objects in a JSON request body.")
    rate_limit_per_minute: int = Field(
        1200, ge=0, description="Requests per minute per caller (a valid token, else the client address); "
                                "0 turns the limit off.")
    rate_limit_burst: int = Field(600, ge=1, description="Requests a caller may make at once before the "
                                                         "per-minute rate applies.")
    login_attempts_per_minute: int = Field(
        10, ge=0, description="Sign-in attempts (POST /login) per minute per client address; 0: no limit.")
    login_burst: int = Field(10, ge=1, description="Sign-in attempts allowed at once per address.")
    rate_limit_clients: int = Field(
        100_000, ge=100, description="Callers whose request counts are remembered (least recent out).")
    siting_max_vertices: int = Field(
        20_000, ge=4, description="Most vertices a proposed site may have; a larger one is refused with a "
                                  "request to simplify it.")
    siting_time_budget_s: float = Field(
        20.0, gt=0, description="Longest a siting review may take before the request is answered 503.")
    siting_concurrency: int = Field(2, ge=1, description="Siting reviews computed at once.")
    pmtiles_dir: Path | None = Field(
        None, description="Folder of tile packages (.pmtiles) served at /pmtiles/{name} with HTTP "
                          "Range requests; None: the route answers 404.")

    @field_validator("tokens")
    @classmethod
    def _roles_known(cls, tokens: dict[str, str]) -> dict[str, str]:
        for token, grant in tokens.items():
            role = grant.split(":", 1)[0]
            if role not in ROLES or role == "public":
                raise ValueError(f"token grants unknown role {role!r}; roles: {', '.join(ROLES[1:])}")
            if len(token) < 8:
                raise ValueError("tokens must be at least 8 characters long")
        return tokens

    @field_validator("public_url")
    @classmethod
    def _no_trailing_slash(cls, url: str | None) -> str | None:
        return url.rstrip("/") if url else url

    @model_validator(mode="after")
    def _consistent(self) -> Settings:
        if self.default_limit > self.max_limit:
            raise ValueError(f"default_limit ({self.default_limit}) exceeds max_limit ({self.max_limit})")
        if self.min_zoom > self.max_zoom:
            raise ValueError(f"min_zoom ({self.min_zoom}) exceeds max_zoom ({self.max_zoom})")
        if self.tile_buffer * 2 >= self.tile_extent:
            raise ValueError("tile_buffer must be smaller than half the tile_extent")
        if self.max_login_body_bytes > self.max_body_bytes:
            raise ValueError(f"max_login_body_bytes ({self.max_login_body_bytes}) exceeds max_body_bytes "
                             f"({self.max_body_bytes})")
        return self


class ConfigError(RiskmapError):
    """The server's configuration (``RISKMAP_*`` variables or settings given in code) is unusable."""


def _env_name(field: str) -> str:
    return f"RISKMAP_{field.upper()}"


def load_settings(**values) -> Settings:
    """:class:`Settings` from the environment and ``values``, or one :class:`ConfigError` line.

    pydantic's own errors (a validation report, or a JSON decoding failure of ``RISKMAP_TOKENS``)
    are turned into a sentence naming the variable and the fix, so that ``riskmap serve`` with a
    bad environment prints one line instead of a traceback.

    >>> import os
    >>> os.environ["RISKMAP_TOKENS"] = '{"short": "planner"}'
    >>> try:
    ...     load_settings()
    ... except ConfigError as exc:
    ...     print(exc)
    RISKMAP_TOKENS: tokens must be at least 8 characters long
    >>> del os.environ["RISKMAP_TOKENS"]
    """
    try:
        return Settings(**values)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = str(first["loc"][0]) if first.get("loc") else ""
        message = str(first.get("msg", exc)).removeprefix("Value error, ")
        where = _env_name(field) if field else "RISKMAP settings"
        more = f" (and {exc.error_count() - 1} more problem(s))" if exc.error_count() > 1 else ""
        raise ConfigError(f"{where}: {message}{more}") from None
    except SettingsError as exc:
        text = str(exc)
        field = text.split('"')[1] if text.count('"') >= 2 else ""
        if field == "tokens":
            raise ConfigError("RISKMAP_TOKENS is not valid JSON; give an object of token to role, e.g. "
                              "RISKMAP_TOKENS='{\"a-long-secret-1\": \"planner\", \"another-secret\": "
                              "\"town_editor:320412015\"}'") from None
        raise ConfigError(f"{_env_name(field) if field else 'RISKMAP settings'}: cannot be read ({text})") from None

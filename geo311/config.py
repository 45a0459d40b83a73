"""Documented settings with their defaults; every key can be set as ``GEO311_<KEY>`` in the environment."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

__all__ = ["Defaults", "PROJECT_ROOT", "apply_environment"]

#: The checkout (or installed tree) that holds ``data/``, ``boundaries/`` and ``web/``.
PROJECT_ROOT = Path(__file__).resolve().parents[1]


class Defaults:
    """Default settings. Each is documented in README.md (kept honest by tests/test_docs.py)."""

    #: SQLAlchemy URL of the PostGIS database. Empty means the private cluster under ``VAR_DIR``.
    DATABASE_URL = ""
    #: Where the private cluster, its socket and logs live (gitignored).
    VAR_DIR = str(PROJECT_ROOT / "var")
    #: TCP port number of the private cluster (it listens on a unix socket only, under VAR_DIR).
    PG_PORT = 8312
    #: Database name inside the private cluster.
    PG_DATABASE = "geo311"
    #: Reference data shipped with the product.
    DATA_DIR = str(PROJECT_ROOT / "data")
    #: Declarative boundary dataset definitions.
    BOUNDARIES_DIR = str(PROJECT_ROOT / "boundaries")
    #: Largest number of vertices in one pre-split area part (ST_Subdivide); smaller is faster to test.
    SUBDIVIDE_MAX_VERTICES = 128
    #: Host and port that ``make run`` serves on.
    HOST = "127.0.0.1"
    PORT = 8311
    #: Largest page a list endpoint returns.
    PAGE_LIMIT = 1000
    #: How far (metres) a pin may be from a street before snapping gives up.
    SNAP_MAX_DISTANCE_M = 250.0
    #: Log level of the application logger.
    LOG_LEVEL = "INFO"
    #: Largest request body (bytes) any endpoint accepts; more gets 413.
    MAX_CONTENT_LENGTH = 1024 * 1024
    #: Largest JSON body (bytes) of POST /api/v1/requests; more gets 413.
    REQUEST_BODY_MAX_BYTES = 64 * 1024
    #: Extra Open311 API keys, comma separated (for deployments that inject secrets by
    #: environment); keys made with ``geo311 apikeys create`` live hashed in the database.
    OPEN311_API_KEYS = ""
    #: The Open311 ``jurisdiction_id`` this server answers for; any other value gets 404.
    OPEN311_JURISDICTION = "lacity.org"
    #: Public writes allowed per API key or client address (N/second|minute|hour; 0 = off).
    RATE_LIMIT = "30/minute"
    #: Optional raster basemap URL template ({z}/{x}/{y}) for the pages; empty: our own tiles only.
    BASEMAP_URL = ""
    #: Signs the staff login session cookie. Empty: a random key per process (logged as a
    #: warning), so sessions end on restart and differ between workers; set it in production.
    SECRET_KEY = ""
    #: Hotspot DBSCAN distance (metres) between neighbouring requests of one type.
    HOTSPOT_EPS_M = 50.0
    #: Per-type DBSCAN distances overriding HOTSPOT_EPS_M: ``code:metres,...`` or a JSON object.
    HOTSPOT_EPS_BY_TYPE = "graffiti:30,pothole:30,homeless_encampment:100,illegal_dumping:60"
    #: Fewest requests that make a hotspot cluster (DBSCAN minpoints).
    HOTSPOT_MIN_POINTS = 5
    #: Side (metres) of the square Getis-Ord Gi* grid cells.
    HOTSPOT_CELL_M = 250.0
    #: Persistence window: a hotspot's distinct active weeks are counted over this many weeks.
    HOTSPOT_WEEKS = 8


def apply_environment(config: Any) -> None:
    """Overlay ``GEO311_*`` environment variables (JSON-typed where possible) and ``DATABASE_URL``.

    :param config: a Flask ``Config`` to update in place.
    """
    config.from_prefixed_env("GEO311")
    if not config.get("DATABASE_URL") and os.environ.get("DATABASE_URL"):
        config["DATABASE_URL"] = os.environ["DATABASE_URL"]

"""`geo311 check`: integrity checks over the loaded reference data."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import text
from sqlalchemy.engine import Connection

__all__ = ["run_checks"]

_CHECKS: list[tuple[str, str]] = [
    ("every boundary set has areas",
     "SELECT count(*) = 0 FROM boundary_set s WHERE NOT EXISTS (SELECT 1 FROM area a WHERE a.set_id = s.id)"),
    ("every area is valid geometry",
     "SELECT count(*) = 0 FROM area WHERE NOT ST_IsValid(geom)"),
    ("every area has lookup parts",
     "SELECT count(*) = 0 FROM area a WHERE NOT EXISTS (SELECT 1 FROM area_part p WHERE p.area_id = a.id)"),
    ("the City boundary is loaded",
     "SELECT count(*) > 0 FROM boundary_set WHERE type_code = 'CITY'"),
    ("council districts: 15 in each vintage",
     "SELECT bool_and(n = 15) FROM (SELECT count(*) AS n FROM area a JOIN boundary_set s ON s.id = a.set_id"
     " WHERE s.type_code = 'CD' GROUP BY s.id) t"),
    ("council districts cover at least 98% of the City area (each vintage; the City limit includes harbour water)",
     "SELECT bool_and(share >= 0.98) FROM ("
     " SELECT ST_Area(ST_Intersection(c.geom, ST_Union(a.geom))::geography)"
     "      / ST_Area(c.geom::geography) AS share"
     " FROM area a JOIN boundary_set s ON s.id = a.set_id AND s.type_code = 'CD',"
     "      (SELECT a2.geom FROM area a2 JOIN boundary_set s2 ON s2.id = a2.set_id"
     "       WHERE s2.type_code = 'CITY' LIMIT 1) c"
     " GROUP BY s.id, c.geom) t"),
    ("vintages of one type do not overlap in time",
     "SELECT count(*) = 0 FROM boundary_set a JOIN boundary_set b ON a.type_code = b.type_code AND a.id < b.id"
     " AND daterange(a.valid_from, a.valid_to) && daterange(b.valid_from, b.valid_to)"),
    ("street segments have positive length",
     "SELECT count(*) = 0 FROM street_segment WHERE length_m <= 0"),
]


def run_checks(conn: Connection) -> Iterator[tuple[str, bool]]:
    """Yield ``(description, passed)`` for each check."""
    for description, sql in _CHECKS:
        passed = conn.execute(text(sql)).scalar_one()
        yield description, bool(passed)

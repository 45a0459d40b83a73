#!/usr/bin/env python3
"""Benchmark point-to-area lookups against the loaded LA boundaries (run by hand, not in CI).

Compares, in one run on the same random points inside the City:
- areas_at_point (in-memory STRtree of the subdivided parts, covers, all types; one token query
  to PostgreSQL per call)  vs  (a) ST_Contains on the whole polygons
  and (b) geopandas sjoin one point at a time;
- areas_at_points (one vectorised call for 100,000 points)   vs  geopandas sjoin of the same points.

Usage: .venv/bin/python scripts/bench_areas.py [--points 10000] [--batch 100000]
Needs the database of `make run` (or DATABASE_URL) with the boundaries loaded.
"""

from __future__ import annotations

import argparse
import time

import geopandas as gpd
import shapely
from sqlalchemy import text

from geo311 import create_app
from geo311.boundaries import areas_at_point, areas_at_points, today_in_la
from geo311.db import driver_cursor, get_engine

# Baseline (a): the same vintage choice, but ST_Contains on each area's whole polygon. Run through
# the same psycopg prepared-statement path as areas_at_point, so only the lookup method differs.
WHOLE_POLYGON_SQL = (
    """
    WITH sets AS (
        SELECT DISTINCT ON (type_code) id, type_code, vintage FROM boundary_set
        ORDER BY type_code,
                 (COALESCE(valid_from, DATE '0001-01-01') <= %(on)s
                  AND COALESCE(valid_to, DATE '9999-12-31') > %(on)s) DESC,
                 valid_from DESC NULLS LAST
    )
    SELECT s.type_code, s.vintage, a.code, a.name FROM area a JOIN sets s ON s.id = a.set_id
    WHERE ST_Contains(a.geom, ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326))
    """
)


def random_points(conn, count: int, seed: int) -> list[tuple[float, float]]:
    rows = conn.execute(
        text(
            "SELECT ST_X(g), ST_Y(g) FROM (SELECT (ST_Dump(ST_GeneratePoints(a.geom, :n, :seed))).geom g"
            " FROM area a JOIN boundary_set s ON s.id = a.set_id WHERE s.type_code = 'CITY') t"
        ),
        {"n": count, "seed": seed},
    )
    return [(r[0], r[1]) for r in rows]


def in_force_areas(conn) -> gpd.GeoDataFrame:
    return gpd.read_postgis(
        text(
            "SELECT DISTINCT ON (a.id) a.id, s.type_code, a.code, a.geom FROM area a"
            " JOIN boundary_set s ON s.id = a.set_id"
            " WHERE COALESCE(s.valid_from, DATE '0001-01-01') <= CURRENT_DATE"
            " AND COALESCE(s.valid_to, DATE '9999-12-31') > CURRENT_DATE"
        ),
        conn,
        geom_col="geom",
    )


def rate(count: int, seconds: float) -> float:
    return count / seconds if seconds else float("inf")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=10_000)
    parser.add_argument("--sjoin-points", type=int, default=1_000,
                        help="points for the slow one-at-a-time sjoin baseline")
    parser.add_argument("--batch", type=int, default=100_000)
    args = parser.parse_args()

    app = create_app()
    with app.app_context(), get_engine().connect() as conn:
        points = random_points(conn, args.points, seed=311)
        on = today_in_la()
        for lon, lat in points[:200]:  # warm caches and plans
            areas_at_point(conn, lon, lat, on=on)

        started = time.perf_counter()
        hits_subdivided = sum(len(areas_at_point(conn, lon, lat, on=on)) for lon, lat in points)
        ours = rate(len(points), time.perf_counter() - started)

        with driver_cursor(conn) as cursor:
            for lon, lat in points[:200]:
                cursor.execute(WHOLE_POLYGON_SQL, {"lon": lon, "lat": lat, "on": on}, prepare=True)
                cursor.fetchall()
            started = time.perf_counter()
            hits_whole = 0
            for lon, lat in points:
                cursor.execute(WHOLE_POLYGON_SQL, {"lon": lon, "lat": lat, "on": on}, prepare=True)
                hits_whole += len(cursor.fetchall())
            whole = rate(len(points), time.perf_counter() - started)

        areas = in_force_areas(conn)
        areas.sindex  # build the index before timing, as a fair baseline
        sample = points[: args.sjoin_points]
        started = time.perf_counter()
        for lon, lat in sample:
            one = gpd.GeoDataFrame(geometry=[shapely.Point(lon, lat)], crs=4326)
            gpd.sjoin(one, areas, predicate="within")
        sjoin_single = rate(len(sample), time.perf_counter() - started)

        batch_points = random_points(conn, args.batch, seed=2026)
        batch = {}
        for label, types in (("all types", None), ("CD+NC (what imports resolve)", ["CD", "NC"])):
            started = time.perf_counter()
            batch_hits = areas_at_points(conn, batch_points, on, types=types)
            ours_rate = rate(len(batch_points), time.perf_counter() - started)
            subset = areas if types is None else areas[areas.type_code.isin(types)]
            subset.sindex
            started = time.perf_counter()
            frame = gpd.GeoDataFrame(
                geometry=shapely.points([p[0] for p in batch_points], [p[1] for p in batch_points]),
                crs=4326,
            )
            joined = gpd.sjoin(frame, subset, predicate="within")
            sjoin_rate = rate(len(batch_points), time.perf_counter() - started)
            batch[label] = (ours_rate, sum(len(h) for h in batch_hits), sjoin_rate, len(joined))

    print(f"single point, all types ({len(points):,} points inside the City)")
    print(f"  areas_at_point (in-memory parts index):{ours:10,.0f} points/s  ({hits_subdivided:,} hits)")
    print(f"  (a) ST_Contains on whole polygons:      {whole:10,.0f} points/s  ({hits_whole:,} hits)"
          f"  -> ratio {ours / whole:5.1f}x (target >= 3x)")
    print(f"  (b) geopandas sjoin, one at a time:     {sjoin_single:10,.0f} points/s"
          f"  -> ratio {ours / sjoin_single:5.1f}x (target >= 20x)")
    print(f"batch ({len(batch_points):,} points, one call)")
    for label, (ours_rate, our_hits, sjoin_rate, sjoin_hits) in batch.items():
        print(f"  {label}")
        print(f"    areas_at_points:                      {ours_rate:10,.0f} points/s  ({our_hits:,} hits)")
        print(f"    geopandas sjoin (bulk, STRtree):      {sjoin_rate:10,.0f} points/s  ({sjoin_hits:,} hits)"
              f"  -> ratio {ours_rate / sjoin_rate:5.2f}x (target >= 1x)")


if __name__ == "__main__":
    main()

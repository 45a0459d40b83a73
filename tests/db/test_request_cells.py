"""The request cell summary (sql/request_cells.sql) equals a live count after every write."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, insert, select, text, update

from geo311.db import driver_cursor, get_engine
from geo311.models import ServiceRequest, ServiceType
from geo311.tiles import CELL_ZOOM, CLUSTER_CELLS, TileFilters, render_tile, request_statement

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "tests" / "fixtures" / "requests"
#: Koreatown, and points about 3 km (another z14 cell) and 20 km (another z12 tile) away.
KOREATOWN = (-118.3005, 34.0655)
NEAR = (-118.2700, 34.0655)
FAR = (-118.4900, 34.1900)
#: The summary as stored, and the same figures counted straight from service_request.
SUMMARY = """
SELECT cx, cy, service_code, status, department, n, sum_x_mm, sum_y_mm, oldest, newest
FROM request_cell ORDER BY 1, 2, 3, 4, 5"""
LIVE = """
SELECT request_cell_col(ST_X(location_3857)) AS cx, request_cell_row(ST_Y(location_3857)) AS cy,
       service_code, status, coalesce(department, '') AS department, count(*)::int AS n,
       sum(round(ST_X(location_3857) * 1000)::bigint)::bigint AS sum_x_mm,
       sum(round(ST_Y(location_3857) * 1000)::bigint)::bigint AS sum_y_mm,
       min(requested_at) AS oldest, max(requested_at) AS newest
FROM service_request WHERE location_3857 IS NOT NULL
GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5"""


@pytest.fixture(scope="module")
def cells_app(own_fixture_city):
    """An app on a database of its own: these tests commit."""
    yield from own_fixture_city("geo311_request_cells")


@pytest.fixture
def engine(cells_app):
    engine = get_engine(cells_app)
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE service_request, request_status_history, request_import "
                          "CASCADE"))
    return engine


@pytest.fixture(scope="module")
def types(cells_app) -> list[tuple[str, str | None]]:
    """Three request types of the catalogue with their default departments."""
    with get_engine(cells_app).connect() as conn:
        rows = conn.execute(select(ServiceType.code, ServiceType.default_department)
                            .order_by(ServiceType.code).limit(3)).all()
    return [(code, department) for code, department in rows]


def add_request(conn, code: str, *, at: tuple[float, float] = KOREATOWN, days: float = 1,
                status: str = "open", department: str | None = None, seed: int = 0) -> int:
    """One request ``days`` old a few metres from ``at`` (``seed`` spreads them)."""
    lon = at[0] + 0.0001 * (seed % 7)
    lat = at[1] + 0.0001 * (seed % 5)
    when = datetime.now(UTC) - timedelta(days=days)
    return conn.execute(insert(ServiceRequest).values(
        service_code=code, status=status, close_reason="resolved" if status == "closed" else None,
        department=department, channel="test", location=f"SRID=4326;POINT({lon} {lat})",
        requested_at=when, updated_at=when).returning(ServiceRequest.id)).scalar_one()


def assert_exact(engine) -> list:
    """The summary equals the live count, and no transaction's changes are left behind."""
    with engine.connect() as conn:
        summary = conn.execute(text(SUMMARY)).all()
        live = conn.execute(text(LIVE)).all()
        left = conn.execute(text("SELECT (SELECT count(*) FROM request_cell_change)"
                                 " + (SELECT count(*) FROM request_cell_flush)")).scalar_one()
    assert summary == live
    assert left == 0
    return summary


def _fill(engine, types) -> dict[str, int]:
    (a, dept_a), (b, dept_b), (c, _) = types
    ids = {}
    with engine.begin() as conn:
        for i in range(6):
            ids[f"a{i}"] = add_request(conn, a, days=10 + i, department=dept_a, seed=i)
        ids["b_near"] = add_request(conn, b, at=NEAR, days=3, department=dept_b)
        ids["b_far"] = add_request(conn, b, at=FAR, days=400, department=dept_b, status="closed")
        ids["c_none"] = add_request(conn, c, days=2, department=None)
    return ids


def test_inserts_fill_the_summary_exactly(engine, types):
    _fill(engine, types)
    summary = assert_exact(engine)
    assert sum(row.n for row in summary) == 9
    assert "" in {row.department for row in summary}, "a NULL department is stored as ''"


def test_status_changes_moves_and_deletes_keep_it_exact(engine, types):
    ids = _fill(engine, types)
    steps = [
        # the oldest of its group leaves it (the group's oldest is read again)
        update(ServiceRequest).where(ServiceRequest.id == ids["a5"]).values(
            status="closed", close_reason="resolved"),
        # the newest too, then a whole group at once
        update(ServiceRequest).where(ServiceRequest.id == ids["a0"]).values(status="assigned"),
        update(ServiceRequest).where(ServiceRequest.id.in_([ids["a1"], ids["a2"]])).values(
            status="in_progress"),
        # a move to another cell and another tile, and back
        update(ServiceRequest).where(ServiceRequest.id == ids["a3"]).values(
            location=f"SRID=4326;POINT({FAR[0]} {FAR[1]})"),
        update(ServiceRequest).where(ServiceRequest.id == ids["a3"]).values(
            location=f"SRID=4326;POINT({NEAR[0]} {NEAR[1]})"),
        # a pin taken away, a type and a date changed
        update(ServiceRequest).where(ServiceRequest.id == ids["b_near"]).values(location=None),
        update(ServiceRequest).where(ServiceRequest.id == ids["c_none"]).values(
            service_code=types[0][0]),
        update(ServiceRequest).where(ServiceRequest.id == ids["a4"]).values(
            requested_at=datetime.now(UTC) - timedelta(days=900)),
        # deletes: the oldest of a group, then the last of one
        delete(ServiceRequest).where(ServiceRequest.id == ids["a4"]),
        delete(ServiceRequest).where(ServiceRequest.id == ids["b_far"]),
    ]
    for step in steps:
        with engine.begin() as conn:
            conn.execute(step)
        assert_exact(engine)
    with engine.connect() as conn:
        groups = conn.execute(text("SELECT count(*) FROM request_cell WHERE n <= 0")).scalar()
    assert groups == 0


def test_an_update_that_moves_nothing_notes_no_change(engine, types):
    ids = _fill(engine, types)
    with engine.begin() as conn:
        conn.execute(update(ServiceRequest).where(ServiceRequest.id == ids["a0"]).values(
            description="more detail", version=ServiceRequest.version + 1))
        noted = conn.execute(text("SELECT count(*) FROM request_cell_change")).scalar()
    assert noted == 0
    assert_exact(engine)


def test_a_rolled_back_transaction_or_savepoint_leaves_the_summary_as_it_was(engine, types):
    ids = _fill(engine, types)
    before = assert_exact(engine)
    with engine.connect() as conn:
        transaction = conn.begin()
        add_request(conn, types[1][0], days=1000)
        conn.execute(update(ServiceRequest).where(ServiceRequest.id == ids["a5"]).values(
            status="closed", close_reason="resolved"))
        conn.execute(delete(ServiceRequest).where(ServiceRequest.id == ids["a0"]))
        transaction.rollback()
    assert assert_exact(engine) == before
    with engine.begin() as conn:
        savepoint = conn.begin_nested()
        add_request(conn, types[1][0], days=1000)
        savepoint.rollback()
        add_request(conn, types[2][0], days=5, department=None)
    after = assert_exact(engine)
    assert sum(row.n for row in after) == sum(row.n for row in before) + 1


def test_two_sessions_writing_one_group(engine, types):
    """A takes away a group's oldest request while B adds an older one and commits first: A's
    commit must read the oldest again and see B's."""
    ids = _fill(engine, types)
    code, department = types[0]
    with engine.connect() as first, engine.connect() as second:
        a, b = first.begin(), second.begin()
        first.execute(update(ServiceRequest).where(ServiceRequest.id == ids["a5"]).values(
            status="closed", close_reason="resolved"))
        add_request(second, code, days=30, department=department, seed=5)
        add_request(second, code, days=0.5, department=department, seed=6)
        b.commit()
        a.commit()
    summary = assert_exact(engine)
    oldest = min(row.oldest for row in summary
                 if row.service_code == code and row.status == "open")
    assert (datetime.now(UTC) - oldest).days == 30


def test_a_transaction_sees_its_own_writes_in_cluster_tiles(engine, types, cells_app):
    _fill(engine, types)
    z, x, y = _tile(12, *KOREATOWN)
    with cells_app.app_context(), engine.connect() as conn:
        conn.begin()
        before = _counts(render_tile(conn, "requests", z, x, y, TileFilters()))
        add_request(conn, types[1][0], days=1)
        after = _counts(render_tile(conn, "requests", z, x, y, TileFilters()))
        conn.rollback()
    assert sum(after) == sum(before) + 1
    assert_exact(engine)


@pytest.mark.parametrize("filters", [
    TileFilters(),
    TileFilters(statuses=("open",)),
    TileFilters(statuses=("open", "closed"), departments=("LASAN",)),
    TileFilters(service_codes=("no_such_type",)),
])
def test_cluster_tiles_from_the_summary_equal_the_live_count(engine, types, filters):
    _fill(engine, types)
    with engine.connect() as conn:
        for z in (10, 11, 12):
            for lon, lat in (KOREATOWN, NEAR, FAR):
                _, x, y = _tile(z, lon, lat)
                summary, live = (_cluster_tile(conn, z, x, y, filters, source)
                                 for source in (True, False))
                assert summary == live, (z, x, y, filters)


def test_load_requests_commit_keeps_the_summary_exact(engine, cells_app):
    runner = cells_app.test_cli_runner()
    for args in ([str(SAMPLES / "myla311_in_test_city.csv")],
                 [str(SAMPLES / "myla311_2020_sample_300.csv"), "--indexes", "rebuild"],
                 [str(SAMPLES / "myla311_2022_09_hfla_api_300.csv"), "--indexes", "keep"],
                 [str(SAMPLES / "myla311_2020_sample_300.csv")]):  # a re-import writes nothing
        result = runner.invoke(args=["load", "requests", "--commit", *args])
        assert result.exit_code == 0, result.output
        summary = assert_exact(engine)
    assert sum(row.n for row in summary) > 300


def test_rebuild_and_truncate(engine, types):
    _fill(engine, types)
    with engine.begin() as conn:
        conn.execute(text("UPDATE request_cell SET n = n + 5"))  # as if written with triggers off
        groups = conn.execute(text("SELECT request_cells_rebuild()")).scalar_one()
    assert groups == len(assert_exact(engine))
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE service_request CASCADE"))
    assert assert_exact(engine) == []


def test_cells_are_z14_tiles():
    assert CELL_ZOOM == 14 and CLUSTER_CELLS == 4


def test_request_cell_of_a_point_is_its_z14_tile(engine):
    with engine.connect() as conn:
        for lon, lat in (KOREATOWN, NEAR, FAR):
            cell = conn.execute(text(
                "SELECT request_cell_col(ST_X(p)), request_cell_row(ST_Y(p))"
                " FROM ST_Transform(ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), 3857) p"),
                {"lon": lon, "lat": lat}).one()
            assert tuple(cell) == _tile(CELL_ZOOM, lon, lat)[1:]


def _tile(z: int, lon: float, lat: float) -> tuple[int, int, int]:
    n = 1 << z
    y = (1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n
    return z, int((lon + 180.0) / 360.0 * n), int(y)


def _counts(data: bytes) -> list[int]:
    mvt = pytest.importorskip("mapbox_vector_tile")
    if not data:
        return []
    return sorted(f["properties"]["count"] for f in mvt.decode(data)["requests"]["features"])


def _cluster_tile(conn, z: int, x: int, y: int, filters: TileFilters, from_cells: bool) -> list:
    """The decoded features of one cluster tile, from the summary or counted live."""
    mvt = pytest.importorskip("mapbox_vector_tile")
    params = {"z": z, "x": x, "y": y, "extent": 4096, "buffer": 64, "cells": CLUSTER_CELLS,
              "cell_shift": CELL_ZOOM - z - 2, "from_cells": from_cells,
              "service_codes": list(filters.service_codes) or None,
              "statuses": list(filters.statuses) or None,
              "departments": list(filters.departments) or None,
              "area": None, "min_age_days": None, "max_age_days": None}
    with driver_cursor(conn) as cursor:
        data = cursor.execute(request_statement("tile_request_clusters"), params,
                              prepare=False).fetchone()[0]
    if not data:
        return []
    return sorted((f["properties"]["count"], f["properties"]["oldest_days"],
                   f["properties"]["newest_days"], f["properties"]["service_code"],
                   tuple(f["geometry"]["coordinates"]))
                  for f in mvt.decode(bytes(data))["requests"]["features"])

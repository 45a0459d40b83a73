"""The in-memory area index follows the database: a change to the boundaries is seen at once."""

from __future__ import annotations

from datetime import date

from sqlalchemy import text

from geo311.area_index import area_index_for
from geo311.boundaries import areas_at_point, areas_at_points

AFTER = date(2023, 6, 1)
WEST_NORTH = (-118.28, 34.08)


def cd_codes(hits):
    return sorted(h.code for h in hits if h.type == "CD")


def test_deleting_an_area_is_seen_by_the_next_lookup(conn):
    assert cd_codes(areas_at_point(conn, *WEST_NORTH, on=AFTER)) == ["2"]
    conn.execute(text(
        "DELETE FROM area WHERE code = '2' AND set_id IN"
        " (SELECT id FROM boundary_set WHERE type_code = 'CD' AND vintage = 'new')"
    ))
    assert cd_codes(areas_at_point(conn, *WEST_NORTH, on=AFTER)) == []
    assert cd_codes(areas_at_points(conn, [WEST_NORTH], AFTER)[0]) == []


def test_changing_a_vintage_date_is_seen_by_the_next_lookup(conn):
    conn.execute(text("UPDATE boundary_set SET valid_from = DATE '2024-01-01' WHERE type_code = 'CD'"
                      " AND vintage = 'new'"))
    conn.execute(text("UPDATE boundary_set SET valid_to = DATE '2024-01-01' WHERE type_code = 'CD'"
                      " AND vintage <> 'new'"))
    assert cd_codes(areas_at_point(conn, *WEST_NORTH, on=AFTER)) == ["1"]  # the old lines, still in force


def test_unchanged_boundaries_reuse_the_same_index(conn):
    assert area_index_for(conn) is area_index_for(conn)


def test_a_rolled_back_change_is_not_served_to_others(fixture_engine):
    with fixture_engine.connect() as writer:
        writer.execute(text("DELETE FROM area_part"))
        assert areas_at_point(writer, *WEST_NORTH, on=AFTER) == []
        writer.rollback()
    with fixture_engine.connect() as reader:
        assert cd_codes(areas_at_point(reader, *WEST_NORTH, on=AFTER)) == ["2"]

"""areas_at_point / areas_at_points against the hand-made fixtures (tests/fixtures/geo)."""

from __future__ import annotations

from datetime import date

from geo311.boundaries import areas_at_point, areas_at_points, list_boundary_sets

BEFORE = date(2018, 6, 1)  # old districts: west 1 / east 2
AFTER = date(2023, 6, 1)  # new districts: south 1 / north 2


def codes(hits, type_code):
    return sorted(h.code for h in hits if h.type == type_code)


def test_point_gets_district_of_the_vintage_in_force_on_the_date(conn):
    west_north = (-118.28, 34.08)
    assert codes(areas_at_point(conn, *west_north, on=BEFORE), "CD") == ["1"]
    assert codes(areas_at_point(conn, *west_north, on=AFTER), "CD") == ["2"]
    vintages = {h.vintage for h in areas_at_point(conn, *west_north, on=AFTER) if h.type == "CD"}
    assert vintages == {"new"}


def test_switch_happens_on_the_effective_date(conn):
    east_south = (-118.22, 34.02)
    assert codes(areas_at_point(conn, *east_south, on=date(2022, 12, 11)), "CD") == ["2"]
    assert codes(areas_at_point(conn, *east_south, on=date(2022, 12, 12)), "CD") == ["1"]


def test_default_date_is_today_so_current_vintage(conn):
    assert codes(areas_at_point(conn, -118.28, 34.02), "CD") == ["1"]
    assert codes(areas_at_point(conn, -118.22, 34.08), "CD") == ["2"]


def test_date_before_every_vintage_uses_the_earliest(conn):
    assert codes(areas_at_point(conn, -118.22, 34.02, on=date(1999, 1, 1)), "CD") == ["2"]


def test_point_on_shared_edge_returns_both_districts(conn):
    on_edge = (-118.25, 34.03)
    assert codes(areas_at_point(conn, *on_edge, on=BEFORE), "CD") == ["1", "2"]


def test_point_in_enclave_is_outside_city_and_in_the_island(conn):
    hits = areas_at_point(conn, -118.255, 34.045, on=AFTER)
    assert codes(hits, "CITY") == []
    assert codes(hits, "UNINCORPORATED") == ["ISLAND"]
    assert codes(hits, "CD") == ["1"]


def test_point_inside_city_and_outside_enclave(conn):
    hits = areas_at_point(conn, -118.28, 34.02, on=AFTER)
    assert codes(hits, "CITY") == ["LA"]
    assert codes(hits, "UNINCORPORATED") == []


def test_point_outside_city_has_no_areas(conn):
    assert areas_at_point(conn, -118.35, 34.05) == []


def test_invalid_polygon_was_made_valid_and_answers(conn):
    # The bowtie NC is two triangles meeting at (-118.275, 34.025); the west one holds this point.
    assert codes(areas_at_point(conn, -118.29, 34.025), "NC") == ["56"]


def test_types_filter_limits_the_answer(conn):
    hits = areas_at_point(conn, -118.28, 34.08, types=["NC"])
    assert {h.type for h in hits} == {"NC"}


def test_batch_matches_single_point_lookups_with_per_point_dates(conn):
    points = [(-118.28, 34.08), (-118.22, 34.02), (None, None), (-118.25, 34.03), (-118.40, 34.0)]
    dates = [BEFORE, AFTER, BEFORE, BEFORE, AFTER]
    batch = areas_at_points(conn, points, dates)
    assert len(batch) == len(points)
    for point, on, hits in zip(points, dates, batch, strict=True):
        if point[0] is None:
            assert hits == []
            continue
        assert sorted(hits, key=lambda h: (h.type, h.code)) == sorted(
            areas_at_point(conn, point[0], point[1], on=on), key=lambda h: (h.type, h.code)
        )


def test_boundary_sets_list_types_vintages_and_counts(conn):
    sets = {(s.type, s.vintage): s for s in list_boundary_sets(conn)}
    assert sets[("CD", "old")].area_count == 2
    assert sets[("CD", "old")].valid_to == date(2022, 12, 12)
    assert sets[("CD", "new")].valid_from == date(2022, 12, 12)
    # Of four NC features, the empty one and the one without a code are rejected.
    assert sets[("NC", "test")].area_count == 2


def _signed_area(ring: list[list[float]]) -> float:
    """Shoelace: positive when the ring runs counterclockwise."""
    return sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(ring, ring[1:], strict=False)) / 2


def test_area_feature_rings_follow_the_rfc_7946_right_hand_rule(conn):
    """RFC 7946 3.1.6: exterior rings counterclockwise. The City's own layers are drawn
    clockwise (CD 10 and NC 55 were served so); here the stored ring is made clockwise too."""
    from sqlalchemy import text

    from geo311.boundaries import get_area_feature

    conn.execute(text("""
        UPDATE area SET geom = ST_ForcePolygonCW(geom)
        WHERE code = '1' AND set_id IN (SELECT id FROM boundary_set WHERE type_code = 'CD'
                                        AND vintage = 'old')"""))
    geometry = get_area_feature(conn, "CD", "1", vintage="old")["geometry"]
    polygons = geometry["coordinates"] if geometry["type"] == "MultiPolygon" else \
        [geometry["coordinates"]]
    for exterior, *holes in polygons:
        assert _signed_area(exterior) > 0
        assert all(_signed_area(hole) < 0 for hole in holes)

"""duplicate_suggestions on the real LA streets: the same-block rule beyond the type radius.

Runs in ``la_conn``'s rolled-back transaction; the requests are written straight into the table
with the ``locate.segment.id`` a located request stores.
"""

from __future__ import annotations

import json

from sqlalchemy import text
from sqlalchemy.dialects.postgresql import insert

from geo311.duplicate_suggestions import SuggestionRule, suggest_duplicates
from geo311.models import Department, ServiceType
from geo311.snap import snap_to_street

#: In front of 420 S New Hampshire Ave, Koreatown.
PIN = (-118.2925, 34.0670)
M = 1 / 111_000  # about one metre of latitude in degrees


def _add_request(conn, lon: float, lat: float, segment_id: int | None) -> int:
    locate = {"segment": {"id": segment_id}} if segment_id is not None else {}
    return conn.execute(text(
        "INSERT INTO service_request (service_code, status, location, channel, requested_at, "
        "updated_at, locate) VALUES ('test_pothole', 'open', "
        "ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), 'api', now(), now(), "
        "CAST(:locate AS jsonb)) RETURNING id"),
        {"lon": lon, "lat": lat, "locate": json.dumps(locate)}).scalar_one()


def test_same_block_is_suggested_beyond_the_radius_other_blocks_are_not(la_conn):
    la_conn.execute(insert(Department).values(code="TESTD", name_en="Test", name_es="Prueba")
                    .on_conflict_do_nothing())
    la_conn.execute(insert(ServiceType).values(
        code="test_pothole", name_en="Test", name_es="Prueba", default_department="TESTD",
        attributes=[], duplicate_radius_m=25, duplicate_window_days=7))
    segment = snap_to_street(la_conn, *PIN, max_distance_m=60)[0].segment_id
    near = _add_request(la_conn, PIN[0], PIN[1] + 10 * M, None)
    same_block = _add_request(la_conn, PIN[0], PIN[1] + 80 * M, segment)
    other_block = _add_request(la_conn, PIN[0], PIN[1] + 70 * M, segment + 1_000_000)
    too_far = _add_request(la_conn, PIN[0], PIN[1] + 400 * M, segment)

    found = suggest_duplicates(la_conn, SuggestionRule("test_pothole", 25.0, 7), *PIN)

    assert [d.id for d in found] == [near, same_block]
    assert [d.same_segment for d in found] == [False, True]
    assert 75 < found[1].distance_m < 85
    assert other_block not in [d.id for d in found] and too_far not in [d.id for d in found]

"""Hotspots on hand-made requests: known cluster, per-type distance, persistence, street-km, Gi*."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, text

from geo311 import create_app
from geo311.catalogue import sync_catalogue
from geo311.db import get_engine, make_engine
from geo311.hotspots import find_hotspots, gi_star, params_from_config
from geo311.models import ServiceRequest, StreetSegment
from geo311.request_query import RequestFilter
from geo311.schema import init_schema

_DB = "geo311_hotspots"
#: Where the known cluster sits (Koreatown) and where the lone requests are.
_HOT = (-118.3005, 34.0655)
#: Lone requests every ~625 m east of the cluster (2.5 cells of 250 m): a small, dense study grid,
#: so a cell holding one request with empty neighbours is below the grid's average (Gi* < 0).
_LONERS = [(_HOT[0] + k * 0.0068, _HOT[1]) for k in (1, 2, 3, 4)]
_NOW = datetime(2024, 6, 28, 12, tzinfo=UTC)  # a Friday
_M_PER_DEG_LAT = 111_000.0


@pytest.fixture(scope="module")
def hotspots_db_url(postgis_server) -> Iterator[str]:
    """A database of its own with the catalogue, a street through the cluster and the requests."""
    postgis_server.drop(_DB)
    postgis_server.create(_DB)
    url = postgis_server.url_for(_DB)
    engine = make_engine(url)
    init_schema(engine)
    with engine.begin() as conn:
        sync_catalogue(conn)
        # A 200 m east-west street through the cluster, and nothing near the loners.
        add_street(conn, _HOT[0] - 0.0011, _HOT[1], _HOT[0] + 0.0011, _HOT[1])
        # 8 graffiti requests within ~15 m of each other, one per day over 6 distinct weeks.
        for k, days in enumerate((0, 1, 6, 13, 15, 20, 27, 34)):
            dx, dy = (k % 3 - 1) * 0.00008, (k // 3 - 1) * 0.00004
            add_request(conn, lon=_HOT[0] + dx, lat=_HOT[1] + dy, days_ago=days,
                        status="closed" if k == 0 else "open")
        for lon, lat in _LONERS:
            add_request(conn, lon=lon, lat=lat, days_ago=3)
        # A pothole cluster elsewhere with no street under it.
        for k in range(5):
            add_request(conn, lon=-118.2500 + k * 0.00005, lat=34.0800, service_code="pothole",
                        department="BSS", days_ago=2)
    engine.dispose()
    yield url
    postgis_server.drop(_DB)


def add_request(conn, *, lon: float, lat: float, service_code: str = "graffiti",
                department: str = "OCB", days_ago: float = 0, status: str = "open",
                cd: str = "13") -> int:
    """Insert one request at ``lon``/``lat``, ``days_ago`` days before the test's 'now'."""
    at = _NOW - timedelta(days=days_ago)
    values = dict(service_code=service_code, department=department, status=status,
                  pin_lon=lon, pin_lat=lat, pin_source="gps", channel="api",
                  location=text(f"ST_SetSRID(ST_MakePoint({lon}, {lat}), 4326)"),
                  areas=[{"type": "CD", "code": cd}], requested_at=at, updated_at=at)
    if status == "closed":
        values.update(close_reason="resolved", closed_at=at)
    return conn.execute(insert(ServiceRequest).values(**values)
                        .returning(ServiceRequest.id)).scalar_one()


def add_street(conn, lon1: float, lat1: float, lon2: float, lat2: float, name: str = "TEST ST"):
    """Insert one street centre line."""
    conn.execute(insert(StreetSegment).values(
        source="test", source_id=f"{lon1},{lat1}", name=name, full_name=name, street_key=name,
        length_m=0, attrs={},
        geom=text(f"ST_SetSRID(ST_MakeLine(ST_MakePoint({lon1}, {lat1}), "
                  f"ST_MakePoint({lon2}, {lat2})), 4326)")))


@pytest.fixture
def app(hotspots_db_url):
    application = create_app({"TESTING": True, "DATABASE_URL": hotspots_db_url})
    yield application
    get_engine(application).dispose()


@pytest.fixture
def conn(app):
    with get_engine(app).connect() as connection:
        yield connection


def _params(app, **overrides):
    filters = overrides.pop("filters", RequestFilter())
    return params_from_config(app.config, filters, **overrides)


def test_known_cluster_is_found_with_its_count_and_place(app, conn):
    result = find_hotspots(conn, _params(app), now=_NOW)
    graffiti = [h for h in result.hotspots if h.service_code == "graffiti"]
    assert len(graffiti) == 1
    [hot] = graffiti
    assert (hot.count, hot.open_count) == (8, 7)
    assert math.isclose(hot.lon, _HOT[0], abs_tol=0.0002)
    assert math.isclose(hot.lat, _HOT[1], abs_tol=0.0002)
    assert hot.radius_m < 20 and hot.eps_m == 30.0  # graffiti's own distance from the settings
    assert hot.zone["type"] == "Polygon"


def test_persistence_counts_distinct_weeks_in_the_window(app, conn):
    [hot] = find_hotspots(conn, _params(app, filters=RequestFilter(service_codes=("graffiti",))),
                          now=_NOW).hotspots
    # Days ago 0,1 | 6 | 13,15 | 20 | 27 | 34 fall in 6 Monday-based weeks (the 28th is a Friday).
    assert (hot.weeks_active, hot.weeks_window) == (6, 8)
    [short] = find_hotspots(conn, _params(app, weeks=2,
                                          filters=RequestFilter(service_codes=("graffiti",))),
                            now=_NOW).hotspots
    # The window is whole weeks: this one and the one before (days 0, 1 and 6).
    assert short.weeks_active == 2 and short.count == 8


def test_per_type_distance_and_min_points_decide_membership(app, conn):
    only_graffiti = RequestFilter(service_codes=("graffiti",))
    assert find_hotspots(conn, _params(app, eps_m=3, filters=only_graffiti),
                         now=_NOW).hotspots == []
    assert find_hotspots(conn, _params(app, min_points=9, filters=only_graffiti),
                         now=_NOW).hotspots == []
    # A wide distance for every type sweeps nothing else in: the loners are kilometres away.
    [wide] = find_hotspots(conn, _params(app, eps_m=500, filters=only_graffiti),
                           now=_NOW).hotspots
    assert wide.count == 8


def test_counts_per_street_km_use_the_street_inside_the_zone(app, conn):
    result = find_hotspots(conn, _params(app), now=_NOW)
    hot = next(h for h in result.hotspots if h.service_code == "graffiti")
    # The zone is ~15 m of points grown by eps/2 = 15 m each side: roughly 30-60 m of street.
    assert hot.street_m is not None and 20 < hot.street_m < 80
    assert hot.per_street_km == pytest.approx(8 / (hot.street_m / 1000), rel=0.01)
    pothole = next(h for h in result.hotspots if h.service_code == "pothole")
    assert pothole.street_m is None and pothole.per_street_km is None


def test_gi_star_is_positive_on_the_cluster_and_negative_on_a_loner(app, conn):
    result = find_hotspots(conn, _params(app, min_z=-99, filters=RequestFilter(
        service_codes=("graffiti",))), now=_NOW)
    assert result.total == 8 + len(_LONERS)
    by_count = sorted(result.cells, key=lambda c: c.count)
    assert by_count[-1].count == 8 and by_count[-1].gi_z > 1.0
    loners = [c for c in result.cells if c.count == 1]
    assert len(loners) == len(_LONERS) and all(c.gi_z < 0 for c in loners)
    [hot] = result.hotspots
    assert hot.gi_z == by_count[-1].gi_z
    above = find_hotspots(conn, _params(app, min_z=1.0, filters=RequestFilter(
        service_codes=("graffiti",))), now=_NOW).cells
    assert [c.count for c in above] == [8]


def test_gi_star_formula_matches_a_hand_computation():
    # 4 cells x 25 = 100 cells; counts 20 in one cell, 5 ones elsewhere.
    n, total, sum_sq = 100, 25, 20 * 20 + 5
    mean = total / n
    s = math.sqrt(sum_sq / n - mean**2)
    expected = (20 - 9 * mean) / (s * math.sqrt((n * 9 - 81) / (n - 1)))
    assert gi_star(20, n, total, sum_sq) == pytest.approx(expected)
    assert gi_star(5, 1, 5, 25) == 0.0
    assert gi_star(5, 9, 5, 25) == 0.0  # one cell and its margin: a single neighbourhood


def test_filters_by_area_and_dates(app, conn):
    nothing = find_hotspots(conn, _params(app, filters=RequestFilter(area=("CD", "4"))), now=_NOW)
    assert nothing.hotspots == [] and nothing.total == 0
    recent = RequestFilter(service_codes=("graffiti",), start=_NOW - timedelta(days=10))
    assert find_hotspots(conn, _params(app, filters=recent), now=_NOW).hotspots == []
    in_cd = RequestFilter(area=("CD", "13"), service_codes=("graffiti",))
    assert [h.count for h in find_hotspots(conn, _params(app, filters=in_cd),
                                           now=_NOW).hotspots] == [8]


def test_api_returns_parameters_hotspots_and_cells(app):
    client = app.test_client()
    body = client.get("/api/v1/hotspots?service_code=graffiti&end=2024-06-28&weeks=4"
                      "&min_points=4&min_z=-99").get_json()
    assert body["parameters"]["weeks"] == 4 and body["parameters"]["min_points"] == 4
    [hot] = body["hotspots"]
    assert hot["count"] == 8 and hot["weeks_active"] == 4
    assert body["grid"]["cells"][0]["count"] == 8 and body["grid"]["requests"] == 12
    bad = client.get("/api/v1/hotspots?cell_m=1")
    assert bad.status_code == 400 and "cell_m" in bad.get_json()["error"]
    assert client.get("/api/v1/hotspots?eps_m=x").status_code == 400


def test_hotspot_tile_draws_the_cluster_zone(app):
    mvt = pytest.importorskip("mapbox_vector_tile")
    z = 16
    n = 2**z
    x = int((_HOT[0] + 180) / 360 * n)
    lat = math.radians(_HOT[1])
    y = int((1 - math.log(math.tan(lat) + 1 / math.cos(lat)) / math.pi) / 2 * n)
    response = app.test_client().get(f"/tiles/hotspots/{z}/{x}/{y}.mvt?service_code=graffiti")
    assert response.status_code == 200
    layer = mvt.decode(response.data)["hotspots"]
    [feature] = layer["features"]
    assert feature["properties"]["count"] == 8
    assert feature["properties"]["service_code"] == "graffiti"
    assert feature["geometry"]["type"] == "Polygon"


def test_hotspot_tile_takes_the_area_and_age_filters_of_the_request_tiles(app):
    """The dispatcher's district and age filters narrow the hotspot zones as they narrow the
    request markers: the cluster is in CD 13 and its requests are from 2024."""
    mvt = pytest.importorskip("mapbox_vector_tile")
    z, n = 16, 2**16
    x = int((_HOT[0] + 180) / 360 * n)
    lat = math.radians(_HOT[1])
    y = int((1 - math.log(math.tan(lat) + 1 / math.cos(lat)) / math.pi) / 2 * n)
    client = app.test_client()

    def zones(query: str) -> list:
        response = client.get(f"/tiles/hotspots/{z}/{x}/{y}.mvt?service_code=graffiti&{query}")
        assert response.status_code == 200
        return mvt.decode(response.data).get("hotspots", {}).get("features", [])

    assert [f["properties"]["count"] for f in zones("area_type=CD&area_code=13")] == [8]
    assert zones("area_type=CD&area_code=1") == []
    assert zones("max_age_days=30") == []
    assert len(zones("min_age_days=30")) == 1


def _counterclockwise(ring: list[list[float]]) -> bool:
    """Shoelace sum: positive for a counterclockwise ring (lon east, lat north)."""
    return sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in zip(ring, ring[1:], strict=False)) > 0


def test_api_zones_and_cells_follow_the_geojson_right_hand_rule(app):
    """RFC 7946 3.1.6: exterior rings counterclockwise (ST_MakeEnvelope and buffers of
    transformed hulls come out clockwise)."""
    body = app.test_client().get("/api/v1/hotspots?service_code=graffiti&end=2024-06-28&weeks=4"
                                 "&min_points=4&min_z=-99").get_json()
    polygons = [h["zone"] for h in body["hotspots"]] + [c["cell"] for c in body["grid"]["cells"]]
    assert polygons and all(p["type"] == "Polygon" for p in polygons)
    assert all(_counterclockwise(p["coordinates"][0]) for p in polygons)

"""Council-district pages and packs on hand-made districts and requests (a database of our own)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert, text

from geo311 import create_app
from geo311.auth import create_user, issue_token
from geo311.catalogue import sync_catalogue
from geo311.council_stats import district_as_of, district_ncs, district_stats, get_district
from geo311.db import get_engine, make_engine
from geo311.models import Facility, RequestStatusHistory, ServiceRequest
from geo311.pack import CHROMIUM
from geo311.schema import init_schema

_DB = "geo311_council"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
#: Inside the fixture's Council District 2 and NC 55 ("North NC").
_CD2 = (-118.25, 34.075)
_NOW = datetime(2024, 6, 28, 19, tzinfo=UTC)
_EXTERNAL = re.compile(r"""\b(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", re.IGNORECASE)
_SCRIPT_BODY = re.compile(r"(<script\b[^>]*>).*?(</script>)", re.IGNORECASE | re.DOTALL)


def external_refs(html: str) -> list[str]:
    """``src``/``href`` attributes pointing off the file, in the markup and the inlined CSS.

    Inlined script bodies are left out: Leaflet's source holds its attribution link as a string
    (``attributionControl`` is off in packs, so it is never shown), which loads nothing.
    """
    return _EXTERNAL.findall(_SCRIPT_BODY.sub(r"\1\2", html))


def _config(url: str) -> dict:
    return {"TESTING": True, "DATABASE_URL": url, "DATA_DIR": str(FIXTURES),
            "BOUNDARIES_DIR": str(FIXTURES / "boundaries")}


@pytest.fixture(scope="module")
def council_db_url(postgis_server) -> Iterator[str]:
    """Fixture districts (CD 1 south, CD 2 north with NC 55), the catalogue and requests in CD 2."""
    postgis_server.drop(_DB)
    postgis_server.create(_DB)
    url = postgis_server.url_for(_DB)
    engine = make_engine(url)
    init_schema(engine)
    app = create_app(_config(url))
    result = app.test_cli_runner().invoke(args=["load", "boundaries", "--commit"])
    assert result.exit_code == 0, result.output
    get_engine(app).dispose()
    with engine.begin() as conn:
        sync_catalogue(conn)
        # 6 open graffiti requests within ~10 m (a hotspot), 1..6 weeks old.
        for k in range(6):
            add_request(conn, lon=_CD2[0] + k * 0.00002, lat=_CD2[1], days_ago=7 * k + 1)
        # The oldest open request, with a contact and an internal note.
        oldest = add_request(conn, service_code="pothole", department="BSS", days_ago=100,
                             contact={"name": "Ana Resident", "phone": "213-555-0100"},
                             address="100 N TEST ST")
        conn.execute(insert(RequestStatusHistory).values(
            request_id=oldest, actor="crew", from_status="open", to_status="open",
            note="gate code 1234", public=False))
        # Closed potholes: 2, 4 and 9 days to close -> median 4.
        for days in (2, 4, 9):
            add_request(conn, service_code="pothole", department="BSS", days_ago=30,
                        closed_after_days=days)
        add_request(conn, lon=-118.25, lat=34.02, cd="1", nc=None, days_ago=3)
        conn.execute(insert(Facility).values(
            type="library", source="test", source_id="lib1", name="Test Branch Library",
            address="1 Library Way", attrs={},
            geom=text("ST_SetSRID(ST_MakePoint(-118.26, 34.07), 4326)")))
        for name, district in (("cd2", "2"), ("cd1", "1")):
            user = create_user(conn, name, "council", council_district=district)
            _TOKENS[name] = issue_token(conn, user)
    engine.dispose()
    yield url
    postgis_server.drop(_DB)


_TOKENS: dict[str, str] = {}


def add_request(conn, *, lon: float = _CD2[0], lat: float = _CD2[1],
                service_code: str = "graffiti", department: str = "OCB", days_ago: float = 0,
                cd: str = "2", nc: str | None = "55", contact: dict | None = None,
                address: str | None = None, closed_after_days: float | None = None) -> int:
    """Insert one request ``days_ago`` days before the tests' 'now' (closed after N days)."""
    at = _NOW - timedelta(days=days_ago)
    areas = [{"type": "CD", "code": cd, "name": f"Council District {cd}", "vintage": "new"}]
    if nc:
        areas.append({"type": "NC", "code": nc, "name": "North NC", "vintage": "test"})
    values = dict(service_code=service_code, department=department, status="open",
                  pin_lon=lon, pin_lat=lat, pin_source="gps", channel="api", contact=contact,
                  address=address, location=text(f"ST_SetSRID(ST_MakePoint({lon}, {lat}), 4326)"),
                  areas=areas, requested_at=at, updated_at=at)
    if closed_after_days is not None:
        closed = at + timedelta(days=closed_after_days)
        values.update(status="closed", close_reason="resolved", closed_at=closed, updated_at=closed)
    return conn.execute(insert(ServiceRequest).values(**values)
                        .returning(ServiceRequest.id)).scalar_one()


@pytest.fixture
def app(council_db_url):
    application = create_app(_config(council_db_url))
    yield application
    get_engine(application).dispose()


@pytest.fixture
def client(app):
    return app.test_client()


def test_district_stats_count_by_type_age_week_nc_and_close_time(app):
    with get_engine(app).connect() as conn:
        district = get_district(conn, "2")
        as_of = district_as_of(conn, "2", now=_NOW + timedelta(days=400))
        stats = district_stats(conn, district, as_of=as_of, staff=False)
        ncs = district_ncs(conn, district)
    # As of the end of the newest request's LA day (data stop on the 27th, LA time).
    assert as_of.isoformat().startswith("2024-06-28T00:00:00-07")
    by_type = {t.service_code: t for t in stats.open_by_type}
    assert by_type["graffiti"].open == 6 and by_type["pothole"].open == 1
    assert (by_type["graffiti"].age_0_7, by_type["graffiti"].age_7_30,
            by_type["graffiti"].age_30_90) == (1, 4, 1)
    assert by_type["pothole"].age_90_plus == 1
    [overall, pothole] = stats.close_times
    assert overall.service_code is None and pothole.service_code == "pothole"
    assert pothole.closed == 3 and pothole.median_days == 4.0
    assert [(n.code, n.name) for n in stats.by_nc] == [("55", "North NC")]
    assert stats.oldest_open[0].service_code == "pothole" and stats.oldest_open[0].contact is None
    graffiti_row = next(r for r in stats.weekly_table() if r[0] == "graffiti")
    assert graffiti_row[2] == 6 and len(graffiti_row[1]) == 12
    assert [nc["properties"]["code"] for nc in ncs] == ["55"]
    ring = ncs[0]["geometry"]["coordinates"][0]
    if ncs[0]["geometry"]["type"] == "MultiPolygon":
        ring = ring[0]
    # RFC 7946 right-hand rule: the exterior ring runs counterclockwise (positive shoelace sum).
    assert sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in zip(ring, ring[1:], strict=False)) > 0


def test_public_page_shows_open_data_only(client):
    response = client.get("/council/2")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Council District 2" in html and "Oldest open requests" in html
    assert "100 N TEST ST" in html and "North NC" in html
    assert "Ana Resident" not in html and "gate code" not in html
    assert 'href="/council/2/pack.html"' in html
    assert "recurring in" in html  # the graffiti hotspot is listed
    assert "Authorization" in response.headers.get("Vary", "")


def test_council_user_of_the_district_sees_contact_and_internal_note(client):
    mine = client.get("/council/2", headers={"Authorization": f"Bearer {_TOKENS['cd2']}"})
    html = mine.get_data(as_text=True)
    assert "Ana Resident" in html and "gate code 1234" in html
    assert "private" in mine.headers["Cache-Control"]
    other = client.get("/council/2", headers={"Authorization": f"Bearer {_TOKENS['cd1']}"})
    assert "Ana Resident" not in other.get_data(as_text=True)


def test_unknown_district_is_a_404_page(client):
    for path in ("/council/99", "/council/abc", "/council/99/pack.html"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert response.mimetype == "text/html"
        assert "No such council district" in response.get_data(as_text=True)


def test_spanish_page_and_language_switch(client):
    html = client.get("/council/2?lang=es").get_data(as_text=True)
    assert "Distrito del Concejo 2" in html
    assert 'href="/council/2?lang=en"' in html


def _section(html: str, heading_id: str) -> str:
    """The words of the page's ``<section aria-labelledby=heading_id>``, tags dropped."""
    start = html.index(f'<section aria-labelledby="{heading_id}">')
    return re.sub(r"<[^>]+>", " ", html[start:html.index("</section>", start)])


@pytest.mark.parametrize("lang, graffiti, pothole", [
    ("en", "Graffiti Removal", "Pothole Repair"),
    ("es", "Eliminación de grafiti", "Reparación de baches"),
])
def test_weekly_close_time_and_hotspot_tables_name_types_in_the_page_language(
        client, lang, graffiti, pothole):
    """The three tables showed service codes (graffiti, pothole) instead of the type names."""
    html = client.get(f"/council/2?lang={lang}").get_data(as_text=True)
    weekly, close = _section(html, "trend-heading"), _section(html, "close-heading")
    hotspots = _section(html, "hotspot-heading")
    assert graffiti in weekly and graffiti in hotspots and pothole in close
    for words in (weekly, close, hotspots):
        assert not re.search(r"\b(graffiti|pothole)\b", words), words


def test_pack_download_is_one_offline_html_file(client):
    response = client.get("/council/2/pack.html")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    html = response.get_data(as_text=True)
    assert external_refs(html) == []
    assert "<script src" not in html and "<link rel=\"stylesheet\" href" not in html
    assert "Council District 2" in html and "Test Branch Library" in html
    hotspots = html[html.index("<h2>Hotspots</h2>"):html.index("<h2>Oldest open requests</h2>")]
    assert "Graffiti Removal" in hotspots and "<td>graffiti</td>" not in hotspots


def test_pack_command_writes_html_png_and_pdf_per_district_and_nc(app, tmp_path):
    result = app.test_cli_runner().invoke(args=["pack", "--district", "2", "--nc", "55",
                                                "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    for stem in ("council-district-2", "council-district-2-nc-55"):
        html = (tmp_path / f"{stem}.html").read_text(encoding="utf-8")
        assert external_refs(html) == []
        if not CHROMIUM.exists():
            assert "skipped" in result.output
            continue
        png, pdf = (tmp_path / f"{stem}.png").read_bytes(), (tmp_path / f"{stem}.pdf").read_bytes()
        assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 20_000
        assert pdf.startswith(b"%PDF-") and len(pdf) > 5_000
    assert "North NC" in (tmp_path / "council-district-2-nc-55.html").read_text(encoding="utf-8")


def test_pack_command_refuses_an_unknown_district(app, tmp_path):
    result = app.test_cli_runner().invoke(args=["pack", "--district", "99", "--out",
                                                str(tmp_path), "--no-render"])
    assert result.exit_code != 0 and "no CD area" in result.output

"""The dispatcher page follows the event feed: a request created and then closed through the API
shows up in (and then leaves) the request tiles, the markers and the count, with no reload."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("request_catalogue")]

#: On Lankershim Blvd, North Hollywood: inside the City and away from the other browser and tile
#: tests' pins (Koreatown), so their counts and tiles are not touched.
NOHO_PIN = (-118.3790, 34.1680)
ZOOM = 17
#: The request tile holding the pin at that zoom (XYZ).
PIN_TILE = f"/tiles/requests/{ZOOM}/22435/52285.mvt"
#: Whether the map shows a marker within a metre of ``[lat, lon]``.
MARKER_AT_JS = """([lat, lon]) => {
  let found = false;
  geo311Map.eachLayer((l) => {
    if (l instanceof L.Marker && l.getLatLng().distanceTo([lat, lon]) < 1) { found = true; }
  });
  return found;
}"""


@pytest.fixture(scope="module")
def staff_token(la_db_url: str, dispatcher_account: tuple[str, str]) -> str:
    """A bearer token of the dispatcher account (the status change goes through the API)."""
    from sqlalchemy import create_engine, select

    from geo311.auth import issue_token
    from geo311.models import StaffUser

    engine = create_engine(la_db_url)
    try:
        with engine.begin() as conn:
            user_id = conn.execute(select(StaffUser.id).where(
                StaffUser.name == dispatcher_account[0])).scalar_one()
            return issue_token(conn, user_id)
    finally:
        engine.dispose()


def _post(url: str, body: dict, headers: dict | None = None) -> tuple[int, str, dict]:
    """POST JSON from outside the page (another client: no session cookie), as a resident's
    phone or a crew's tablet would; returns (status, ETag, body)."""
    sent = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                  headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(sent, timeout=30) as response:
            return response.status, response.headers.get("ETag", ""), json.load(response)
    except urllib.error.HTTPError as exc:
        return exc.code, "", json.load(exc)


def _tile_ids(url: str, etag: str) -> set[int]:
    """Request ids in the tile the page was just served (``etag``, from its response headers),
    fetched again here: Playwright does not keep the bytes of responses read by ``fetch``."""
    mvt = pytest.importorskip("mapbox_vector_tile")
    with urllib.request.urlopen(url, timeout=30) as response:
        assert response.headers["ETag"] == etag, "the tile changed after the page read it"
        body = response.read()
    layer = mvt.decode(body).get("requests", {}) if body else {}
    return {f["properties"]["id"] for f in layer.get("features", [])}


def _count(page) -> int:
    """The number of open requests the list under the map says are in view."""
    text = page.locator("#count").inner_text()
    assert "in view" in text, text
    return int(text.split()[0])


def _marker_at(page, lon: float, lat: float) -> bool:
    return page.evaluate(MARKER_AT_JS, [lat, lon])


def test_dispatch_page_redraws_on_live_events_without_reloading(page, sign_in, watch,
                                                               live_server, staff_token,
                                                               artifacts):
    sign_in(page, "/dispatch")
    page.wait_for_function("document.querySelectorAll('#map .leaflet-tile-loaded').length > 0")
    lon, lat = NOHO_PIN
    # A marker on the window: a reload (or any navigation) would drop it.
    with page.expect_response(lambda r: PIN_TILE in r.url) as first:
        page.evaluate("([lat, lon, z]) => { window.sameDocument = true;"
                      " geo311Map.setView([lat, lon], z); }", [lat, lon, ZOOM])
    page.wait_for_load_state("networkidle")
    before = first.value.headers["etag"]
    assert not _marker_at(page, lon, lat)
    in_view = _count(page)
    with page.expect_response(lambda r: "/api/v1/events" in r.url):
        page.locator("#f-live").check()
    page.wait_for_function("document.querySelector('#live-status').textContent.includes('Live')")
    # The stream takes its starting position just after sending its first frame.
    page.wait_for_timeout(1500)

    with page.expect_response(lambda r: PIN_TILE in r.url, timeout=15_000) \
            as tile:
        status, etag, body = _post(f"{live_server}/api/v1/requests", {
            "service_code": "graffiti", "lon": lon, "lat": lat,
            "attributes": {"surface": "wall", "is_offensive": "no"}})
        assert status == 201, body
        request_id = body["id"]
        page.wait_for_function("document.querySelector('#live-status').textContent.includes('1')")
    page.wait_for_load_state("networkidle")
    assert tile.value.status == 200 and tile.value.headers["etag"] != before
    assert request_id in _tile_ids(tile.value.url, tile.value.headers["etag"]), \
        "the redrawn tile carries the new request"
    page.wait_for_function(f"({MARKER_AT_JS})({[lat, lon]})")
    assert _count(page) == in_view + 1
    page.screenshot(path=str(artifacts / "dispatch-live.png"), full_page=True)

    # A staff status change: the page (filtered to open requests) drops the closed request.
    with page.expect_response(lambda r: PIN_TILE in r.url, timeout=15_000) \
            as tile:
        status, _, body = _post(f"{live_server}/api/v1/requests/{request_id}/updates",
                                {"status": "closed", "reason": "resolved"},
                                {"Authorization": f"Bearer {staff_token}", "If-Match": etag})
        assert status == 200, body
    page.wait_for_load_state("networkidle")
    assert request_id not in _tile_ids(tile.value.url, tile.value.headers["etag"])
    page.wait_for_function(f"!({MARKER_AT_JS})({[lat, lon]})")
    assert _count(page) == in_view
    assert "2" in page.locator("#live-status").inner_text()
    assert page.evaluate("window.sameDocument === true"), "the page did not reload"
    assert watch.external_requests == [] and watch.console_errors == []

"""The dispatcher page in headless Chromium: tiles render offline, filters and heatmap work, axe."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser


def test_dispatch_page_is_for_staff_only(page, live_server):
    page.goto(live_server + "/dispatch")
    assert "/login" in page.url
    assert page.get_by_label("Password").is_visible()

AXE = Path(__file__).resolve().parents[2] / "web" / "static" / "vendor" / "axe-core" / "axe.min.js"


def test_dispatch_page_renders_tiles_filters_and_heatmap(page, sign_in, watch, live_server,
                                                         artifacts):
    sign_in(page, "/dispatch")
    page.wait_for_function("document.querySelectorAll('#map .leaflet-tile-loaded').length > 0")
    page.wait_for_function("document.querySelector('#count').textContent.length > 0")
    assert "in view" in page.locator("#count").inner_text()
    page.locator("#f-status").select_option("closed")
    with page.expect_request(lambda r: "/tiles/requests/" in r.url and "status=closed" in r.url):
        page.get_by_role("button", name="Apply filters").click()
    page.locator("#f-heat").check()
    page.wait_for_function("document.querySelector('#map canvas.leaflet-heatmap-layer') !== null")
    page.get_by_label("Neighborhood councils").check()
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(artifacts / "dispatch.png"), full_page=True)
    assert watch.external_requests == [] and watch.console_errors == []

    page.add_script_tag(path=str(AXE))
    violations = page.evaluate("async () => (await axe.run(document)).violations")
    serious = [f"{v['id']}: {v['help']}" for v in violations
               if v["impact"] in ("serious", "critical")]
    assert serious == []


def test_dispatch_hotspots_age_and_district_filters_and_live_toggle(page, sign_in, watch,
                                                                     live_server, artifacts):
    sign_in(page, "/dispatch")
    page.wait_for_function("document.querySelectorAll('#hotspot-list li').length > 0")
    page.locator("#f-cd").select_option("10")
    page.locator("#f-age").select_option("30")
    with page.expect_request(lambda r: "/api/v1/hotspots" in r.url and "area_code=10" in r.url):
        page.get_by_role("button", name="Apply filters").click()
    page.locator("#f-live").check()
    page.wait_for_function("document.querySelector('#live-status').textContent.includes('Live')")
    page.screenshot(path=str(artifacts / "dispatch-filters.png"), full_page=True)
    page.locator("#f-live").uncheck()
    assert watch.external_requests == [] and watch.console_errors == []
    page.add_script_tag(path=str(AXE))
    violations = page.evaluate("async () => (await axe.run(document)).violations")
    assert [v["id"] for v in violations if v["impact"] in ("serious", "critical")] == []


#: San Pedro (CD 15): away from the other browser tests' pins (Koreatown, North Hollywood).
SAN_PEDRO = (-118.2923, 33.7361)


def _post_encampment(live_server: str, k: int) -> None:
    """A homeless encampment report a few metres east of the last, from another client."""
    body = {"service_code": "homeless_encampment", "lon": SAN_PEDRO[0] + k * 0.00008,
            "lat": SAN_PEDRO[1]}
    sent = urllib.request.Request(f"{live_server}/api/v1/requests", method="POST",
                                  data=json.dumps(body).encode(),
                                  headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(sent, timeout=30) as response:
        assert response.status == 201


@pytest.mark.usefixtures("request_catalogue")
def test_dispatch_hotspot_list_names_types_and_live_counter_agrees_in_number(page, sign_in,
                                                                             watch, live_server):
    """The hotspot list said ``homeless_encampment`` and the live counter "1 updates"."""
    sign_in(page, "/dispatch")
    page.locator("#f-service").fill("homeless_encampment")
    page.get_by_role("button", name="Apply filters").click()
    page.locator("#f-live").check()
    status = page.locator("#live-status")
    page.wait_for_function("document.querySelector('#live-status').textContent.includes('0')")
    # The stream takes its starting position just after sending its first frame.
    page.wait_for_timeout(1500)
    _post_encampment(live_server, 0)
    page.wait_for_function("document.querySelector('#live-status').textContent.includes('1')")
    assert status.inner_text() == "Live: 1 update received"
    for k in range(1, 5):  # five make a hotspot (HOTSPOT_MIN_POINTS)
        _post_encampment(live_server, k)
    page.wait_for_function("document.querySelector('#live-status').textContent.includes('5')")
    assert status.inner_text() == "Live: 5 updates received"
    page.locator("#f-live").uncheck()
    page.get_by_role("button", name="Apply filters").click()
    item = page.locator("#hotspot-list li", has_text="Homeless Encampment: 5 requests")
    item.first.wait_for()
    assert "homeless_encampment" not in page.locator("#hotspot-list").inner_text()

    page.goto(f"{live_server}/dispatch?lang=es")
    page.locator("#f-service").fill("homeless_encampment")
    page.locator("#filters button[type=submit]").click()
    page.locator("#hotspot-list li", has_text="Campamento de personas sin hogar: 5 solicitudes") \
        .first.wait_for()
    page.locator("#f-live").check()
    page.wait_for_function("document.querySelector('#live-status').textContent.includes('0')")
    page.wait_for_timeout(1500)
    _post_encampment(live_server, 5)
    page.wait_for_function("document.querySelector('#live-status').textContent.includes('1')")
    assert status.inner_text() == "En vivo: 1 actualización recibida"
    page.locator("#f-live").uncheck()
    assert watch.external_requests == [] and watch.console_errors == []

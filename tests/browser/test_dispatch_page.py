"""The dispatcher page in headless Chromium: tiles render offline, filters and heatmap work, axe."""

from __future__ import annotations

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

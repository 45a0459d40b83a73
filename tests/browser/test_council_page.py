"""The council-district page and its pack download in headless Chromium: map, axe, offline."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

AXE = Path(__file__).resolve().parents[2] / "web" / "static" / "vendor" / "axe-core" / "axe.min.js"


def _serious_axe_violations(page) -> list[str]:
    page.add_script_tag(path=str(AXE))
    violations = page.evaluate("async () => (await axe.run(document)).violations")
    return [f"{v['id']}: {v['help']}" for v in violations if v["impact"] in ("serious", "critical")]


def test_council_page_draws_the_district_and_passes_axe(page, watch, live_server, artifacts):
    page.goto(live_server + "/council/10")
    assert page.get_by_role("heading", level=1).inner_text() == "Council District 10"
    page.wait_for_function("document.querySelectorAll('#map .leaflet-tile-loaded').length > 0")
    # The boundary from /api/v1/boundaries/CD/10 is drawn and the map fitted to it.
    page.wait_for_function("document.querySelectorAll('#map path.leaflet-interactive').length > 0")
    assert page.get_by_role("link", name=re.compile("Download the district pack")).is_visible()
    page.screenshot(path=str(artifacts / "council.png"), full_page=True)
    assert watch.external_requests == [] and watch.console_errors == []
    assert _serious_axe_violations(page) == []


def test_council_page_in_spanish_and_unknown_district(page, live_server, artifacts):
    page.goto(live_server + "/council/10?lang=es")
    assert page.get_by_role("heading", level=1).inner_text() == "Distrito del Concejo 10"
    response = page.goto(live_server + "/council/42")
    assert response.status == 404
    assert "No such council district" in page.content()
    assert _serious_axe_violations(page) == []


def test_pack_download_opens_offline(page, browser_context, watch, live_server, artifacts):
    page.goto(live_server + "/council/10")
    with page.expect_download() as info:
        page.get_by_role("link", name=re.compile("Download the district pack")).click()
    download = info.value
    assert download.suggested_filename == "council-district-10.html"
    saved = artifacts / "council-district-10.html"
    download.save_as(str(saved))
    pack = browser_context.new_page()
    pack.on("pageerror", lambda exc: watch.console_errors.append(str(exc)))
    # Loaded as content of about:blank: any fetch it made would leave 127.0.0.1 and be recorded.
    pack.set_content(saved.read_text(encoding="utf-8"))
    # Packs draw on a canvas (prefer_canvas): wait for it and the cluster icons.
    pack.wait_for_function("document.querySelector('.leaflet-container canvas') !== null")
    pack.screenshot(path=str(artifacts / "council-pack.png"), full_page=True)
    pack.close()
    assert watch.external_requests == []
    assert watch.console_errors == []


@pytest.mark.usefixtures("request_catalogue")
def test_council_page_on_a_phone_scrolls_tables_not_the_page(page, live_server):
    """At 375 px the wide tables scroll inside their own box; the page itself never scrolls
    sideways. The oldest-open table says the status in the reader's language."""
    created = page.request.post(f"{live_server}/api/v1/requests", data={
        "service_code": "bulky_items", "lon": -118.2925, "lat": 34.0672,
        "attributes": {"items": ["sofa"], "item_count": 1}})
    assert created.status == 201, created.text()
    page.set_viewport_size({"width": 375, "height": 740})
    page.goto(live_server + "/council/10?lang=es")
    assert page.locator("#oldest").count() == 1
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), \
        page.evaluate("document.documentElement.scrollWidth")
    statuses = page.locator("#oldest tbody td:nth-child(5)").all_inner_texts()
    assert statuses and "open" not in statuses and "abierta" in statuses

"""The resident report flow in headless Chromium: pin, type chosen by a word (Spanish "bache",
English "bulky"), its questions, nearby open requests of that type with "follow", submit, and
the tracking page with status "open"; axe-core on the tracking page."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("request_catalogue")]

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "web" / "static" / "vendor" / "axe-core" / "axe.min.js"
#: In front of 420 S New Hampshire Ave, Koreatown (on the street, inside Council District 10).
KOREATOWN_PIN = (-118.2925, 34.0670)
#: A block away, on S Berendo St (for the English run, so the two runs' requests stay apart).
BERENDO_PIN = (-118.2940, 34.0690)
TRACK_URL = re.compile(r".*/requests/(\d+)\?lang=(en|es)$")


def _click_map_at(page, lon: float, lat: float) -> None:
    box = page.locator("#map").bounding_box()
    point = page.evaluate("([lat, lon]) => geo311Map.latLngToContainerPoint([lat, lon])",
                          [lat, lon])
    page.mouse.click(box["x"] + point["x"], box["y"] + point["y"])


def _drop_pin(page, live_server: str, lang: str, lon: float, lat: float) -> None:
    page.goto(f"{live_server}/?lang={lang}")
    page.wait_for_function("document.querySelectorAll('#map .leaflet-tile-loaded').length > 0")
    _click_map_at(page, lon, lat)
    page.wait_for_function("""() => {
        const body = document.querySelector('#answer-body');
        return !body.hasAttribute('aria-busy') && body.querySelector('.score');
    }""")
    page.locator("#report").wait_for(state="visible")


def _serious_axe_violations(page) -> list[str]:
    page.add_script_tag(path=str(AXE))
    violations = page.evaluate("async () => (await axe.run(document)).violations")
    return [f"{v['id']} ({v['impact']}): {v['help']} x{len(v['nodes'])}"
            for v in violations if v["impact"] in ("serious", "critical")]


def _existing_pothole(page, live_server: str) -> int:
    """An open pothole 8 m from the pin, reported through the API (a known duplicate)."""
    response = page.request.post(f"{live_server}/api/v1/requests", data={
        "service_code": "pothole", "lon": KOREATOWN_PIN[0], "lat": KOREATOWN_PIN[1] + 0.00007,
        "attributes": {"size": "large"}, "contact": {"email": "earlier@example.org"}})
    assert response.status == 201, response.text()
    return response.json()["id"]


def test_spanish_report_sees_duplicates_follows_then_submits(page, watch, live_server,
                                                             artifacts):
    earlier = _existing_pothole(page, live_server)
    _drop_pin(page, live_server, "es", *KOREATOWN_PIN)
    page.get_by_label("¿Cuál es el problema? Escriba una palabra").fill("bache")
    pothole = page.get_by_label("Reparación de baches")
    pothole.check()
    # its questions, in Spanish, answered with the first choice of each list
    page.locator("#attribute-fields select").first.wait_for()
    for select in page.locator("#attribute-fields select").all():
        select.select_option(index=1)
    page.get_by_label("Algo más que el equipo deba saber (opcional)").fill("Bache profundo")
    # the earlier pothole is listed nearby, nearest first, with a follow button
    follow = page.locator(f"button.follow[data-request-id='{earlier}']")
    follow.wait_for()
    assert "Solicitud n.º" in page.locator("#duplicates-body li").first.inner_text()
    assert "earlier@example.org" not in page.content()
    follow.click()
    page.locator("#report-status a").wait_for()
    assert f"Usted sigue la solicitud n.º {earlier}" in page.locator("#report-status").inner_text()
    page.screenshot(path=str(artifacts / "report-flow-es.png"), full_page=True)
    # ... and files a new one anyway
    page.get_by_role("button", name="Enviar solicitud").click()
    page.wait_for_url(TRACK_URL)
    assert page.locator("#track-status").get_attribute("data-status") == "open"
    assert "abierta" in page.locator("#track-status").inner_text()
    assert page.locator("#track-history tbody tr").count() >= 1
    assert page.locator("html").get_attribute("lang") == "es"
    page.screenshot(path=str(artifacts / "track-es.png"), full_page=True)
    follows = page.request.get(f"{live_server}/api/v1/requests/{earlier}/followers").json()
    assert follows["followers"] >= 1
    assert watch.console_errors == [] and watch.external_requests == []


def test_english_bulky_report_reaches_tracking_page_with_no_axe_violations(
        page, watch, live_server, artifacts):
    _drop_pin(page, live_server, "en", *BERENDO_PIN)
    search = page.get_by_label("What is the problem? Type a word")
    search.fill("bulky")
    page.wait_for_function("""() => {
        const labels = document.querySelectorAll('#type-list label');
        return labels.length > 0 && labels.length < 19
            && labels[0].textContent.includes('Bulky Item Pickup');
    }""")
    search.press("Enter")  # the best match is chosen
    page.locator("#attribute-fields input[type=checkbox]").first.check()
    for number in page.locator("#attribute-fields input[type=number]").all():
        number.fill("2")
    page.locator("#duplicates-body p").first.wait_for()
    page.get_by_role("button", name="Submit request").click()
    page.wait_for_url(TRACK_URL)
    request_id = TRACK_URL.match(page.url).group(1)
    assert page.locator("h1").inner_text() == f"Request #{request_id}"
    assert page.locator("#track-status").get_attribute("data-status") == "open"
    assert "open" in page.locator("#track-status").inner_text()
    assert "request received" in page.locator("#track-history").inner_text()
    page.screenshot(path=str(artifacts / "track-en.png"), full_page=True)
    assert _serious_axe_violations(page) == []
    assert watch.console_errors == [] and watch.external_requests == []


def test_report_form_has_no_serious_axe_violations(page, live_server):
    _drop_pin(page, live_server, "en", *KOREATOWN_PIN)
    page.get_by_label("What is the problem? Type a word").fill("graffiti")
    page.get_by_label("Graffiti removal", exact=False).first.check()
    page.locator("#duplicates-body p").first.wait_for()
    assert _serious_axe_violations(page) == []


def test_unanswered_required_question_is_named_in_the_readers_language(page, watch, live_server):
    """Submitting with a required question empty names that question (not the attribute code
    the API's 400 names), sends nothing, and focuses the question."""
    _drop_pin(page, live_server, "es", *BERENDO_PIN)
    search = page.get_by_label("¿Cuál es el problema? Escriba una palabra")
    search.fill("muebles")
    page.wait_for_function("""() => {
        const labels = document.querySelectorAll('#type-list label');
        return labels.length > 0 && labels.length < 19;
    }""")
    page.get_by_label("Recogida de artículos voluminosos").check()
    page.locator("#attribute-fields input[type=checkbox]").first.wait_for()
    posts: list[str] = []
    page.on("request", lambda r: r.method == "POST" and posts.append(r.url))
    page.get_by_role("button", name="Enviar solicitud").click()
    status = page.locator("#report-status")
    assert status.inner_text() == ("Primero responda esta pregunta: "
                                   "¿Qué tipo de artículos dejará para la recogida?")
    assert "error" in (status.get_attribute("class") or "")
    assert page.evaluate("document.activeElement.type") == "checkbox"
    page.locator("#attribute-fields input[type=checkbox]").first.check()
    page.get_by_role("button", name="Enviar solicitud").click()
    assert status.inner_text() == ("Primero responda esta pregunta: "
                                   "¿Cuántos artículos dejará para la recogida?")
    assert posts == [] and "attribute" not in status.inner_text()
    assert watch.console_errors == [] and watch.external_requests == []

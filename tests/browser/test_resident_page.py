"""The resident pages in headless Chromium: pin by click and drag, autocomplete, Spanish, the
text-only path by keyboard, axe-core, and nothing fetched from anywhere but our own server."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

AXE = Path(__file__).resolve().parents[2] / "web" / "static" / "vendor" / "axe-core" / "axe.min.js"
#: In front of 420 S New Hampshire Ave, Koreatown (on the street, inside Council District 10).
KOREATOWN_PIN = (-118.2925, 34.0670)
STREET_WORD = re.compile(r"\b(St|Ave|Blvd|Pl|Dr|Way)\b")


def _answer(page) -> str:
    return page.locator("#answer-body .answer-text").inner_text()


def _click_map_at(page, lon: float, lat: float) -> None:
    box = page.locator("#map").bounding_box()
    point = page.evaluate("([lat, lon]) => geo311Map.latLngToContainerPoint([lat, lon])",
                          [lat, lon])
    page.mouse.click(box["x"] + point["x"], box["y"] + point["y"])


def _wait_for_street_answer(page, previous: str | None = None) -> str:
    page.wait_for_function(
        """(previous) => {
            const body = document.querySelector('#answer-body');
            const text = body.querySelector('.answer-text');
            return text && !body.hasAttribute('aria-busy') && body.querySelector('.score')
                && text.textContent !== previous;
        }""", arg=previous)
    return _answer(page)


def _serious_axe_violations(page) -> list[str]:
    page.add_script_tag(path=str(AXE))
    violations = page.evaluate("async () => (await axe.run(document)).violations")
    return [f"{v['id']} ({v['impact']}): {v['help']} x{len(v['nodes'])}"
            for v in violations if v["impact"] in ("serious", "critical")]


def _wait_for_vector_tiles(page) -> None:
    page.wait_for_function("document.querySelectorAll('#map .leaflet-tile-loaded').length > 0")


def test_page_loads_offline_with_no_console_errors(page, watch, live_server, artifacts):
    page.goto(live_server + "/")
    _wait_for_vector_tiles(page)
    page.wait_for_load_state("networkidle")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("#map path").count() > 0, "no street or boundary drawn from /tiles"
    assert watch.external_requests == []
    assert watch.console_errors == []
    page.screenshot(path=str(artifacts / "resident-map.png"))


def test_click_then_drag_the_pin_updates_the_answer(page, watch, live_server, artifacts):
    page.goto(live_server + "/")
    _wait_for_vector_tiles(page)
    _click_map_at(page, *KOREATOWN_PIN)
    first = _wait_for_street_answer(page)
    assert STREET_WORD.search(first), first
    assert "Council District" in first
    assert re.search(r"\d+/100", page.locator("#answer-body .score").inner_text())

    icon = page.locator(".leaflet-marker-icon").bounding_box()
    x, y = icon["x"] + icon["width"] / 2, icon["y"] + icon["height"] - 4
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x - 60, y + 40, steps=8)  # towards the middle: no auto-pan at the edge
    page.mouse.move(x - 200, y + 120, steps=8)
    page.mouse.up()
    second = _wait_for_street_answer(page, previous=first)
    assert second != first and STREET_WORD.search(second), second
    page.screenshot(path=str(artifacts / "resident-pin-dragged.png"), full_page=True)
    assert watch.external_requests == [] and watch.console_errors == []


def test_search_autocomplete_lists_berendo_and_locates_it(page, watch, live_server):
    page.goto(live_server + "/")
    page.locator("#search").fill("berendo")
    options = page.locator("#suggestions [role=option]")
    options.first.wait_for()
    assert "BERENDO" in options.first.inner_text().upper()
    assert page.locator("#search").get_attribute("aria-expanded") == "true"
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    answer = _wait_for_street_answer(page)
    assert "Berendo" in answer
    assert page.locator(".leaflet-marker-icon").count() == 1
    assert watch.external_requests == [] and watch.console_errors == []


def test_other_matches_are_written_as_the_answer_writes_street_names(page, watch, live_server):
    """The answer said "On S Berendo St" and its other matches "N BERENDO ST"."""
    page.goto(live_server + "/")
    page.locator("#search").fill("Berendo")
    page.locator("#search").press("Enter")
    assert "S Berendo St" in _wait_for_street_answer(page)
    others = page.locator("#answer-body .ambiguities").inner_text()
    assert "N Berendo St" in others and "BERENDO" not in others
    assert watch.external_requests == [] and watch.console_errors == []


def test_use_my_location_places_the_pin(browser_context, page, live_server):
    browser_context.grant_permissions(["geolocation"])
    browser_context.set_geolocation({"longitude": KOREATOWN_PIN[0], "latitude": KOREATOWN_PIN[1],
                                     "accuracy": 15})
    page.goto(live_server + "/")
    page.get_by_role("button", name="Use my location").click()
    assert STREET_WORD.search(_wait_for_street_answer(page))


def test_spanish_strings_with_lang_es(page, watch, live_server, artifacts):
    page.goto(live_server + "/?lang=es")
    assert page.locator("html").get_attribute("lang") == "es"
    assert "¿dónde está?" in page.locator("h1").inner_text()
    assert page.get_by_role("button", name="Usar mi ubicación").is_visible()
    _wait_for_vector_tiles(page)
    _click_map_at(page, *KOREATOWN_PIN)
    answer = _wait_for_street_answer(page)
    assert "Distrito del Concejo" in answer, answer
    assert "Puntuación" in page.locator("#answer-body .score").inner_text()
    page.screenshot(path=str(artifacts / "resident-es.png"))
    assert watch.external_requests == [] and watch.console_errors == []


def test_text_only_path_by_keyboard_alone(page, watch, live_server, artifacts):
    page.goto(live_server + "/text")
    focused = []
    for _ in range(12):  # skip link, language link, map link, address, its button, street1
        page.keyboard.press("Tab")
        focused.append(page.evaluate("document.activeElement.id || document.activeElement.tagName"))
        if focused[-1] == "street1":
            break
    assert focused[3] == "address", focused
    assert page.evaluate("document.activeElement.id") == "street1"
    page.keyboard.type("3rd St")
    page.keyboard.press("Tab")
    page.keyboard.type("Berendo St")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    result = page.locator("#answer").inner_text()
    assert "3rd St" in result and "Council District" in result, result
    assert re.search(r"\d+/100", result)
    page.screenshot(path=str(artifacts / "text-only.png"), full_page=True)
    assert watch.external_requests == [] and watch.console_errors == []


@pytest.mark.parametrize("path", ["/", "/?lang=es", "/text?address=356+S+Berendo+St"])
def test_axe_finds_no_serious_violations(page, live_server, path):
    page.goto(live_server + path)
    if path.startswith("/?") or path == "/":
        _wait_for_vector_tiles(page)
    assert _serious_axe_violations(page) == []


@pytest.mark.parametrize("path", ["/", "/?lang=es", "/text?address=356+S+Berendo+St&lang=es"])
def test_phone_width_page_has_no_sideways_scroll_and_header_words_apart(page, live_server, path):
    """At 375 px the site name and the language links do not run together ("LA 311 location
    finderEnglish") and nothing makes the page scroll sideways."""
    page.set_viewport_size({"width": 375, "height": 740})
    page.goto(live_server + path)
    gap = page.evaluate("""() => {
        const name = document.querySelector('.site-name').getBoundingClientRect();
        const links = document.querySelector('.lang-switch').getBoundingClientRect();
        return Math.max(links.left - name.right, links.top - name.bottom);
    }""")
    assert gap >= 8, f"site name and language links {gap:.0f} px apart"
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_gps_fix_in_the_ocean_says_where_it_fell_not_to_check_the_spelling(
        page, browser_context, watch, live_server):
    """A pin with no answer (Santa Monica Bay) was told "Check the spelling, or try an
    intersection", though nothing was typed."""
    browser_context.grant_permissions(["geolocation"])
    browser_context.set_geolocation({"latitude": 33.9, "longitude": -118.7, "accuracy": 10})
    page.goto(live_server + "/")
    page.get_by_role("button", name="Use my location").click()
    page.wait_for_function("""() => {
        const text = document.querySelector('#answer-body p');
        return text && /outside the City of Los Angeles/.test(text.textContent);
    }""")
    assert "spelling" not in page.locator("#answer-body").inner_text()
    assert page.locator("#report").is_hidden()
    assert watch.console_errors == [] and watch.external_requests == []

"""HTTP: /api/v1/locate, /api/v1/locate/batch, /api/v1/autocomplete; the geopy geocoder; geocode CSV."""

from __future__ import annotations

import csv
import threading

import pytest
from werkzeug.serving import make_server

BERENDO = (-118.294017712, 34.0676390557)  # 356 S Berendo St, the City's geocode


def test_reverse_answer_has_raw_pin_snapped_segment_and_districts(la_client):
    answer = la_client.get(f"/api/v1/locate?lon={BERENDO[0]}&lat={BERENDO[1]}&date=2018-01-01").get_json()
    assert answer["pin"] == {"lon": BERENDO[0], "lat": BERENDO[1], "accuracy_m": None}
    assert answer["segment"]["street"] == "S BERENDO ST"
    assert {answer["segment"]["from_street"], answer["segment"]["to_street"]} == {"W 3RD ST", "W 4TH ST"}
    assert answer["segment"]["side_compass"] == "east"
    areas = {a["type"]: a for a in answer["areas"]}
    assert areas["CD"]["code"] == "10" and areas["CD"]["vintage"] == "2012"
    assert areas["NC"]["code"] == "55"
    assert answer["jurisdiction"]["inside_city"] is True
    assert "Berendo" in answer["description"] and "Council District 10" in answer["description"]


def test_locate_reads_in_autocommit_and_hands_back_a_transactional_connection(la_app):
    from geo311.db import get_engine

    client = la_app.test_client()
    for path in (f"/api/v1/locate?lon={BERENDO[0]}&lat={BERENDO[1]}",
                 "/api/v1/locate?q=3033 W 6th St", "/api/v1/autocomplete?q=bere"):
        assert client.get(path).status_code == 200
    with la_app.app_context():
        engine = get_engine()
        assert engine.pool.checkedout() == 0
        with engine.connect() as conn:  # the pooled connection the requests used
            driver = conn.connection.driver_connection
            assert driver.autocommit is False  # writes elsewhere still run in a transaction


@pytest.fixture(scope="module")
def catalogue(la_engine):
    """The service catalogue in the real-LA database (idempotent sync, as the first run does)."""
    from geo311.catalogue import sync_catalogue

    with la_engine.begin() as conn:
        sync_catalogue(conn)


def test_forward_address_and_service_code_add_the_department(la_client, catalogue):
    response = la_client.get("/api/v1/locate?q=356 S Berendo St, 90020&service_code=bulky_items")
    answer = response.get_json()
    assert response.status_code == 200, answer
    assert answer["precision"] in ("address_point", "interpolated_range", "interpolated_points")
    assert answer["score"] >= 50
    assert abs(answer["location"]["lon"] - BERENDO[0]) < 0.0006
    assert abs(answer["location"]["lat"] - BERENDO[1]) < 0.0006
    assert answer["department"]["code"] == "LASAN"


def test_spanish_description(la_client):
    answer = la_client.get(f"/api/v1/locate?lon={BERENDO[0]}&lat={BERENDO[1]}&lang=es").get_json()
    assert "Distrito del Concejo" in answer["description"]


def test_outside_the_city_names_who_is_responsible(la_client):
    answer = la_client.get("/api/v1/locate?lon=-118.4912&lat=34.0195").get_json()  # Santa Monica
    assert answer["jurisdiction"]["inside_city"] is False
    assert answer["jurisdiction"]["name"] == "Santa Monica"
    assert "outside_city" in answer["reasons"]


def test_pin_in_the_ocean_is_an_honest_no_match(la_client):
    answer = la_client.get("/api/v1/locate?lon=-118.7&lat=33.7").get_json()
    assert answer["score"] == 0 and answer["location"] is None and answer["pin"]["lon"] == -118.7


@pytest.mark.parametrize(
    ("query", "parameter"),
    [("q=", "q"), ("q=" + "x" * 2000, "q"), ("lon=nan&lat=34", "lon"), ("lon=-118&lat=95", "lat"),
     ("lon=-118.3", "lat"), ("", "q"), ("q=main&lon=-118&lat=34", "q"),
     ("lon=-118.3&lat=34.06&accuracy_m=-5", "accuracy_m"), ("q=main&date=2018-02-31", "date")],
)
def test_bad_input_is_a_400_naming_the_parameter(la_client, query, parameter):
    response = la_client.get(f"/api/v1/locate?{query}")
    assert response.status_code == 400
    body = response.get_json()
    assert body["ok"] is False and f"'{parameter}'" in body["error"]


def test_batch_answers_each_query_and_reports_bad_ones_in_place(la_client):
    body = {"queries": [{"q": "356 S Berendo St"}, {"lon": BERENDO[0], "lat": BERENDO[1]},
                        {"lon": "x", "lat": 34}]}
    results = la_client.post("/api/v1/locate/batch", json=body).get_json()["results"]
    assert len(results) == 3
    assert results[0]["location"] is not None and results[1]["segment"] is not None
    assert results[2]["status"] == 400 and "queries[2]" in results[2]["error"]


def test_batch_refuses_more_than_1000_queries(la_client):
    response = la_client.post("/api/v1/locate/batch", json={"queries": [{"q": "a"}] * 1001})
    assert response.status_code == 400 and "1000" in response.get_json()["error"]


def test_autocomplete_streets_addresses_intersections_and_spanish_places(la_client):
    def texts(q):
        return [r["text"] for r in la_client.get(f"/api/v1/autocomplete?q={q}").get_json()["results"]]

    assert "BERENDO ST" in texts("bere")
    assert any("BERENDO" in t for t in texts("356 s bere"))
    assert any("&" in t for t in texts("wilshire %26 ver"))
    assert any("Library" in t or "Branch" in t or "LIBRARY" in t.upper() for t in texts("biblioteca"))
    assert len(texts("a")) == 0
    assert len(texts("s")) <= 10


@pytest.fixture
def live_url(la_app):
    server = make_server("127.0.0.1", 0, la_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def test_geopy_geocoder_returns_locations_with_the_full_answer(live_url):
    from geo311.geopy_geocoder import Geo311

    geocoder = Geo311(base_url=live_url, timeout=30)
    found = geocoder.geocode("356 S Berendo St, 90020")
    assert abs(found.longitude - BERENDO[0]) < 0.0006 and "areas" in found.raw
    reverse = geocoder.reverse((BERENDO[1], BERENDO[0]))
    assert "BERENDO" in reverse.address.upper()
    assert geocoder.geocode("zzzz qqqq xxxx") is None


def test_geocode_csv_adds_columns_and_keeps_bad_rows(la_app, tmp_path):
    source = tmp_path / "in.csv"
    source.write_text("id,address\n1,356 S Berendo St\n2,\n3,zzzz qqqq\n", encoding="utf-8")
    target = tmp_path / "out.csv"
    result = la_app.test_cli_runner().invoke(args=["geocode", str(source), str(target)])
    assert result.exit_code == 0, result.output
    with target.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["id"] for r in rows] == ["1", "2", "3"]
    assert rows[0]["geo311_cd"] == "13" or rows[0]["geo311_cd"] == "10"
    assert rows[1]["geo311_error"] and rows[2]["geo311_score"] == "0"


def test_outside_the_city_in_spanish_says_who_to_contact_in_spanish(la_client):
    answer = la_client.get("/api/v1/locate?lon=-118.4912&lat=34.0195&lang=es").get_json()
    assert answer["jurisdiction"]["message"].startswith("No es un lugar de la Ciudad de Los Ángeles")
    assert "Santa Monica" in answer["jurisdiction"]["contact"]
    assert answer["jurisdiction"]["responsible"] == "City of Santa Monica"  # names stay as data


def test_text_page_in_spanish_explains_reasons_in_spanish(la_client):
    html = la_client.get("/text?lang=es&address=356+Berendo+90020").get_data(as_text=True)
    assert "no se indicó el tipo de calle" in html  # street_suffix_missing, in words
    assert "street suffix missing" not in html


def test_other_matches_carry_a_label_cased_as_the_description_cases_names(la_client):
    """The other matches of "Berendo" showed as "N BERENDO ST" beside "On S Berendo St"."""
    answer = la_client.get("/api/v1/locate?q=Berendo").get_json()
    assert "S Berendo St" in answer["description"]
    others = {a["name"]: a["label"] for a in answer["ambiguities"] if a["kind"] == "text"}
    assert others.get("N BERENDO ST") == "N Berendo St", others
    answer = la_client.get("/api/v1/locate?q=3rd+St").get_json()
    labels = [a["label"] for a in answer["ambiguities"] if a["kind"] == "text"]
    assert labels and all("3rd St" in label for label in labels), labels  # ordinals kept
    html = la_client.get("/text?address=Berendo").get_data(as_text=True)
    assert "N Berendo St" in html and "N BERENDO ST" not in html


def test_empty_text_page_points_to_its_forms_not_to_a_map_it_has_not(la_client):
    """The text-only page said "Search, use your location, or click the map" before any
    answer, though it has neither a map nor a location button."""
    for lang, words in (("en", "Fill in one of the forms above"),
                        ("es", "Llene uno de los formularios de arriba")):
        html = la_client.get(f"/text?lang={lang}").get_data(as_text=True)
        assert words in html
        assert "click the map" not in html and "clic en el mapa" not in html


def test_a_word_that_is_a_streets_whole_name_means_the_street_before_longer_place_names(la_client):
    """"vermont" is Vermont Ave before Vermont Vista or Vermont Square; "koreatown", which names
    no street, is still a place."""
    answer = la_client.get("/api/v1/locate?q=vermont").get_json()
    assert answer["precision"] == "street" and "VERMONT AVE" in answer["address"]["street"]
    kinds = [c["precision"] for c in answer["candidates"]]
    assert "area_centroid" in kinds  # the neighbourhoods stay listed, after the streets
    assert kinds.index("area_centroid") > max(i for i, k in enumerate(kinds) if k == "street")
    place = la_client.get("/api/v1/locate?q=koreatown").get_json()  # no KOREATOWN street
    assert place["precision"] in ("area_centroid", "place")
    assert "Koreatown" in place["address"]["text"]

"""The geopy geocoder's requests to /api/v1/locate (the network is replaced by a recorder)."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

from geo311.geopy_geocoder import Geo311

ANSWER = {"location": {"lon": -118.29, "lat": 34.07}, "score": 5,
          "address": {"text": "356 S BERENDO ST"}, "candidates": []}


def recording_geocoder(answer: dict | None = None) -> tuple[Geo311, list[str]]:
    geocoder = Geo311(base_url="http://geo311.test/")
    urls: list[str] = []

    def call(url, callback, *, timeout):
        urls.append(url)
        return callback(answer if answer is not None else ANSWER)

    geocoder._call_geocoder = call  # type: ignore[method-assign]
    return geocoder, urls


def query_of(url: str) -> list[tuple[str, str]]:
    parts = urlsplit(url)
    assert parts.path == "/api/v1/locate"
    return parse_qsl(parts.query)


def test_geocode_sends_text_type_and_date():
    geocoder, urls = recording_geocoder()
    found = geocoder.geocode("356 S Berendo St", service_code="graffiti", date="2019-06-01")
    assert found.address == "356 S BERENDO ST" and found.point.latitude == 34.07
    assert query_of(urls[0]) == [("q", "356 S Berendo St"), ("service_code", "graffiti"),
                                 ("date", "2019-06-01")]


def test_reverse_sends_lon_lat_and_date_only_when_given():
    geocoder, urls = recording_geocoder()
    geocoder.reverse((34.07, -118.29), date="2019-06-01")
    geocoder.reverse((34.07, -118.29))
    assert query_of(urls[0]) == [("lon", "-118.29"), ("lat", "34.07"), ("date", "2019-06-01")]
    assert query_of(urls[1]) == [("lon", "-118.29"), ("lat", "34.07")]


def test_no_answer_asks_the_fallback_the_same_way():
    fallback, fallback_urls = recording_geocoder()
    geocoder, _ = recording_geocoder({"location": None})
    geocoder.fallback = fallback
    assert geocoder.reverse((34.07, -118.29)) is not None
    assert geocoder.geocode("nowhere") is not None
    assert [dict(query_of(u)) for u in fallback_urls] == [{"lon": "-118.29", "lat": "34.07"},
                                                         {"q": "nowhere"}]

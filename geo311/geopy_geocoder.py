"""A geopy geocoder for the geo311 API, so Python users call geo311 like any other geocoder.

>>> from geo311.geopy_geocoder import Geo311
>>> geocoder = Geo311(base_url="http://127.0.0.1:8311")   # doctest: +SKIP
>>> geocoder.geocode("356 S Berendo St").raw["areas"]       # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode, urlsplit

from geopy.geocoders.base import DEFAULT_SENTINEL, Geocoder
from geopy.location import Location
from geopy.point import Point

__all__ = ["Geo311"]


class Geo311(Geocoder):
    """Geocoder backed by ``/api/v1/locate``; ``Location.raw`` holds the full geo311 answer.

    :param base_url: where geo311 is served, e.g. ``http://127.0.0.1:8311``.
    :param min_score: answers scoring below this are treated as no match (default 1).
    :param fallback: an optional other geopy geocoder asked when geo311 has no answer
        (off by default; geo311 never needs it).
    :param kwargs: passed to :class:`geopy.geocoders.base.Geocoder` (timeout, adapter...).
    """

    def __init__(self, base_url: str = "http://127.0.0.1:8311", *, min_score: int = 1,
                 fallback: Geocoder | None = None, **kwargs: Any):
        parts = urlsplit(base_url)
        super().__init__(scheme=parts.scheme or "http", **kwargs)
        self.base_url = base_url.rstrip("/")
        self.min_score = min_score
        self.fallback = fallback

    def geocode(self, query: str, *, exactly_one: bool = True, timeout: Any = DEFAULT_SENTINEL,
                service_code: str | None = None, date: str | None = None):
        """Forward geocode text; returns a Location (or a list with the alternatives)."""
        params = {"q": query}
        if service_code:
            params["service_code"] = service_code
        found = self._locate(params, date, exactly_one, timeout)
        if found is None and self.fallback is not None:
            return self.fallback.geocode(query, exactly_one=exactly_one)
        return found

    def reverse(self, query: Any, *, exactly_one: bool = True, timeout: Any = DEFAULT_SENTINEL,
                date: str | None = None):
        """Reverse geocode a ``(lat, lon)`` pair, ``"lat, lon"`` string or geopy Point."""
        point = Point(query)
        params = {"lon": point.longitude, "lat": point.latitude}
        found = self._locate(params, date, exactly_one, timeout)
        if found is None and self.fallback is not None:
            return self.fallback.reverse(query, exactly_one=exactly_one)
        return found

    def _locate(self, params: dict[str, Any], date: str | None, exactly_one: bool, timeout: Any):
        """Ask ``/api/v1/locate`` (as of ``date`` when given); the Location(s) or None."""
        if date:
            params = {**params, "date": date}
        url = f"{self.base_url}/api/v1/locate?{urlencode(params)}"
        answer = self._call_geocoder(url, lambda data: data, timeout=timeout)
        return self._parse(answer, exactly_one)

    def _parse(self, answer: dict, exactly_one: bool):
        if not answer or answer.get("location") is None or answer.get("score", 0) < self.min_score:
            return None
        location = _location(answer)
        if exactly_one:
            return location
        others = [
            Location(c["address"]["text"] if c.get("address") else c.get("label", ""),
                     (c["location"]["lat"], c["location"]["lon"]), c)
            for c in answer.get("candidates", [])[1:]
        ]
        return [location, *others]


def _location(answer: dict) -> Location:
    address = (answer.get("address") or {}).get("text") or answer.get("description", "")
    point = answer["location"]
    return Location(address, (point["lat"], point["lon"]), answer)

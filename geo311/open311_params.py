"""GeoReport v2 parameters: W3C dates, comma lists, the GET requests filters and the POST form.

Everything here is pure (no Flask request, no database): handlers pass ``request.args`` or
``request.form`` in, and every problem is a :class:`~geo311.errors.BadRequest` naming the
parameter, which the error handler renders as ``[{"code": 400, "description": ...}]``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from werkzeug.datastructures import MultiDict

from geo311.errors import BadRequest
from geo311.geometry import parse_bbox, parse_coordinate
from geo311.open311_render import LOCAL_TZ

__all__ = [
    "PUBLIC_STATUSES",
    "DEFAULT_WINDOW",
    "DESCRIPTION_MAX_CHARS",
    "CONTACT_FIELDS",
    "RequestQuery",
    "Submission",
    "parse_w3_datetime",
    "parse_request_query",
    "parse_submission",
    "split_list",
]

PUBLIC_STATUSES = ("open", "closed")
#: Spec: "Default query limit is a span of 90 days or first 1000 requests returned".
DEFAULT_WINDOW = timedelta(days=90)
#: Spec: description is "free form text limited to 4,000 characters".
DESCRIPTION_MAX_CHARS = 4000
MAX_RADIUS_M = 50_000.0
#: Largest ``page``: its offset (page - 1) * page_size must stay inside PostgreSQL's bigint.
MAX_PAGE = 1_000_000
#: POST fields about the reporter: stored privately, never shown in any response.
CONTACT_FIELDS = ("email", "device_id", "account_id", "first_name", "last_name", "phone")
_CONTACT_MAX_CHARS = 200
_ATTRIBUTE_RE = re.compile(r"^attribute\[([^\[\]]+)\](\[\])?$")
# W3C NOTE-datetime: YYYY, YYYY-MM, YYYY-MM-DD, or a date with hh:mm[:ss[.s]] and a zone.
_W3_RE = re.compile(
    r"^(?P<date>\d{4}(?:-\d{2}(?:-\d{2})?)?)"
    r"(?:T(?P<time>\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)(?P<tz>Z|[+-]\d{2}:?\d{2})?)?$"
)


@dataclass(frozen=True)
class RequestQuery:
    """The filters of ``GET requests``: spec ones, then the common extensions."""

    ids: tuple[str, ...] = ()
    service_codes: tuple[str, ...] = ()
    start: datetime | None = None
    end: datetime | None = None
    statuses: tuple[str, ...] = ()
    updated_after: datetime | None = None
    bbox: tuple[float, float, float, float] | None = None
    near: tuple[float, float, float] | None = None  # lon, lat, radius_m
    agencies: tuple[str, ...] = ()
    page: int = 1
    page_size: int = 1000
    extensions: bool = False

    @property
    def offset(self) -> int:
        """Rows to skip for ``page``."""
        return (self.page - 1) * self.page_size


@dataclass(frozen=True)
class Submission:
    """A parsed POST: where, what, the attribute answers and the private contact fields."""

    service_code: str
    lon: float | None = None
    lat: float | None = None
    address_string: str | None = None
    address_id: str | None = None
    attributes: dict[str, str | list[str]] = field(default_factory=dict)
    description: str | None = None
    media_url: str | None = None
    contact: dict[str, str] = field(default_factory=dict)


def split_list(args: MultiDict[str, str], name: str) -> tuple[str, ...]:
    """A parameter that "can be declared multiple times, comma delimited".

    >>> from werkzeug.datastructures import MultiDict
    >>> split_list(MultiDict([("status", "open, closed"), ("status", "open")]), "status")
    ('open', 'closed')
    """
    seen: dict[str, None] = {}
    for raw in args.getlist(name):
        for part in raw.split(","):
            if part.strip():
                seen.setdefault(part.strip(), None)
    return tuple(seen)


def parse_w3_datetime(value: str | None, name: str) -> datetime | None:
    """Parse a W3C (ISO 8601 subset) date-time; empty means ``None``.

    The spec requires a zone (``Z`` or ``±hh:mm``). A date without a time, or a time without a
    zone, is read as Los Angeles local time rather than refused. A ``+`` that arrived as a space
    (an unencoded query string) is put back.

    >>> parse_w3_datetime("2010-01-01T00:00:00Z", "start_date").isoformat()
    '2010-01-01T00:00:00+00:00'
    >>> parse_w3_datetime("2018-01-01T00:00:09 08:00", "d").isoformat()
    '2018-01-01T00:00:09+08:00'
    >>> parse_w3_datetime("2018-01-02", "d").isoformat()
    '2018-01-02T00:00:00-08:00'

    :raises BadRequest: naming the parameter.
    """
    if value is None or not value.strip():
        return None
    text = value.strip()
    text = re.sub(r" (\d{2}:?\d{2})$", r"+\1", text)
    match = _W3_RE.match(text)
    if match is None:
        raise BadRequest(
            f"parameter '{name}' must be a W3C date-time such as 2010-01-01T00:00:00Z or "
            f"2010-01-01T00:00:00-08:00, got {value[:40]!r}"
        )
    date_part = match["date"] + "-01" * (2 - match["date"].count("-"))
    iso = date_part + "T" + (match["time"] or "00:00")
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        raise BadRequest(f"parameter '{name}' is not a real date: {value[:40]!r}") from None
    zone = match["tz"]
    if zone is None:
        return moment.replace(tzinfo=LOCAL_TZ)
    if zone != "Z" and ":" not in zone:
        zone = zone[:3] + ":" + zone[3:]
    try:
        return datetime.fromisoformat(iso + ("+00:00" if zone == "Z" else zone))
    except ValueError:
        raise BadRequest(f"parameter '{name}' has an invalid time zone: {value[:40]!r}") from None


def parse_request_query(
    args: MultiDict[str, str], *, now: datetime, page_limit: int
) -> RequestQuery:
    """Read the ``GET requests`` parameters.

    ``service_request_id`` "overrides all other arguments" (spec): with it, only ids count.
    Without dates the window is the last 90 days; with only ``start_date`` it runs to now; with
    only ``end_date`` it is the 90 days before it.

    :param args: the query string.
    :param now: the current time (aware).
    :param page_limit: the largest ``page_size`` (the spec's 1,000).
    :raises BadRequest: naming the parameter.
    """
    ids = split_list(args, "service_request_id")
    extensions = _boolean(args.get("extensions"), "extensions")
    if ids:
        return RequestQuery(ids=ids, page_size=page_limit, extensions=extensions)
    start = parse_w3_datetime(args.get("start_date"), "start_date")
    end = parse_w3_datetime(args.get("end_date"), "end_date")
    if start is None and end is None:
        start, end = now - DEFAULT_WINDOW, None
    elif start is None and end is not None:
        start = end - DEFAULT_WINDOW
    if start is not None and end is not None and start > end:
        raise BadRequest("parameter 'start_date' is after 'end_date'")
    statuses = tuple(s.lower() for s in split_list(args, "status"))
    wrong = [s for s in statuses if s not in PUBLIC_STATUSES]
    if wrong:
        raise BadRequest(f"parameter 'status' must be open or closed, got {wrong[0][:40]!r}")
    return RequestQuery(
        service_codes=split_list(args, "service_code"),
        start=start,
        end=end,
        statuses=statuses,
        updated_after=parse_w3_datetime(args.get("updated_after"), "updated_after"),
        bbox=parse_bbox(args.get("bbox")),
        near=_near(args),
        agencies=tuple(a.upper() for a in split_list(args, "agency_responsible")),
        page=_positive_int(args.get("page"), "page", default=1, maximum=MAX_PAGE),
        page_size=min(_positive_int(args.get("page_size"), "page_size", default=page_limit),
                      page_limit),
        extensions=extensions,
    )


def parse_submission(form: MultiDict[str, str]) -> Submission:
    """Read a POST Service Request form (``application/x-www-form-urlencoded``).

    Checks the form itself: a service code, one full location (``lat`` & ``long``, or
    ``address_string``, or ``address_id``), lengths. Attribute answers are returned as sent
    (``attribute[code]=v`` as text, ``attribute[code][]=v1&...`` as a list); checking them
    against the service definition is the store's job.

    :raises BadRequest: naming the parameter.
    """
    service_code = _one_line(form.get("service_code"), "service_code", 64)
    if not service_code:
        raise BadRequest("service_code was not provided")
    lat_raw, long_raw = form.get("lat"), form.get("long")
    lon = lat = None
    if _present(lat_raw) or _present(long_raw):
        if not (_present(lat_raw) and _present(long_raw)):
            raise BadRequest("lat and long must both be sent")
        lat = parse_coordinate(lat_raw, "lat", -90.0, 90.0)
        lon = parse_coordinate(long_raw, "long", -180.0, 180.0)
    address_string = _one_line(form.get("address_string"), "address_string", 300)
    address_id = _one_line(form.get("address_id"), "address_id", 64)
    if lat is None and not address_string and not address_id:
        raise BadRequest(
            "a location was not provided: send lat and long, or address_string, or address_id"
        )
    description = (form.get("description") or "").strip() or None
    if description and len(description) > DESCRIPTION_MAX_CHARS:
        raise BadRequest(
            f"description is limited to {DESCRIPTION_MAX_CHARS} characters, got {len(description)}"
        )
    media_url = _one_line(form.get("media_url"), "media_url", 2000)
    if media_url and not re.match(r"^https?://\S+$", media_url):
        raise BadRequest("media_url must be an http or https URL")
    contact = {}
    for name in CONTACT_FIELDS:
        value = _one_line(form.get(name), name, _CONTACT_MAX_CHARS)
        if value:
            contact[name] = value
    return Submission(
        service_code=service_code,
        lon=lon,
        lat=lat,
        address_string=address_string,
        address_id=address_id,
        attributes=_attributes(form),
        description=description,
        media_url=media_url,
        contact=contact,
    )


def _attributes(form: MultiDict[str, str]) -> dict[str, str | list[str]]:
    answers: dict[str, str | list[str]] = {}
    for key in form.keys():
        if not key.startswith("attribute"):
            continue
        match = _ATTRIBUTE_RE.match(key)
        if match is None:
            raise BadRequest(f"parameter {key[:60]!r} must look like attribute[code]")
        code, is_list = match.group(1), bool(match.group(2))
        values = [v.strip() for v in form.getlist(key) if v.strip()]
        if is_list or len(values) > 1:
            previous = answers.get(code, [])
            answers[code] = [*([previous] if isinstance(previous, str) else previous), *values]
        elif values:
            answers[code] = values[0]
    return answers


def _near(args: MultiDict[str, str]) -> tuple[float, float, float] | None:
    lat_raw, long_raw, radius_raw = args.get("lat"), args.get("long"), args.get("radius")
    if not (_present(lat_raw) or _present(long_raw)):
        if _present(radius_raw):
            raise BadRequest("parameter 'radius' needs lat and long")
        return None
    if not (_present(lat_raw) and _present(long_raw)):
        raise BadRequest("parameters 'lat' and 'long' go together")
    lat = parse_coordinate(lat_raw, "lat", -90.0, 90.0)
    lon = parse_coordinate(long_raw, "long", -180.0, 180.0)
    radius = parse_coordinate(radius_raw if _present(radius_raw) else "500", "radius",
                              0.0, MAX_RADIUS_M)
    return lon, lat, radius


def _positive_int(value: str | None, name: str, *, default: int,
                  maximum: int | None = None) -> int:
    if not _present(value):
        return default
    assert value is not None
    try:
        number = int(value.strip())
    except ValueError:
        raise BadRequest(f"parameter '{name}' must be a whole number, got {value[:20]!r}") from None
    if number < 1:
        raise BadRequest(f"parameter '{name}' must be 1 or more")
    if maximum is not None and number > maximum:
        raise BadRequest(f"parameter '{name}' must be at most {maximum:,}, got {value[:24]}")
    return number


def _boolean(value: str | None, name: str) -> bool:
    if not _present(value):
        return False
    assert value is not None
    text = value.strip().lower()
    if text in ("true", "1", "yes"):
        return True
    if text in ("false", "0", "no"):
        return False
    raise BadRequest(f"parameter '{name}' must be true or false")


def _one_line(value: str | None, name: str, max_chars: int) -> str | None:
    if value is None or not value.strip():
        return None
    text = value.strip()
    if len(text) > max_chars:
        raise BadRequest(f"{name} is limited to {max_chars} characters")
    if "\n" in text or "\r" in text:
        raise BadRequest(f"{name} must be a single line")
    return text


def _present(value: object) -> bool:
    return value is not None and (not isinstance(value, str) or bool(value.strip()))


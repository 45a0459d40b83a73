"""GeoReport v2 serialisation: the same Python structure as JSON or as the spec's schemaless XML.

The spec's JSON is a mapping of its XML (the Spark convention): an object becomes child elements,
a list becomes a wrapper element holding one element per item, named by the singular of the
wrapper (``services`` -> ``service``, ``service_requests`` -> ``request``), ``null`` becomes an
empty element and booleans are ``true``/``false``. Dates go out in W3C format with the Los
Angeles offset, e.g. ``2018-01-01T00:00:09-08:00``.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Response

__all__ = [
    "FORMATS",
    "LOCAL_TZ",
    "clean_text",
    "format_w3",
    "render",
    "to_xml",
]

#: Response formats and their content types (as the discovery document lists them).
FORMATS = {"xml": "text/xml", "json": "application/json"}
#: Times are shown in the jurisdiction's own zone, with its offset (spec examples do the same).
LOCAL_TZ = ZoneInfo("America/Los_Angeles")

# The item element of each list wrapper in GeoReport v2 documents.
_ITEM_TAGS = {
    "services": "service",
    "service_requests": "request",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
    "errors": "error",
    "areas": "area",
}
# Characters XML 1.0 cannot carry at all (even escaped); a stray one in a description would
# otherwise make the whole document unparsable.
_NOT_XML_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def format_w3(moment: datetime | None) -> str | None:
    """Format a time as the spec's W3C date-time with the Los Angeles offset.

    >>> from datetime import timezone
    >>> format_w3(datetime(2018, 1, 1, 8, 0, 9, tzinfo=timezone.utc))
    '2018-01-01T00:00:09-08:00'
    >>> format_w3(datetime(2018, 7, 1, 19, 0, 0, 250000, tzinfo=timezone.utc))
    '2018-07-01T12:00:00-07:00'

    :param moment: a time-zone aware datetime (naive ones are taken as UTC), or ``None``.
    :returns: the text, or ``None``.
    """
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo("UTC"))
    return moment.astimezone(LOCAL_TZ).isoformat(timespec="seconds")


def clean_text(value: str | None) -> str | None:
    """Drop the control characters XML cannot carry, so JSON and XML say the same; empty -> None.

    >>> clean_text("bell\x07 ok")
    'bell ok'
    """
    if value is None:
        return None
    return _NOT_XML_CHARS.sub("", value) or None


def render(data: Any, fmt: str, root: str, status: int = 200) -> Response:
    """Answer ``data`` in ``fmt``.

    :param data: a list (rendered as ``<root><item/>...</root>``) or a mapping (``<root>...``).
    :param fmt: ``"json"`` or ``"xml"``.
    :param root: the XML root element, e.g. ``"services"`` or ``"service_definition"``.
    :param status: HTTP status.
    :returns: a UTF-8 response with the spec's content type.
    """
    if fmt == "xml":
        body = to_xml(root, data)
    else:
        body = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return Response(body, status=status, content_type=f"{FORMATS[fmt]}; charset=utf-8")


def to_xml(root: str, data: Any) -> str:
    """Serialise ``data`` under the element ``root``, with the XML declaration.

    >>> to_xml("services", [{"service_code": "pothole", "metadata": False}])[39:]
    '<services><service><service_code>pothole</service_code><metadata>false</metadata></service></services>'
    """
    element = ET.Element(root)
    _fill(element, data)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(element, encoding="unicode")


def _fill(element: ET.Element, value: Any) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _fill(ET.SubElement(element, str(key)), item)
    elif isinstance(value, list | tuple):
        tag = _ITEM_TAGS.get(element.tag) or "item"
        for item in value:
            _fill(ET.SubElement(element, tag), item)
    else:
        element.text = _text(value)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return format_w3(value)
    return _NOT_XML_CHARS.sub("", str(value))

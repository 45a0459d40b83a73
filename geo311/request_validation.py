"""Checks of a submitted request's fields against the catalogue: attributes, texts, contact.

Pure functions (no database): each problem is a :class:`~geo311.errors.BadRequest` naming the
field or attribute, which the API renders as a 400.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from geo311.errors import BadRequest

__all__ = [
    "DESCRIPTION_MAX_CHARS",
    "MEDIA_URL_MAX_CHARS",
    "CONTACT_FIELDS",
    "validate_attributes",
    "clean_text",
    "clean_contact",
    "is_url",
]

DESCRIPTION_MAX_CHARS = 4000
MEDIA_URL_MAX_CHARS = 2000
#: Reporter fields kept privately (JSON API names and the Open311 ones).
CONTACT_FIELDS = ("name", "first_name", "last_name", "email", "phone", "device_id",
                  "account_id")
_CONTACT_MAX_CHARS = 200
_STRING_MAX_CHARS = 500
_URL = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.IGNORECASE)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def validate_attributes(definitions: list[dict[str, Any]], given: Mapping[str, Any],
                        service_code: str) -> dict[str, Any]:
    """Check attribute answers against a service's Open311 definitions.

    >>> defs = [{"code": "n", "datatype": "number", "required": True, "variable": True}]
    >>> validate_attributes(defs, {"n": "3"}, "x")
    {'n': 3}

    :param definitions: the stored ``service_type.attributes``.
    :param given: answers by attribute code (lists for multivaluelist).
    :returns: the answers, typed (numbers as numbers, lists as lists).
    :raises BadRequest: naming the attribute.
    """
    if not isinstance(given, Mapping):
        raise BadRequest("field 'attributes' must be an object of attribute code to value")
    by_code = {d["code"]: d for d in definitions}
    unknown = sorted(set(given) - set(by_code))
    if unknown:
        raise BadRequest(f"attribute '{str(unknown[0])[:64]}' is not asked for {service_code}; "
                         f"its attributes are: {', '.join(by_code) or 'none'}")
    clean: dict[str, Any] = {}
    for code, definition in by_code.items():
        value = given.get(code)
        empty = value is None or value == "" or value == []
        if not definition.get("variable", True):
            if not empty:
                raise BadRequest(f"attribute '{code}' is information only and takes no value")
            continue
        if empty:
            if definition.get("required"):
                raise BadRequest(f"attribute '{code}' is required for {service_code}")
            continue
        clean[code] = _attribute_value(definition, value)
    return clean


def is_url(value: str) -> bool:
    """Whether ``value`` is an http(s) URL.

    >>> is_url("https://example.org/a.jpg"), is_url("javascript:alert(1)")
    (True, False)
    """
    return bool(_URL.match(value))


def _check_number_rules(definition: dict[str, Any], number: float) -> None:
    """The catalogue's ``whole_number``, ``minimum`` and ``maximum`` for a number answer."""
    code = definition["code"]
    if definition.get("whole_number") and not number.is_integer():
        raise BadRequest(f"attribute '{code}' must be a whole number, got {number:g}")
    low, high = definition.get("minimum"), definition.get("maximum")
    if low is not None and number < low:
        raise BadRequest(f"attribute '{code}' must be at least {low:g}, got {number:g}")
    if high is not None and number > high:
        raise BadRequest(f"attribute '{code}' must be at most {high:g}, got {number:g}")


def _attribute_value(definition: dict[str, Any], value: Any) -> Any:
    code, datatype = definition["code"], definition.get("datatype", "string")
    keys = [v["key"] for v in definition.get("values") or []]
    if datatype == "number":
        if isinstance(value, bool):
            raise BadRequest(f"attribute '{code}' must be a number")
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise BadRequest(f"attribute '{code}' must be a number, got {str(value)[:40]!r}") \
                from None
        if not math.isfinite(number):
            raise BadRequest(f"attribute '{code}' must be a finite number")
        _check_number_rules(definition, number)
        return int(number) if number.is_integer() else number
    if datatype == "singlevaluelist":
        if isinstance(value, list) and len(value) == 1:
            value = value[0]
        if not isinstance(value, str) or value not in keys:
            raise BadRequest(f"attribute '{code}' must be one of {', '.join(keys)}, "
                             f"got {str(value)[:40]!r}")
        return value
    if datatype == "multivaluelist":
        items = value.split(",") if isinstance(value, str) else value
        if not isinstance(items, list) or not items:
            raise BadRequest(f"attribute '{code}' must be a list of {', '.join(keys)}")
        items = [str(i).strip() for i in items]
        wrong = [i for i in items if i not in keys]
        if wrong:
            raise BadRequest(f"attribute '{code}': {wrong[0][:40]!r} is not one of "
                             f"{', '.join(keys)}")
        return list(dict.fromkeys(items))
    if datatype == "datetime":
        try:
            return datetime.fromisoformat(str(value).replace("Z", "+00:00")).isoformat()
        except ValueError:
            raise BadRequest(f"attribute '{code}' must be an ISO date-time, "
                             f"got {str(value)[:40]!r}") from None
    limit = DESCRIPTION_MAX_CHARS if datatype == "text" else _STRING_MAX_CHARS
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise BadRequest(f"attribute '{code}' must be text")
    text_value = str(value).strip()
    if len(text_value) > limit:
        raise BadRequest(f"attribute '{code}' is limited to {limit} characters")
    return text_value


def clean_text(value: Any, name: str, limit: int) -> str | None:
    """Optional text field: stripped, empty is None.

    :raises BadRequest: not text, or longer than ``limit``.
    """
    if value is None:
        return None
    if not isinstance(value, str):
        raise BadRequest(f"field '{name}' must be text")
    value = value.strip()
    if len(value) > limit:
        raise BadRequest(f"field '{name}' is limited to {limit:,} characters, got {len(value):,}")
    return value or None


def clean_contact(value: Any) -> dict[str, str] | None:
    """The reporter's contact object, checked (stored privately, never shown).

    :raises BadRequest: unknown field, not text, too long, or a malformed e-mail.
    """
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise BadRequest("field 'contact' must be an object with name, email and phone")
    unknown = sorted(set(value) - set(CONTACT_FIELDS))
    if unknown:
        raise BadRequest(f"field 'contact.{str(unknown[0])[:40]}' is not accepted; "
                         f"use {', '.join(CONTACT_FIELDS)}")
    clean = {}
    for name in CONTACT_FIELDS:
        item = value.get(name)
        if item is None or item == "":
            continue
        if not isinstance(item, str) or len(item) > _CONTACT_MAX_CHARS:
            raise BadRequest(f"field 'contact.{name}' must be text of at most "
                             f"{_CONTACT_MAX_CHARS} characters")
        clean[name] = item.strip()
    if "email" in clean and not _EMAIL.match(clean["email"]):
        raise BadRequest("field 'contact.email' is not an e-mail address")
    return clean or None

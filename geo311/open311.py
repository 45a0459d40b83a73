"""The Open311 GeoReport v2 blueprint at ``/open311/v2``: discovery, services, requests, tokens.

Handlers parse (``open311_params``), call the request store and the catalogue tables, and
serialise (``open311_render``); errors are rendered by ``geo311.errors`` in the spec's
``[{"code", "description"}]`` shape (XML for ``.xml`` paths).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, current_app, request, url_for
from sqlalchemy import select
from sqlalchemy.engine import Connection

from geo311.db import get_conn
from geo311.errors import NotFound
from geo311.models import ServiceType
from geo311.open311_render import FORMATS, render

__all__ = ["blueprint", "init_app", "SPECIFICATION", "CHANGESET"]

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
#: When this endpoint's behaviour last changed (discovery ``changeset``).
CHANGESET = "2026-11-25T00:00:00Z"
_CONTACT = (
    "City of Los Angeles 311: dial 3-1-1 in the City or (213) 473-3231; "
    "for this API open an issue in the geo311 repository"
)
_KEY_SERVICE = (
    "Reading needs no key. To POST requests ask the City's 311 team for an API key "
    "(issued with `geo311 apikeys create NAME`)."
)

blueprint = Blueprint("open311", __name__)


def init_app(app: Flask) -> None:
    """Mount the GeoReport v2 blueprint at ``/open311/v2``."""
    app.register_blueprint(blueprint, url_prefix="/open311/v2")


@blueprint.url_value_preprocessor
def _check_format_and_jurisdiction(_endpoint: str | None, values: dict[str, Any] | None) -> None:
    fmt = (values or {}).get("fmt")
    if fmt is not None and fmt not in FORMATS:
        raise NotFound(f"format {fmt[:10]!r} is not supported; use .json or .xml")
    jurisdiction = (request.values.get("jurisdiction_id") or "").strip()
    expected = current_app.config["OPEN311_JURISDICTION"]
    if jurisdiction and jurisdiction.lower() != expected.lower():
        raise NotFound(f"jurisdiction_id {jurisdiction[:60]!r} was not found; this is {expected}")


@blueprint.get("/discovery.<fmt>")
def discovery(fmt: str) -> Response:
    """Service discovery: where the GeoReport v2 endpoint is and what it speaks."""
    doc = {
        "changeset": CHANGESET,
        "contact": _CONTACT,
        "key_service": _KEY_SERVICE,
        "endpoints": [
            {
                "specification": SPECIFICATION,
                "url": url_for("open311.discovery", fmt=fmt, _external=True).rsplit("/", 1)[0],
                "changeset": CHANGESET,
                "type": "production",
                "formats": list(FORMATS.values()),
            }
        ],
    }
    return render(doc, fmt, "discovery")


@blueprint.get("/services.<fmt>")
def services(fmt: str) -> Response:
    """GET Service List: every request type with its group and keywords."""
    return render([_service_json(row) for row in _service_rows(get_conn())], fmt, "services")


@blueprint.get("/services/<code>.<fmt>")
def service_definition(code: str, fmt: str) -> Response:
    """GET Service Definition: the attributes a request of this type asks for."""
    rows = _service_rows(get_conn(), code)
    if not rows:
        raise NotFound(f"service_code {code[:64]!r} was not found")
    attributes = sorted((_attribute_json(a) for a in rows[0].attributes or []),
                        key=lambda a: a["order"])
    return render({"service_code": code, "attributes": attributes}, fmt, "service_definition")


def _service_rows(conn: Connection, code: str | None = None) -> list[Any]:
    query = select(
        ServiceType.code,
        ServiceType.name_en,
        ServiceType.description_en,
        ServiceType.group,
        ServiceType.keywords_en,
        ServiceType.attributes,
    ).order_by(ServiceType.group, ServiceType.code)
    if code is not None:
        query = query.where(ServiceType.code == code)
    return list(conn.execute(query))


def _service_json(row: Any) -> dict[str, Any]:
    return {
        "service_code": row.code,
        "service_name": row.name_en,
        "description": row.description_en or None,
        "metadata": bool(row.attributes),
        "type": "realtime",
        "keywords": ", ".join(row.keywords_en or []) or None,
        "group": row.group or None,
    }


def _attribute_json(raw: dict[str, Any]) -> dict[str, Any]:
    """One stored catalogue attribute as a spec attribute (English texts)."""
    values = [
        {"key": v["key"], "name": v.get("name_en") or v.get("name")}
        for v in raw.get("values") or []
    ]
    attribute = {
        "variable": bool(raw.get("variable", True)),
        "code": raw["code"],
        "datatype": raw["datatype"],
        "required": bool(raw.get("required", False)),
        "datatype_description": raw.get("datatype_description") or None,
        "order": int(raw["order"]),
        "description": raw.get("description_en") or raw.get("description"),
    }
    if values:
        attribute["values"] = values
    return attribute

"""The catalogue in the database: sync ``data/catalogue`` into its tables, route, map MyLA311 names.

``geo311.catalogue_data`` reads and validates the JSON files; this module writes them to the
``department``, ``service_type`` and ``routing_rule`` tables (the source of truth at run time, so
a department admin can later change routing without a release) and answers the lookups that the
request store and the importer need.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import ColumnElement, delete, func, or_, select, tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import Connection

from geo311.catalogue_data import Catalogue, load_catalogue
from geo311.errors import BadRequest
from geo311.models import Department, RoutingRule, ServiceType

__all__ = [
    "SyncReport",
    "sync_catalogue",
    "catalogue_is_empty",
    "route_department",
    "find_service_type_row",
    "service_type_names",
    "department_name",
    "check_filter_codes",
    "myla311_name_map",
    "owner_department_map",
    "catalogue_group",
]


@dataclass(frozen=True)
class SyncReport:
    """What :func:`sync_catalogue` wrote."""

    version: str
    departments: int
    service_types: int
    routing_rules: int

    def summary(self) -> str:
        """One line for the CLI."""
        return (
            f"catalogue {self.version}: {self.departments} departments, "
            f"{self.service_types} service types, {self.routing_rules} routing rules"
        )


def sync_catalogue(conn: Connection, catalogue: Catalogue | None = None,
                   directory: Path | None = None) -> SyncReport:
    """Write the catalogue to the database: upsert departments and types, replace the rules.

    Types and departments are never deleted (requests refer to them); the rules are replaced as
    a whole because the file is their source. Runs inside the caller's transaction.

    :param conn: database connection.
    :param catalogue: an already loaded catalogue; default read from ``directory``.
    :param directory: folder of the catalogue JSON files (default ``data/catalogue``).
    :returns: the counts written.
    :raises geo311.catalogue_data.CatalogueError: the files are invalid (nothing is written).
    """
    cat = catalogue or load_catalogue(directory)
    for dept in cat.departments:
        values: dict[str, Any] = {
            "code": dept.code,
            "name_en": dept.name_en,
            "name_es": dept.name_es,
            "parent": dept.parent,
            # Owner codes and HfLA agency names both identify the department in MyLA311 data.
            "owner_codes": [*dept.myla311_owner_codes, *dept.myla311_agency_names],
            "contact": {"phone": dept.phone, "email": dept.email, "url": dept.url},
        }
        _upsert(conn, Department, values, "code")
    for st in cat.service_types:
        values = {
            "code": st.code,
            "name_en": st.name_en,
            "name_es": st.name_es,
            "description_en": st.description_en,
            "description_es": st.description_es,
            "group": st.group,
            "keywords_en": list(st.keywords_en),
            "keywords_es": list(st.keywords_es),
            "myla311_names": list(st.myla311_names),
            "default_department": st.default_department,
            "attributes": [_attribute_json(a) for a in st.attributes],
            "duplicate_radius_m": st.duplicate_radius_m,
            "duplicate_window_days": st.duplicate_window_days,
        }
        _upsert(conn, ServiceType, values, "code")
    conn.execute(delete(RoutingRule))
    for rule in cat.routing_rules:
        conn.execute(insert(RoutingRule).values(
            service_code=rule.service_code, area_type=rule.area_type, area_code=rule.area_code,
            department=rule.department, priority=rule.priority,
        ))
    return SyncReport(cat.version, len(cat.departments), len(cat.service_types),
                      len(cat.routing_rules))


def catalogue_is_empty(conn: Connection) -> bool:
    """True when no service type is in the database yet (first run)."""
    return not conn.execute(select(func.count()).select_from(ServiceType)).scalar_one()


def route_department(conn: Connection, service_code: str,
                     areas: Iterable[Any] | Mapping[str, str] | None = None) -> str:
    """The department code that handles ``service_code`` at a place: the most specific rule wins.

    A rule applies if it has no area or if the request lies in its area. The highest
    ``priority`` wins; on a tie an area rule beats an everywhere rule, then the older rule.
    Without any rule, the type's ``default_department``.

    :param conn: database connection.
    :param service_code: a catalogue code, e.g. ``graffiti``.
    :param areas: the request's areas: ``AreaHit`` objects, ``{"type", "code"}`` dicts, or a
        ``{type: code}`` mapping.
    :returns: a department code, e.g. ``OCB``.
    :raises BadRequest: unknown ``service_code``.
    """
    pairs = _area_pairs(areas)
    area_match: ColumnElement[bool] = RoutingRule.area_type.is_(None)
    if pairs:
        in_area = tuple_(RoutingRule.area_type, RoutingRule.area_code).in_(pairs)
        area_match = or_(area_match, in_area)
    rule = conn.execute(
        select(RoutingRule.department)
        .where(RoutingRule.service_code == service_code, area_match)
        .order_by(RoutingRule.priority.desc(), RoutingRule.area_type.is_(None), RoutingRule.id)
        .limit(1)
    ).scalar_one_or_none()
    if rule is not None:
        return rule
    default = conn.execute(
        select(ServiceType.default_department).where(ServiceType.code == service_code)
    ).scalar_one_or_none()
    if default is None:
        raise BadRequest(f"unknown service_code {service_code[:64]!r}")
    return default


def check_filter_codes(conn: Connection, service_codes: Iterable[str],
                       departments: Iterable[str]) -> None:
    """Refuse filter values that name no request type or department, so a typo is told apart
    from "no requests" (``service_code=pothole_repair`` is a 400 listing the codes, not an empty
    list).

    :raises BadRequest: the first unknown value, with the known codes.
    """
    for name, model, wanted in (("service_code", ServiceType, service_codes),
                                ("department", Department, departments)):
        asked = set(wanted)
        if not asked:
            continue
        known = set(conn.execute(select(model.code)).scalars())
        unknown = sorted(asked - known)
        if unknown:
            raise BadRequest(f"unknown {name} {unknown[0][:64]!r}; known: "
                             + ", ".join(sorted(known)))


def find_service_type_row(conn: Connection, code: str) -> Any | None:
    """The ``service_type`` row with this code (``attributes`` as stored JSON), or None."""
    return conn.execute(select(ServiceType).where(ServiceType.code == code)).first()


def service_type_names(conn: Connection, lang: str) -> dict[str, str]:
    """Service code -> the type's name in ``lang`` (``es`` Spanish, anything else English)."""
    name = ServiceType.name_es if lang == "es" else ServiceType.name_en
    return {code: text for code, text in conn.execute(select(ServiceType.code, name))}


def department_name(conn: Connection, code: str | None, lang: str) -> str | None:
    """The department's name in ``lang`` (``es`` Spanish, anything else English), or None."""
    if not code:
        return None
    name = Department.name_es if lang == "es" else Department.name_en
    return conn.execute(select(name).where(Department.code == code)).scalar_one_or_none()


def myla311_name_map(conn: Connection) -> dict[str, str]:
    """MyLA311 RequestType / HfLA typeName (case-folded) -> service code."""
    rows = conn.execute(select(ServiceType.code, func.unnest(ServiceType.myla311_names)))
    return {_fold(name): code for code, name in rows}


def owner_department_map(conn: Connection) -> dict[str, str]:
    """MyLA311 Owner code, HfLA agency name or department code (case-folded) -> department."""
    mapping: dict[str, str] = {}
    for code, owners in conn.execute(select(Department.code, Department.owner_codes)):
        mapping.setdefault(_fold(code), code)
        for owner in owners or []:
            mapping.setdefault(_fold(owner), code)
    return mapping


def _fold(text: str) -> str:
    return " ".join(text.split()).casefold()


def _area_pairs(areas: Iterable[Any] | Mapping[str, str] | None) -> list[tuple[str, str]]:
    if not areas:
        return []
    if isinstance(areas, Mapping):
        return [(str(t), str(c)) for t, c in areas.items()]
    pairs = []
    for area in areas:
        if isinstance(area, Mapping):
            pairs.append((str(area["type"]), str(area["code"])))
        else:
            hit: Any = area
            pairs.append((str(hit.type), str(hit.code)))
    return pairs


def _upsert(conn: Connection, model: Any, values: dict[str, Any], key: str) -> None:
    statement = insert(model).values(**values)
    update = {c: statement.excluded[c] for c in values if c != key}
    conn.execute(statement.on_conflict_do_update(index_elements=[key], set_=update))


def _attribute_json(attribute: Any) -> dict[str, Any]:
    """A catalogue attribute as stored JSON: the file's own field names, both languages."""
    data: dict[str, Any] = {
        "code": attribute.code,
        "datatype": attribute.datatype,
        "required": attribute.required,
        "variable": attribute.variable,
        "order": attribute.order,
        "description_en": attribute.description_en,
        "description_es": attribute.description_es,
        "datatype_description": attribute.datatype_description,
    }
    if attribute.datatype_description_es:
        data["datatype_description_es"] = attribute.datatype_description_es
    for rule in ("minimum", "maximum"):
        if getattr(attribute, rule) is not None:
            data[rule] = getattr(attribute, rule)
    if attribute.whole_number:
        data["whole_number"] = True
    if attribute.values:
        data["values"] = [
            {"key": v.key, "name_en": v.name_en, "name_es": v.name_es} for v in attribute.values
        ]
    return data



@click.group("catalogue")
def catalogue_group() -> None:
    """The service catalogue (request types, departments, routing rules)."""


@catalogue_group.command("sync")
@click.option("--dir", "directory", type=click.Path(exists=True, file_okay=False), default=None,
              help="Folder of the catalogue JSON files (default: DATA_DIR/catalogue).")
@with_appcontext
def catalogue_sync_command(directory: str | None) -> None:
    """Write data/catalogue into the database (types and departments upserted, rules replaced)."""
    from geo311.catalogue_data import CatalogueError
    from geo311.db import get_engine

    folder = Path(directory or Path(current_app.config["DATA_DIR"]) / "catalogue")
    try:
        with get_engine().begin() as conn:
            report = sync_catalogue(conn, directory=folder)
    except CatalogueError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(report.summary())

"""The schema: SQLAlchemy 2 declarative tables with GeoAlchemy2 geometry in SRID 4326."""

from __future__ import annotations

from datetime import date, datetime

from geoalchemy2 import Geometry
from sqlalchemy import (
    ARRAY,
    DDL,
    BigInteger,
    Boolean,
    CheckConstraint,
    Computed,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Identity,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = [
    "Base",
    "BoundarySet",
    "Area",
    "AreaPart",
    "StreetSegment",
    "Intersection",
    "AddressPoint",
    "Facility",
    "Department",
    "ServiceType",
    "RoutingRule",
    "ApiKey",
    "ServiceRequest",
    "RequestStatusHistory",
    "RequestImport",
    "REQUEST_STATUSES",
    "CLOSE_REASONS",
    "PIN_SOURCES",
    "StreetRange",
    "STAFF_ROLES",
    "StaffUser",
    "ApiToken",
    "AuditEvent",
    "RequestLocationCorrection",
    "RequestUpdateDetail",
    "EVENT_KINDS",
    "RequestEvent",
    "RequestFollower",
]

WGS84 = 4326


class Base(DeclarativeBase):
    """Declarative base for every geo311 table."""


class BoundarySet(Base):
    """One vintage of one boundary type (MapIt's generation), e.g. council districts of 2021."""

    __tablename__ = "boundary_set"
    __table_args__ = (UniqueConstraint("type_code", "vintage"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    type_code: Mapped[str] = mapped_column(String(32), index=True)
    vintage: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(Text)
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    source: Mapped[str] = mapped_column(Text)
    licence: Mapped[str | None] = mapped_column(Text)
    definition: Mapped[str] = mapped_column(String(64))
    feature_count: Mapped[int] = mapped_column(Integer, default=0)
    loaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Area(Base):
    """One polygon area of a boundary set; ``code`` is the City's own identifier as text."""

    __tablename__ = "area"
    __table_args__ = (Index("ix_area_set_code", "set_id", "code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    set_id: Mapped[int] = mapped_column(ForeignKey("boundary_set.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(Text)
    attrs: Mapped[dict] = mapped_column(JSONB, default=dict)
    geom = mapped_column(Geometry("MULTIPOLYGON", srid=WGS84, spatial_index=True), nullable=False)


class AreaPart(Base):
    """An area pre-split with ST_Subdivide so point lookups test small polygons (GiST indexed)."""

    __tablename__ = "area_part"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("area.id", ondelete="CASCADE"), index=True)
    set_id: Mapped[int] = mapped_column(Integer, index=True)
    geom = mapped_column(Geometry("POLYGON", srid=WGS84, spatial_index=True), nullable=False)


class StreetSegment(Base):
    """A street centerline segment shaped like the City's BOE Street Centerline layer."""

    __tablename__ = "street_segment"
    __table_args__ = (
        UniqueConstraint("source", "source_id"),
        Index("ix_street_segment_key", "street_key"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(64), index=True)
    source_id: Mapped[str] = mapped_column(String(64))
    pre_dir: Mapped[str | None] = mapped_column(String(4))
    name: Mapped[str] = mapped_column(Text)
    suffix: Mapped[str | None] = mapped_column(String(8))
    post_dir: Mapped[str | None] = mapped_column(String(4))
    full_name: Mapped[str] = mapped_column(Text)
    street_key: Mapped[str] = mapped_column(Text)
    alt_name: Mapped[str | None] = mapped_column(Text)
    l_from: Mapped[int | None] = mapped_column(Integer)
    l_to: Mapped[int | None] = mapped_column(Integer)
    r_from: Mapped[int | None] = mapped_column(Integer)
    r_to: Mapped[int | None] = mapped_column(Integer)
    l_zip: Mapped[str | None] = mapped_column(String(10))
    r_zip: Mapped[str | None] = mapped_column(String(10))
    from_node: Mapped[str | None] = mapped_column(String(32))
    to_node: Mapped[str | None] = mapped_column(String(32))
    from_street: Mapped[str | None] = mapped_column(Text)
    to_street: Mapped[str | None] = mapped_column(Text)
    street_class: Mapped[str | None] = mapped_column(String(32))
    length_m: Mapped[float] = mapped_column(Float)
    attrs: Mapped[dict] = mapped_column(JSONB, default=dict)
    geom = mapped_column(Geometry("LINESTRING", srid=WGS84, spatial_index=True), nullable=False)


class Intersection(Base):
    """A street intersection node (BOE intersections layer, or derived from segment ends)."""

    __tablename__ = "intersection"
    __table_args__ = (UniqueConstraint("source", "source_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(64))
    source_id: Mapped[str] = mapped_column(String(64))
    streets: Mapped[list[str]] = mapped_column(ARRAY(Text))
    label: Mapped[str] = mapped_column(Text)
    zip: Mapped[str | None] = mapped_column(String(10))
    geom = mapped_column(Geometry("POINT", srid=WGS84, spatial_index=True), nullable=False)


class AddressPoint(Base):
    """An address point shaped like the City's Addresses layer (or a hundred-block face, or observed)."""

    __tablename__ = "address_point"
    __table_args__ = (
        Index("ix_address_point_key_number", "street_key", "house_number"),
        Index("ix_address_point_source", "source", "source_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(64))
    source_id: Mapped[str | None] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16), default="address")  # address | blockface | observed
    house_number: Mapped[int | None] = mapped_column(Integer)
    number_suffix: Mapped[str | None] = mapped_column(String(16))
    pre_dir: Mapped[str | None] = mapped_column(String(4))
    name: Mapped[str] = mapped_column(Text)
    suffix: Mapped[str | None] = mapped_column(String(8))
    post_dir: Mapped[str | None] = mapped_column(String(4))
    unit: Mapped[str | None] = mapped_column(Text)
    zip: Mapped[str | None] = mapped_column(String(10))
    community: Mapped[str | None] = mapped_column(Text)
    full_address: Mapped[str] = mapped_column(Text)
    street_key: Mapped[str] = mapped_column(Text)
    confidence: Mapped[float] = mapped_column(Float, default=1.0)
    observations: Mapped[int] = mapped_column(Integer, default=1)
    attrs: Mapped[dict] = mapped_column(JSONB, default=dict)
    geom = mapped_column(Geometry("POINT", srid=WGS84, spatial_index=True), nullable=False)


class Facility(Base):
    """A public facility: police or fire station, library, and whatever else is loaded."""

    __tablename__ = "facility"
    __table_args__ = (Index("ix_facility_type", "type"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    type: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(64))
    source_id: Mapped[str | None] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(Text)
    address: Mapped[str | None] = mapped_column(Text)
    attrs: Mapped[dict] = mapped_column(JSONB, default=dict)
    geom = mapped_column(Geometry("POINT", srid=WGS84, spatial_index=True), nullable=False)


class Department(Base):
    """A City department that handles requests (filled from data/catalogue)."""

    __tablename__ = "department"

    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    name_en: Mapped[str] = mapped_column(Text)
    name_es: Mapped[str] = mapped_column(Text)
    parent: Mapped[str | None] = mapped_column(Text)
    owner_codes: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list)
    contact: Mapped[dict] = mapped_column(JSONB, default=dict)


class ServiceType(Base):
    """A request type of the catalogue (Open311 service), with its attribute definitions."""

    __tablename__ = "service_type"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name_en: Mapped[str] = mapped_column(Text)
    name_es: Mapped[str] = mapped_column(Text)
    description_en: Mapped[str] = mapped_column(Text, default="")
    description_es: Mapped[str] = mapped_column(Text, default="")
    group: Mapped[str] = mapped_column(Text, default="")
    keywords_en: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list)
    keywords_es: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list)
    myla311_names: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list)
    default_department: Mapped[str] = mapped_column(ForeignKey("department.code"))
    attributes: Mapped[list] = mapped_column(JSONB, default=list)
    duplicate_radius_m: Mapped[float] = mapped_column(Float, default=50.0)
    duplicate_window_days: Mapped[int] = mapped_column(Integer, default=30)


class RoutingRule(Base):
    """Routing = type x place: the most specific matching rule names the department."""

    __tablename__ = "routing_rule"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    service_code: Mapped[str] = mapped_column(ForeignKey("service_type.code", ondelete="CASCADE"))
    area_type: Mapped[str | None] = mapped_column(String(32))
    area_code: Mapped[str | None] = mapped_column(String(64))
    department: Mapped[str] = mapped_column(ForeignKey("department.code"))
    priority: Mapped[int] = mapped_column(Integer, default=0)


class ApiKey(Base):
    """An Open311 API key for POST requests; only the SHA-256 of the token is stored."""

    __tablename__ = "api_key"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    #: The first characters of the token, shown by ``geo311 apikeys list`` to tell keys apart.
    prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


# ---------------------------------------------------------------- 311 requests (issue 6)
#: Status model (issue 7): a request moves between these; ``closed`` needs a close reason.
REQUEST_STATUSES = ("open", "acknowledged", "assigned", "in_progress", "closed")
CLOSE_REASONS = ("resolved", "duplicate", "referred", "not_found", "not_city", "cancelled")
#: How the raw pin was chosen: device GPS, dragged on a map, typed address, or the City's geocode.
PIN_SOURCES = ("gps", "map", "typed", "import")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class ServiceRequest(Base):
    """One 311 request: raw pin (never updated), located point, locate answer, status, version.

    ``contact`` is private: no public query selects it. ``version`` increases on every change
    (the ETag); the status history lives in :class:`RequestStatusHistory`.
    """

    __tablename__ = "service_request"
    __table_args__ = (
        CheckConstraint(_in("status", REQUEST_STATUSES), name="ck_service_request_status"),
        CheckConstraint("close_reason IS NULL OR " + _in("close_reason", CLOSE_REASONS),
                        name="ck_service_request_close_reason"),
        CheckConstraint("pin_source IS NULL OR " + _in("pin_source", PIN_SOURCES),
                        name="ck_service_request_pin_source"),
        CheckConstraint("status <> 'closed' OR close_reason IS NOT NULL",
                        name="ck_service_request_closed_reason"),
        Index("ix_service_request_requested", "requested_at", "id"),
        Index("ix_service_request_updated", "updated_at", "id"),
        Index("ix_service_request_type_requested", "service_code", "requested_at"),
        Index("ix_service_request_status", "status"),
        Index("ix_service_request_department", "department"),
        Index("ix_service_request_areas", "areas", postgresql_using="gin",
              postgresql_ops={"areas": "jsonb_path_ops"}),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    external_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    service_code: Mapped[str] = mapped_column(ForeignKey("service_type.code"))
    status: Mapped[str] = mapped_column(String(16), default="open")
    close_reason: Mapped[str | None] = mapped_column(String(16))
    pin_lon: Mapped[float | None] = mapped_column(Float)
    pin_lat: Mapped[float | None] = mapped_column(Float)
    pin_accuracy_m: Mapped[float | None] = mapped_column(Float)
    pin_source: Mapped[str | None] = mapped_column(String(8))
    location = mapped_column(Geometry("POINT", srid=WGS84, spatial_index=True), nullable=True)
    #: ``location`` in web mercator (EPSG:3857), kept by PostgreSQL on every write: request tiles
    #: select, index and clip it without projecting each row (indexes in sql/schema_extra.sql).
    location_3857 = mapped_column(
        Geometry("POINT", srid=3857, spatial_index=False),
        Computed("ST_Transform(location, 3857)", persisted=True), nullable=True)
    #: ``address`` cut to 120 characters for the tiles' covering index (an index row has a size
    #: limit that a free-text address must not be able to reach).
    address_short: Mapped[str | None] = mapped_column(
        Text, Computed("left(address, 120)", persisted=True))
    address: Mapped[str | None] = mapped_column(Text)
    address_id: Mapped[str | None] = mapped_column(String(64))
    zip: Mapped[str | None] = mapped_column(String(10))
    department: Mapped[str | None] = mapped_column(ForeignKey("department.code"))
    agency_responsible: Mapped[str | None] = mapped_column(Text)
    areas: Mapped[list] = mapped_column(JSONB, default=list, server_default="[]")
    locate: Mapped[dict | None] = mapped_column(JSONB)
    attributes: Mapped[dict] = mapped_column(JSONB, default=dict, server_default="{}")
    description: Mapped[str | None] = mapped_column(Text)
    media_url: Mapped[str | None] = mapped_column(Text)
    channel: Mapped[str] = mapped_column(String(16))
    requested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    contact: Mapped[dict | None] = mapped_column(JSONB)
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    idempotency_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    duplicate_of: Mapped[int | None] = mapped_column(ForeignKey("service_request.id"))
    #: The source system's own labels (MyLA311 Owner, CD, NC, AssignTo...), public data.
    external: Mapped[dict] = mapped_column(JSONB, default=dict, server_default="{}")
    #: Hash of the imported source row: a re-import of an unchanged row writes nothing.
    import_hash: Mapped[str | None] = mapped_column(String(32))
    import_id: Mapped[int | None] = mapped_column(ForeignKey("request_import.id"))


class RequestStatusHistory(Base):
    """Append-only status history: who, when, from which status to which, reason, note.

    A trigger refuses UPDATE and DELETE (TRUNCATE, used by tests and resets, is not a row event).
    """

    __tablename__ = "request_status_history"
    __table_args__ = (Index("ix_request_status_history_request", "request_id", "at", "id"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("service_request.id"))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    actor: Mapped[str] = mapped_column(Text)
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text)
    public: Mapped[bool] = mapped_column(Boolean, default=True, server_default="true")


class RequestImport(Base):
    """One run of ``geo311 load requests``: files, counts, reject count and district agreement."""

    __tablename__ = "request_import"

    id: Mapped[int] = mapped_column(Integer, Identity(), primary_key=True)
    files: Mapped[list[str]] = mapped_column(ARRAY(Text))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    read: Mapped[int] = mapped_column(Integer, default=0)
    inserted: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    summary: Mapped[dict] = mapped_column(JSONB, default=dict)


event.listen(
    RequestStatusHistory.__table__,
    "after_create",
    DDL(
        "CREATE OR REPLACE FUNCTION request_status_history_append_only() RETURNS trigger "
        "LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION "
        "'request_status_history is append-only (%% refused)', TG_OP; END $$; "
        "CREATE TRIGGER request_status_history_append_only BEFORE UPDATE OR DELETE "
        "ON request_status_history FOR EACH ROW "
        "EXECUTE FUNCTION request_status_history_append_only()"
    ),
)


# ---------------------------------------------------------------- inferred reference (issue 5)
class StreetRange(Base):
    """A house-number range inferred between two observed address points on one street side.

    Written by ``geo311 build reference``: ``geom`` runs from the ``from_number`` point to the
    ``to_number`` point, so a number in between is interpolated along it. ``parity`` is ``odd`` or
    ``even`` (one side of the street) or ``all`` (both sides mixed, a fallback).
    """

    __tablename__ = "street_range"
    __table_args__ = (Index("ix_street_range_key", "street_key", "from_number", "to_number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(64), default="observed")
    street_key: Mapped[str] = mapped_column(Text)
    pre_dir: Mapped[str | None] = mapped_column(String(4))
    name: Mapped[str] = mapped_column(Text)
    suffix: Mapped[str | None] = mapped_column(String(8))
    zip: Mapped[str | None] = mapped_column(String(10))
    parity: Mapped[str] = mapped_column(String(4))  # odd | even | all
    from_number: Mapped[int] = mapped_column(Integer)
    to_number: Mapped[int] = mapped_column(Integer)
    observations: Mapped[int] = mapped_column(Integer, default=0)
    confidence: Mapped[float] = mapped_column(Float, default=0.0)
    length_m: Mapped[float] = mapped_column(Float)
    attrs: Mapped[dict] = mapped_column(JSONB, default=dict)
    geom = mapped_column(Geometry("LINESTRING", srid=WGS84, spatial_index=True), nullable=False)



# ---------------------------------------------------------------- staff, tokens, audit (issue 7)
#: Staff roles: call centre, dispatch, field crew, department admin, council office, admin.
STAFF_ROLES = ("agent", "dispatcher", "crew", "dept_admin", "council", "admin")


class StaffUser(Base):
    """A staff account: role, optional department and council district, scrypt password hash."""

    __tablename__ = "staff_user"
    __table_args__ = (CheckConstraint(_in("role", STAFF_ROLES), name="ck_staff_user_role"),)

    id: Mapped[int] = mapped_column(Integer, Identity(), primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    department: Mapped[str | None] = mapped_column(ForeignKey("department.code"))
    council_district: Mapped[str | None] = mapped_column(String(8))
    password_hash: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default="true")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class ApiToken(Base):
    """A staff API token (``Authorization: Bearer``): SHA-256 at rest, scoped by role/department."""

    __tablename__ = "api_token"
    __table_args__ = (CheckConstraint(_in("role", STAFF_ROLES), name="ck_api_token_role"),)

    id: Mapped[int] = mapped_column(Integer, Identity(), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id"), index=True)
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    department: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AuditEvent(Base):
    """One staff action or login attempt: who, what, on which target, outcome, from where."""

    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_event_at", "at", "id"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    actor: Mapped[str | None] = mapped_column(Text)
    role: Mapped[str | None] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[str] = mapped_column(String(16))  # ok | denied | failed
    client_addr: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict] = mapped_column(JSONB, default=dict, server_default="{}")


class RequestLocationCorrection(Base):
    """A crew's corrected pin for a request, with its locate answer; the resident's pin is kept."""

    __tablename__ = "request_location_correction"
    __table_args__ = (Index("ix_request_location_correction_request", "request_id", "id"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("service_request.id"))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    actor: Mapped[str] = mapped_column(Text)
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    locate: Mapped[dict | None] = mapped_column(JSONB)
    geom = mapped_column(Geometry("POINT", srid=WGS84, spatial_index=True), nullable=False)


class RequestUpdateDetail(Base):
    """What a staff update carried beyond the status (assignment, referral, photo, link).

    One row per history row that had any of these; append-only like the history it extends.
    """

    __tablename__ = "request_update_detail"

    history_id: Mapped[int] = mapped_column(ForeignKey("request_status_history.id"),
                                            primary_key=True)
    assigned_to: Mapped[str | None] = mapped_column(Text)
    referred_to: Mapped[str | None] = mapped_column(Text)
    duplicate_of: Mapped[int | None] = mapped_column(BigInteger)
    media_url: Mapped[str | None] = mapped_column(Text)
    correction_id: Mapped[int | None] = mapped_column(BigInteger)


# ---------------------------------------------------------------- live change feed (issue 7)
#: What an outbox event says happened; ``imported`` is one summary event per bulk import.
EVENT_KINDS = ("created", "updated", "closed", "merged", "located", "imported")


class RequestEvent(Base):
    """The change feed's outbox: one row per committed change, written in the change's transaction.

    ``id`` is the SSE event id; writers take a transaction-level advisory lock before drawing it
    (see :mod:`geo311.events`), so ids become visible in order and a reader that resumes from
    the last id it saw misses nothing. ``payload`` holds public fields only (never ``contact``).
    """

    __tablename__ = "request_event"
    __table_args__ = (
        CheckConstraint(_in("kind", EVENT_KINDS), name="ck_request_event_kind"),
        Index("ix_request_event_request", "request_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    request_id: Mapped[int | None] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(16))
    service_code: Mapped[str | None] = mapped_column(String(64))
    department: Mapped[str | None] = mapped_column(String(16))
    status: Mapped[str | None] = mapped_column(String(16))
    #: The request's areas at the time of the event (``[{"type": "CD", "code": "1", ...}]``).
    areas: Mapped[list] = mapped_column(JSONB, default=list, server_default="[]")
    payload: Mapped[dict] = mapped_column(JSONB, default=dict, server_default="{}")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True),
                                                 server_default=func.now())


# ---------------------------------------------------------------- followers (issue 7, duplicates)
class RequestFollower(Base):
    """A resident following an existing request instead of filing a duplicate.

    ``contact`` (e-mail and/or phone, or nothing for an anonymous follow) is private like
    ``service_request.contact``: only the count of followers is public.
    """

    __tablename__ = "request_follower"
    __table_args__ = (Index("ix_request_follower_request", "request_id"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("service_request.id"))
    contact: Mapped[dict | None] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True),
                                                 server_default=func.now())

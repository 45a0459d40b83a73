"""The live change feed: outbox events written with each change, read in order, streamed as SSE.

Writers call :func:`record_event` (or :func:`record_update`, :func:`record_import`) inside the
transaction of the change, as its last statement. It takes a transaction-level advisory lock
before drawing the event id and sends ``NOTIFY geo311_events``; the lock is held until commit, so
event ids become visible in the order they were drawn. A reader that asks for ``id > last`` can
therefore never see event 10 while event 9 is still to commit: resuming from the last id seen
misses nothing and repeats nothing. (Ids of rolled-back transactions are simply never used.)

Readers (:func:`stream_events`) keep one connection of their own (not from the app's pool) with
``LISTEN geo311_events``, wake on a notification or every second, and stop after a bounded time.
"""

from __future__ import annotations

import json
import logging
import time
import typing
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import psycopg
from sqlalchemy import (
    Engine,
    Table,
    Text,
    and_,
    cast,
    create_engine,
    func,
    insert,
    literal,
    or_,
    select,
)
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from geo311.errors import BadRequest
from geo311.models import EVENT_KINDS, RequestEvent, ServiceRequest
from geo311.request_query import RequestFilter, checked_statuses, filter_clauses, parse_area

if TYPE_CHECKING:
    from geo311.request_updates import UpdateInput

__all__ = [
    "CHANNEL",
    "HEARTBEAT_S",
    "POLL_S",
    "STREAM_TIMEOUT_S",
    "MAX_TIMEOUT_S",
    "EventFilter",
    "FeedEvent",
    "record_event",
    "record_update",
    "record_import",
    "update_kind",
    "parse_event_filter",
    "read_events",
    "last_event_id",
    "stream_engine",
    "stream_events",
]

#: The NOTIFY channel; the payload is the event id.
CHANNEL = "geo311_events"
#: Seconds between ``: keepalive`` comments on an idle stream (proxies drop silent connections).
HEARTBEAT_S = 15.0
#: Longest wait between two reads of the outbox (the fallback when a notification is missed).
POLL_S = 1.0
#: Default and largest life of one stream (seconds); the client reconnects with Last-Event-ID.
STREAM_TIMEOUT_S = 300.0
MAX_TIMEOUT_S = 3600.0
_BATCH = 500
_LOCK_KEY = 3110007  # pg_advisory_xact_lock key that orders event ids by commit
_SR = ServiceRequest.__table__
_EV = typing.cast(Table, RequestEvent.__table__)
_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EventFilter:
    """Which events a reader wants (empty tuples: all)."""

    service_codes: tuple[str, ...] = ()
    departments: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    area: tuple[str, str] | None = None

    def request_filter(self) -> RequestFilter:
        """The part about the request (all but ``kinds``), for the outbox's copied columns."""
        return RequestFilter(service_codes=self.service_codes, departments=self.departments,
                             statuses=self.statuses, area=self.area)


@dataclass(frozen=True)
class FeedEvent:
    """One outbox row as sent to readers."""

    id: int
    kind: str
    request_id: int | None
    service_code: str | None
    department: str | None
    status: str | None
    areas: list[dict[str, Any]]
    payload: dict[str, Any]
    created_at: datetime

    def as_dict(self) -> dict[str, Any]:
        """JSON form: the event's own fields and ``request``, the request's public fields."""
        return {"id": self.id, "kind": self.kind, "request_id": self.request_id,
                "at": self.created_at.isoformat(), "service_code": self.service_code,
                "department": self.department, "status": self.status, "areas": self.areas,
                "request": self.payload}

    def as_sse(self) -> str:
        """The Server-Sent Events frame (``id``, ``event``, one-line JSON ``data``)."""
        data = json.dumps(self.as_dict(), separators=(",", ":"), default=str)
        return f"id: {self.id}\nevent: {self.kind}\ndata: {data}\n\n"


# ---------------------------------------------------------------- writing
def record_event(conn: Connection, request_id: int, kind: str) -> int:
    """Append the event of a change to request ``request_id`` (call it last in the transaction).

    The event copies the request's public fields as they are now in this transaction
    (never ``contact``) and wakes listeners when the transaction commits.

    :param conn: the connection of the change's transaction (the caller commits).
    :param kind: one of :data:`geo311.models.EVENT_KINDS`.
    :returns: the event id.
    :raises ValueError: an unknown kind.
    """
    if kind not in EVENT_KINDS:
        raise ValueError(f"unknown event kind {kind!r}")
    _lock(conn)
    columns = ["request_id", "kind", "service_code", "department", "status", "areas", "payload"]
    source = select(_SR.c.id, literal(kind), _SR.c.service_code, _SR.c.department,
                    _SR.c.status, _SR.c.areas, _public_payload()).where(_SR.c.id == request_id)
    event_id = conn.execute(insert(RequestEvent).from_select(columns, source).returning(_EV.c.id)
                            ).scalar_one()
    _notify(conn, event_id)
    return event_id


def update_kind(change: UpdateInput) -> str:
    """The event kind of a staff update: merged, closed, located or updated (first that fits)."""
    if change.duplicate_of is not None:
        return "merged"
    if change.status == "closed":
        return "closed"
    if change.lon is not None and change.lat is not None:
        return "located"
    return "updated"


def record_update(conn: Connection, request_id: int, change: UpdateInput,
                  cascaded: Sequence[int] = ()) -> None:
    """Append the events of one staff update: the request's, then each cascaded closure's.

    :param cascaded: duplicates closed together with ``request_id``.
    """
    record_event(conn, request_id, update_kind(change))
    for other in cascaded:
        record_event(conn, other, "closed")


def record_import(conn: Connection, import_id: int, *, inserted: int, updated: int) -> int | None:
    """Append one summary event for a bulk import (no per-row events); none if nothing changed.

    :returns: the event id, or ``None``.
    """
    if not inserted and not updated:
        return None
    _lock(conn)
    event_id = conn.execute(insert(RequestEvent).values(
        request_id=None, kind="imported", areas=[],
        payload={"import_id": import_id, "inserted": inserted, "updated": updated},
    ).returning(_EV.c.id)).scalar_one()
    _notify(conn, event_id)
    return event_id


# ---------------------------------------------------------------- reading
def parse_event_filter(args: Mapping[str, Any]) -> EventFilter:
    """Read ``service_code``, ``department``, ``status``, ``kind`` (comma lists) and
    ``area_type`` + ``area_code`` from query arguments.

    :raises BadRequest: an unknown status or kind, or only one of area_type/area_code.
    """
    statuses = checked_statuses(_list(args, "status"))
    kinds = _list(args, "kind")
    if any(k not in EVENT_KINDS for k in kinds):
        raise BadRequest(f"parameter 'kind' must be among {', '.join(EVENT_KINDS)}")
    return EventFilter(service_codes=_list(args, "service_code"),
                       departments=tuple(d.upper() for d in _list(args, "department")),
                       statuses=statuses, kinds=kinds, area=parse_area(args))


def read_events(conn: Connection, after: int, event_filter: EventFilter | None = None, *,
                limit: int = _BATCH) -> list[FeedEvent]:
    """Events with ``id > after`` that pass the filter, oldest first.

    Import summaries pass every filter: they tell a filtered reader to poll ``updated_after``.
    """
    f = event_filter or EventFilter()
    c = _EV.c
    clauses = [c.id > after]
    wanted = filter_clauses(f.request_filter(), _EV)
    if wanted:
        clauses.append(or_(and_(*wanted), c.kind == "imported"))
    if f.kinds:
        clauses.append(c.kind.in_(f.kinds))
    rows = conn.execute(select(c.id, c.kind, c.request_id, c.service_code, c.department,
                               c.status, c.areas, c.payload, c.created_at)
                        .where(*clauses).order_by(c.id).limit(limit))
    return [FeedEvent(*row) for row in rows]


def last_event_id(conn: Connection) -> int:
    """The newest event id (0 when there is none): where a reader with no position starts."""
    return conn.execute(select(func.coalesce(func.max(_EV.c.id), 0))).scalar_one()


def stream_engine(url: str) -> Engine:
    """An engine without a pool: each stream holds its own connection and closes it at the end,
    so long-lived streams never take connections from the app's pool."""
    return create_engine(url, poolclass=NullPool,
                         connect_args={"options": "-c timezone=UTC -c jit=off"})


def stream_events(engine: Engine, *, after: int | None, event_filter: EventFilter,
                  timeout_s: float = STREAM_TIMEOUT_S) -> Iterator[str]:
    """Yield SSE frames: events after ``after`` as they commit, keepalive comments, then stop.

    :param engine: an engine from :func:`stream_engine`.
    :param after: the last event id the client saw; ``None`` starts at the newest event.
    :param timeout_s: stop after this many seconds (0: send what is there and stop).
    """
    deadline = time.monotonic() + timeout_s
    yield "retry: 2000\n\n"
    try:
        with engine.connect() as opened:
            conn = opened.execution_options(isolation_level="AUTOCOMMIT")
            listening = _listen(conn)
            position = last_event_id(conn) if after is None else after
            quiet_since = time.monotonic()
            while True:
                events = read_events(conn, position, event_filter)
                for event in events:
                    yield event.as_sse()
                    position = event.id
                now = time.monotonic()
                if events:
                    quiet_since = now
                    if len(events) == _BATCH and now < deadline:
                        continue
                if now >= deadline:
                    return
                if now - quiet_since >= HEARTBEAT_S:
                    yield ": keepalive\n\n"
                    quiet_since = now
                wait = max(0.0, min(POLL_S, deadline - now, HEARTBEAT_S - (now - quiet_since)))
                _wait(conn, listening, wait)
    except (DBAPIError, psycopg.Error) as exc:
        _log.warning("event stream ended: database error %s", exc.__class__.__name__)
        yield ": database unavailable; reconnect with Last-Event-ID\n\n"


# ---------------------------------------------------------------- private helpers
def _public_payload() -> Any:
    """The request's public fields as JSONB (the same ones the public request list shows)."""
    c = _SR.c
    return func.jsonb_build_object(
        "id", c.id, "external_id", c.external_id, "service_code", c.service_code,
        "status", c.status, "close_reason", c.close_reason, "department", c.department,
        "agency_responsible", c.agency_responsible, "channel", c.channel,
        "address", c.address, "zip", c.zip, "areas", c.areas, "duplicate_of", c.duplicate_of,
        "version", c.version, "requested_at", c.requested_at, "updated_at", c.updated_at,
        "closed_at", c.closed_at, "lon", func.ST_X(c.location), "lat", func.ST_Y(c.location))


def _lock(conn: Connection) -> None:
    # Held until commit: the next writer draws its id only after this one is visible.
    conn.execute(select(func.pg_advisory_xact_lock(_LOCK_KEY)))


def _notify(conn: Connection, event_id: int) -> None:
    conn.execute(select(func.pg_notify(CHANNEL, cast(literal(event_id), Text))))


def _listen(conn: Connection) -> bool:
    """Subscribe this connection to the channel; False when the driver cannot wait for notifies."""
    raw = conn.connection.driver_connection
    if raw is None or not hasattr(raw, "notifies"):
        return False
    conn.exec_driver_sql(f"LISTEN {CHANNEL}")
    return True


def _wait(conn: Connection, listening: bool, seconds: float) -> None:
    """Sleep until a notification arrives or ``seconds`` pass."""
    if seconds <= 0:
        return
    if not listening:
        time.sleep(seconds)
        return
    raw = conn.connection.driver_connection
    for _note in raw.notifies(timeout=seconds, stop_after=1):  # type: ignore[union-attr]
        pass


def _list(args: Mapping[str, Any], name: str) -> tuple[str, ...]:
    raw = args.get(name) or ""
    return tuple(dict.fromkeys(v.strip() for v in str(raw).split(",") if v.strip()))

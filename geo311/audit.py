"""The audit log: every staff action and login attempt, listed for admins and exported as CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from flask import has_request_context, request
from sqlalchemy import insert, select
from sqlalchemy.engine import Connection

from geo311.models import AuditEvent

if TYPE_CHECKING:
    from geo311.auth import Principal

__all__ = ["AuditRow", "record_event", "list_events", "events_csv", "CSV_FIELDS"]

CSV_FIELDS = ("id", "at", "actor", "role", "action", "target", "outcome", "client_addr", "detail")


@dataclass(frozen=True)
class AuditRow:
    """One audit event as read back."""

    id: int
    at: datetime
    actor: str | None
    role: str | None
    action: str
    target: str | None
    outcome: str
    client_addr: str | None
    detail: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        """JSON form (``at`` as ISO 8601)."""
        return {**self.__dict__, "at": self.at.isoformat()}


def record_event(principal: Principal | None, action: str, *, outcome: str = "ok",
                 target: str | None = None, detail: dict[str, Any] | None = None,
                 conn: Connection | None = None) -> None:
    """Write one audit event.

    :param principal: the caller, or ``None`` for an unknown one (a failed login).
    :param action: what was attempted, e.g. ``request.update`` or ``login``.
    :param outcome: ``ok``, ``denied`` or ``failed``.
    :param conn: write inside this transaction (so the event commits with the change); by
        default the event is written and committed on its own (refusals and failures, whose
        own transaction rolls back).
    """
    values = {
        "actor": principal.name if principal else None,
        "role": principal.role if principal else None,
        "action": action, "outcome": outcome, "target": target, "detail": detail or {},
        "client_addr": request.remote_addr if has_request_context() else None,
    }
    if conn is not None:
        conn.execute(insert(AuditEvent).values(**values))
        return
    from geo311.db import get_engine

    with get_engine().begin() as own:
        own.execute(insert(AuditEvent).values(**values))


def list_events(conn: Connection, *, limit: int = 1000, actor: str | None = None,
                action: str | None = None, since: datetime | None = None) -> list[AuditRow]:
    """Audit events, newest first.

    :param limit: most rows returned.
    :param actor: only this user's events.
    :param action: only this action.
    :param since: only events at or after this time.
    """
    query = select(*(getattr(AuditEvent, f) for f in CSV_FIELDS))
    if actor:
        query = query.where(AuditEvent.actor == actor)
    if action:
        query = query.where(AuditEvent.action == action)
    if since:
        query = query.where(AuditEvent.at >= since)
    rows = conn.execute(query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(limit))
    return [AuditRow(*row) for row in rows]


def events_csv(rows: Iterable[AuditRow]) -> str:
    """The events as CSV with a header row (``detail`` as JSON text)."""
    import json

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_FIELDS)
    for row in rows:
        values = row.as_dict()
        values["detail"] = json.dumps(values["detail"], sort_keys=True)
        writer.writerow([values[f] for f in CSV_FIELDS])
    return out.getvalue()

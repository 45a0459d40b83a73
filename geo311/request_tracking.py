"""What residents see and do on a request they track: its public history, and following it.

Residents follow an open request instead of filing a duplicate of it. A follow stores an
optional private contact (e-mail or phone) beside the request; only the number of followers is
public. Delivering closure notices to followers (and to the reporters of merged duplicates) is
not done here: no notification channel exists yet.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, func, insert, null, select
from sqlalchemy.engine import Connection

from geo311.errors import BadRequest, NotFound
from geo311.models import (
    RequestFollower,
    RequestStatusHistory,
    RequestUpdateDetail,
    ServiceRequest,
)
from geo311.request_validation import clean_contact

__all__ = ["FOLLOW_CONTACT_FIELDS", "PublicHistoryEntry", "follow_request", "count_followers",
           "public_history"]

#: What a follower may leave to be told about the request (never shown).
FOLLOW_CONTACT_FIELDS = ("email", "phone")
_FOLLOWER = cast(Table, RequestFollower.__table__)
_SR = cast(Table, ServiceRequest.__table__)
_HISTORY = cast(Table, RequestStatusHistory.__table__)
_DETAIL = cast(Table, RequestUpdateDetail.__table__)


@dataclass(frozen=True)
class PublicHistoryEntry:
    """One public row of a request's status history (no actor, no private notes)."""

    at: datetime
    from_status: str | None
    to_status: str
    reason: str | None
    note: str | None
    duplicate_of: int | None

    def as_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {"at": self.at.isoformat(), "from_status": self.from_status,
                "to_status": self.to_status, "reason": self.reason, "note": self.note,
                "duplicate_of": self.duplicate_of}


def public_history(conn: Connection, request_id: int) -> list[PublicHistoryEntry]:
    """The rows of a request's history marked public, oldest first.

    Staff history (``/requests/<id>/history``) also carries actors, assignments and private
    notes; residents see only what each public row says happened.

    :param request_id: the request.
    :raises NotFound: no such request.
    """
    exists = conn.execute(select(_SR.c.id).where(_SR.c.id == request_id)).scalar_one_or_none()
    if exists is None:
        raise NotFound(f"no request with id {request_id}")
    rows = conn.execute(
        select(_HISTORY.c.at, _HISTORY.c.from_status, _HISTORY.c.to_status, _HISTORY.c.reason,
               _HISTORY.c.note, _DETAIL.c.duplicate_of)
        .outerjoin(_DETAIL, _DETAIL.c.history_id == _HISTORY.c.id)
        .where(_HISTORY.c.request_id == request_id, _HISTORY.c.public.is_(True))
        .order_by(_HISTORY.c.at, _HISTORY.c.id))
    return [PublicHistoryEntry(*row) for row in rows]


def follow_request(conn: Connection, request_id: int, body: Any) -> int:
    """Record one follower of a request; returns the request's follower count afterwards.

    :param conn: connection inside the caller's transaction.
    :param request_id: the request to follow.
    :param body: the JSON body: ``None``/``{}`` or ``{"contact": {"email"|"phone": ...}}``.
    :raises BadRequest: an unknown field or a malformed contact.
    :raises NotFound: no such request.
    """
    contact = _follow_contact(body)
    exists = conn.execute(select(_SR.c.id).where(_SR.c.id == request_id)
                          .with_for_update(key_share=True)).scalar_one_or_none()
    if exists is None:
        raise NotFound(f"no request with id {request_id}")
    conn.execute(insert(_FOLLOWER).values(  # SQL NULL, not JSON null, for an anonymous follow
        request_id=request_id, contact=null() if contact is None else contact))
    return count_followers(conn, request_id)


def count_followers(conn: Connection, request_id: int) -> int:
    """How many residents follow a request (public).

    :param request_id: the request (0 for an unknown one).
    """
    return int(conn.execute(select(func.count()).select_from(_FOLLOWER)
                            .where(_FOLLOWER.c.request_id == request_id)).scalar_one())


def _follow_contact(body: Any) -> dict[str, str] | None:
    if body is None:
        return None
    if not isinstance(body, dict):
        raise BadRequest('the body must be empty or a JSON object such as '
                         '{"contact": {"email": "me@example.org"}}')
    unknown = sorted(set(body) - {"contact"})
    if unknown:
        raise BadRequest(f"field '{str(unknown[0])[:40]}' is not accepted; the only field is "
                         "'contact'")
    contact = body.get("contact")
    if isinstance(contact, dict):
        extra = sorted(set(contact) - set(FOLLOW_CONTACT_FIELDS))
        if extra:
            raise BadRequest(f"field 'contact.{str(extra[0])[:40]}' is not accepted; use "
                             f"{' or '.join(FOLLOW_CONTACT_FIELDS)}")
    return clean_contact(contact)

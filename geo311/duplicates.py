"""Possible duplicates: open requests of the same type nearby and recent; merge proposals (CLI)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import click
from flask.cli import with_appcontext
from sqlalchemy.engine import Connection

from geo311.db import load_sql

__all__ = ["DuplicateCandidate", "MergeProposal", "find_duplicates", "propose_merges",
           "duplicates_group"]


@dataclass(frozen=True)
class DuplicateCandidate:
    """An open request that may report the same problem."""

    id: int
    status: str
    address: str | None
    requested_at: datetime
    distance_m: float
    age_days: float

    def as_dict(self) -> dict[str, Any]:
        """JSON form (distance to 0.1 m, age to 0.01 day)."""
        return {"id": self.id, "status": self.status, "address": self.address,
                "requested_at": self.requested_at.isoformat(),
                "distance_m": round(self.distance_m, 1), "age_days": round(self.age_days, 2)}


@dataclass(frozen=True)
class MergeProposal:
    """Close ``duplicate_id`` as a duplicate of the earlier ``survivor_id``."""

    duplicate_id: int
    survivor_id: int
    service_code: str
    distance_m: float
    days_apart: float


def find_duplicates(conn: Connection, request_id: int, *,
                    limit: int = 20) -> list[DuplicateCandidate]:
    """Open requests of the same type within the type's radius and time window, nearest first.

    :param request_id: the request to compare with (its existence is the caller's check).
    :param limit: most candidates returned.
    """
    rows = conn.execute(load_sql("request_duplicates"),
                        {"request_id": request_id, "limit": limit})
    return [DuplicateCandidate(*row) for row in rows]


def propose_merges(conn: Connection, *, limit: int = 1000) -> list[MergeProposal]:
    """For each open unlinked request, the nearest earlier open one of its type within range.

    :param limit: most proposals returned.
    """
    rows = conn.execute(load_sql("propose_merges"), {"limit": limit})
    return [MergeProposal(*row) for row in rows]


@click.group("duplicates")
def duplicates_group() -> None:
    """Find possible duplicate requests."""


@duplicates_group.command("scan")
@click.option("--limit", default=1000, show_default=True, help="Most proposals printed.")
@with_appcontext
def duplicates_scan(limit: int) -> None:
    """Propose merges (prints them; a dispatcher merges with POST .../updates)."""
    from geo311.db import get_engine

    with get_engine().connect() as conn:
        proposals = propose_merges(conn, limit=limit)
    for p in proposals:
        click.echo(f"merge {p.duplicate_id} into {p.survivor_id}\t{p.service_code}\t"
                   f"{p.distance_m:.1f} m\t{p.days_apart:.1f} days later")
    click.echo(f"{len(proposals)} proposal(s)")

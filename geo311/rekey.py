"""Bring street keys and names stored under an older key rule up to the current one.

``geo311 db init`` runs :func:`rekey_streets` after the schema: a database loaded before a change
to :func:`geo311.address_parse.street_key` keeps its old keys (``COEUR D ALENE AVE`` of the County
points beside MyLA311's ``COEUR DALENE AVE``) until its rows are reloaded. Each stored value is
rewritten by :func:`geo311.address_words.join_name_initials`, the one step a key, a bare name and
a label share, so the rows end up as a reload would write them. Only the values that can change
(a lone ``O`` or ``D`` word, found by a regular-expression scan of the key columns) come back to
Python, and nothing is written when none changes: a second run costs those scans and no more.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from sqlalchemy import Connection, Table, Text, bindparam, func, or_, select, text, union, update
from sqlalchemy.dialects.postgresql import ARRAY

from geo311.address_words import JOINED_INITIALS, join_name_initials
from geo311.models import Base

__all__ = ["rekey_streets", "rekey_text"]

# A lone O or D word followed by another word: the only values the current rule can change.
_MAY_CHANGE = r"(^| )[" + "".join(sorted(JOINED_INITIALS)) + r"] [A-Z]"
_MAY_CHANGE_RE = re.compile(_MAY_CHANGE)

# (table, gate columns, rewritten columns). A row is rewritten when a gate column changes; a
# table's name and label change only with its key (one StreetRef made all three), but a segment's
# alt_name and cross streets are other streets' labels, so they are gates of their own.
_TABLES: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = (
    ("address_point", ("street_key",), ("street_key", "name", "full_address")),
    ("street_segment", ("street_key", "alt_name", "from_street", "to_street"),
     ("street_key", "name", "full_name", "alt_name", "from_street", "to_street")),
    ("street_range", ("street_key",), ("street_key", "name")),
)  # fmt: skip

_TEXTS = ARRAY(Text)

# intersection.streets holds the labels of the crossing streets (an array, hence plain SQL).
_INTERSECTION_STREETS = text(
    "SELECT DISTINCT street FROM intersection, unnest(streets) AS street WHERE street ~ :pattern"
)
_REWRITE_INTERSECTIONS = text(
    """
    UPDATE intersection
    SET streets = ARRAY(
        SELECT COALESCE(m.new, s.street)
        FROM unnest(streets) WITH ORDINALITY AS s(street, n)
        LEFT JOIN unnest(CAST(:olds AS text[]), CAST(:news AS text[])) AS m(old, new)
            ON m.old = s.street
        ORDER BY s.n)
    WHERE streets && CAST(:olds AS text[])
    """
)


def rekey_text(value: str) -> str:
    """Rewrite one stored key, name or label as the current rule writes it.

    :param value: e.g. ``"COEUR D ALENE AVE"`` or ``"832 COEUR D ALENE AVE"``.
    :returns: the value with lone ``O``/``D`` initials joined; unchanged values come back as is.

    >>> rekey_text("COEUR D ALENE AVE"), rekey_text("O ST"), rekey_text("D ESTE")
    ('COEUR DALENE AVE', 'O ST', 'DESTE')
    """
    if not _MAY_CHANGE_RE.search(value):
        return value
    return " ".join(join_name_initials(value.split(" ")))


def rekey_streets(conn: Connection) -> dict[str, int]:
    """Rewrite the street keys, names and labels an older key rule stored; refresh street names.

    :param conn: connection; the caller owns the transaction.
    :returns: rows rewritten per table (only tables with a change); empty when all is current.
    """
    rewritten: dict[str, int] = {}
    for name, gates, columns in _TABLES:
        count = _rewrite_table(conn, Base.metadata.tables[name], gates, columns)
        if count:
            rewritten[name] = count
    labels = _changes(conn.execute(_INTERSECTION_STREETS, {"pattern": _MAY_CHANGE}).scalars())
    if labels:
        olds, news = zip(*labels.items(), strict=True)
        result = conn.execute(_REWRITE_INTERSECTIONS, {"olds": list(olds), "news": list(news)})
        rewritten["intersection"] = result.rowcount
    if rewritten.keys() & {"address_point", "street_segment"}:
        from geo311.geocode import refresh_street_names  # geocode imports much; init needs little

        refresh_street_names(conn)
    return rewritten


def _rewrite_table(conn: Connection, table: Table, gates: tuple[str, ...],
                   columns: tuple[str, ...]) -> int:
    """Rewrite ``columns`` of the rows where a gate column changes; return how many rows."""
    found = union(*(select(table.c[gate].label("value")).where(
        table.c[gate].regexp_match(_MAY_CHANGE)) for gate in gates))
    changed = _changes(conn.execute(found).scalars())
    if not changed:
        return 0
    gate_values = list(changed)
    hit = or_(*(table.c[gate] == func.any(bindparam("gates", type_=_TEXTS)) for gate in gates))
    others = [c for c in columns if c not in gates]
    if others:  # the names and labels of the rows found, e.g. "832 COEUR D ALENE AVE"
        found = union(*(select(table.c[c].label("value")).where(hit) for c in others))
        changed |= _changes(conn.execute(found, {"gates": gate_values}).scalars())
    pairs = func.unnest(bindparam("olds", type_=_TEXTS), bindparam("news", type_=_TEXTS))
    mapping = pairs.table_valued("old", "new").render_derived(name="rekey")

    def rewritten(column: str):
        new = select(mapping.c.new).where(mapping.c.old == table.c[column]).scalar_subquery()
        return func.coalesce(new, table.c[column])

    statement = update(table).where(hit).values({c: rewritten(c) for c in columns})
    result = conn.execute(statement, {"gates": gate_values, "olds": list(changed),
                                      "news": list(changed.values())})
    return result.rowcount


def _changes(values: Iterable[str | None]) -> dict[str, str]:
    """Old value -> new value, for the values the current rule changes."""
    return {value: new for value in values if value and (new := rekey_text(value)) != value}

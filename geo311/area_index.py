"""In-memory index of the subdivided area parts: point-to-area lookups without a spatial query.

The parts (``area_part``, already split by ``ST_Subdivide``) are held as prepared shapely polygons
in an STRtree, one index per database. Every lookup first reads the database's boundary token (one
row, changed by triggers whenever boundary_set, area or area_part change), so an answer never comes
from stale boundaries: a changed token rebuilds the index from the same connection.

The vintage rule (:func:`vintage_rank`, also used by geo311.boundaries for an area by code, and
written in SQL in ``sql/locate_at_point.sql``): per type, the set whose ``[valid_from, valid_to)``
holds the date, else the nearest one, ties to the latest ``valid_from``.

Example::

    index = area_index_for(conn)
    index.lookup(-118.29, 34.07, date(2026, 1, 1))       # -> [AreaHit(type='CD', ...), ...]
"""

from __future__ import annotations

import gc
import threading
import weakref
from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date

import numpy as np
import shapely
from sqlalchemy.engine import Connection

from geo311.db import driver_cursor

__all__ = ["AreaIndex", "SetRow", "area_index_for", "choose_sets", "vintage_rank"]

_TOKEN_SQL = "SELECT token FROM boundary_state"
# Everything in one statement, so sets, areas, parts and token come from one snapshot. Sets with
# no areas still come (they can be the vintage in force); parts come grouped by set.
_CONTENT_SQL = """
    SELECT (SELECT token FROM boundary_state), s.id, s.type_code, s.vintage, s.valid_from,
           s.valid_to, a.id, a.code, a.name, ST_AsBinary(p.geom)
    FROM boundary_set s
    LEFT JOIN area a ON a.set_id = s.id
    LEFT JOIN area_part p ON p.area_id = a.id
    ORDER BY s.id, p.id
"""

_FAR_PAST = date.min


@dataclass(frozen=True)
class SetRow:
    """One boundary set (vintage of a type) with its dates."""

    id: int
    type_code: str
    vintage: str
    valid_from: date | None
    valid_to: date | None


def vintage_rank(valid_from: date | None, valid_to: date | None, on: date) -> tuple[int, int]:
    """Sort key of a set for the date ``on``, lowest in force: days outside
    ``[valid_from, valid_to)`` (0 inside, else the days to the nearest end), then the latest
    valid_from first (NULLS LAST)."""
    start = valid_from or _FAR_PAST
    if on < start:
        days = (start - on).days
    elif valid_to is not None and on >= valid_to:
        days = (on - valid_to).days + 1
    else:
        days = 0
    return (days, -valid_from.toordinal() if valid_from else 1)


def choose_sets(sets: Sequence[SetRow], on: date,
                types: Sequence[str] | None = None) -> list[SetRow]:
    """The set of each type in force on ``on`` (or nearest to it): :func:`vintage_rank`."""
    wanted = set(types) if types else None
    best: dict[str, SetRow] = {}
    for row in sets:
        if wanted is not None and row.type_code not in wanted:
            continue
        current = best.get(row.type_code)
        if current is None or (vintage_rank(row.valid_from, row.valid_to, on)
                               < vintage_rank(current.valid_from, current.valid_to, on)):
            best[row.type_code] = row
    return [best[code] for code in sorted(best)]


class AreaIndex:
    """The parts of every loaded area in an STRtree, with area names and set dates.

    :param token: the database's boundary token this index was built from.
    """

    def __init__(self, token: str, sets: Sequence[SetRow],
                 areas: dict[int, tuple[int, str, str]], parts: Sequence[tuple[int, int, bytes]]):
        from geo311.boundaries import AreaHit  # boundaries imports this module

        self.token = token
        self.sets = list(sets)
        sets_by_id = {row.id: row for row in self.sets}
        hits = {
            area_id: AreaHit(sets_by_id[set_id].type_code, code, name, sets_by_id[set_id].vintage)
            for area_id, (set_id, code, name) in areas.items() if set_id in sets_by_id
        }
        # Areas ranked by (type, code): lookups sort and deduplicate hits as integers.
        ranked = sorted(hits, key=lambda area_id: (hits[area_id].type, hits[area_id].code,
                                                   area_id))
        rank_of_area = {area_id: rank for rank, area_id in enumerate(ranked)}
        self._hit_by_rank = np.empty(len(ranked), dtype=object)
        self._hit_by_rank[:] = [hits[area_id] for area_id in ranked]
        self._part_rank = np.fromiter((rank_of_area.get(p[0], -1) for p in parts), dtype=np.int64,
                                      count=len(parts))
        self._part_set = np.fromiter((p[1] for p in parts), dtype=np.int64, count=len(parts))
        self._geoms = shapely.from_wkb([p[2] for p in parts])
        shapely.prepare(self._geoms)
        self._tree = shapely.STRtree(self._geoms)
        self._trees = self._tree_per_set()
        self._chosen_cache: dict[tuple[date, tuple[str, ...] | None], tuple] = {}

    def _tree_per_set(self) -> dict[int, tuple[shapely.STRtree, int]]:
        """An STRtree per set over its parts, with its first part (_CONTENT_SQL orders by set)."""
        set_ids, starts = np.unique(self._part_set, return_index=True)
        ends = list(starts[1:]) + [len(self._part_set)] if len(starts) else []
        return {int(set_id): (shapely.STRtree(self._geoms[start:end]), int(start))
                for set_id, start, end in zip(set_ids, starts, ends, strict=True)}

    def chosen_set_ids(self, on: date, types: Sequence[str] | None = None) -> list[int]:
        """Ids of the sets in force on ``on`` (one per type)."""
        return self._chosen(on, types)[0]

    def _chosen(self, on: date, types: Sequence[str] | None) -> tuple[list[int], np.ndarray]:
        """The chosen set ids and a mask over the parts of those sets, cached per date and types."""
        key = (on, tuple(sorted(types)) if types else None)
        chosen = self._chosen_cache.get(key)
        if chosen is None:
            ids = sorted(row.id for row in choose_sets(self.sets, on, types))
            chosen = (ids, np.isin(self._part_set, ids))
            if len(self._chosen_cache) > 1024:
                self._chosen_cache.clear()
            self._chosen_cache[key] = chosen
        return chosen

    def lookup(self, lon: float, lat: float, on: date, types: Sequence[str] | None = None) -> list:
        """Every area covering the point (edges included), ordered by type and code."""
        point = shapely.Point(lon, lat)
        candidates = self._tree.query(point)
        candidates = candidates[self._chosen(on, types)[1][candidates]]
        covering = candidates[shapely.covers(self._geoms[candidates], point)]
        return self._hit_by_rank[np.unique(self._part_rank[covering])].tolist()

    def lookup_many(self, lons: Sequence[float | None], lats: Sequence[float | None],
                    days: Sequence[date], types: Sequence[str] | None = None) -> list[list]:
        """:meth:`lookup` for many points at once (vectorised); None coordinates get no areas.

        Each set in force for some of the points is queried with just those points, on its own
        STRtree, so a lookup restricted to a few types never touches the other types' parts.
        """
        with _collector_paused():  # it creates a point and a list per input: no GC passes midway
            return self._lookup_many(lons, lats, days, types)

    def _lookup_many(self, lons: Sequence[float | None], lats: Sequence[float | None],
                     days: Sequence[date], types: Sequence[str] | None) -> list[list]:
        lon_array = np.array([np.nan if v is None else v for v in lons], dtype=np.float64)
        lat_array = np.array([np.nan if v is None else v for v in lats], dtype=np.float64)
        present = np.flatnonzero(~(np.isnan(lon_array) | np.isnan(lat_array)))
        points = shapely.points(lon_array[present], lat_array[present])
        distinct_days = {day: code for code, day in enumerate(dict.fromkeys(days))}
        day_codes = np.fromiter((distinct_days[day] for day in days), dtype=np.int64,
                                count=len(days))[present]
        points_of_set: dict[int, list[np.ndarray]] = {}
        for day, code in distinct_days.items():
            on_day = np.flatnonzero(day_codes == code)
            for set_id in self.chosen_set_ids(day, types):
                points_of_set.setdefault(set_id, []).append(on_day)
        positions, ranks = [], []
        for set_id, chunks in points_of_set.items():
            if set_id not in self._trees:
                continue
            tree, first_part = self._trees[set_id]
            which = np.concatenate(chunks) if len(chunks) > 1 else chunks[0]
            point_idx, part_idx = tree.query(points[which])  # bounding-box candidates
            part_idx = part_idx + first_part
            point_idx = which[point_idx]
            covered = shapely.covers(self._geoms[part_idx], points[point_idx])
            positions.append(present[point_idx[covered]])
            ranks.append(self._part_rank[part_idx[covered]])
        if not positions:
            return [[] for _ in range(len(lon_array))]
        return self._group_hits(np.concatenate(positions), np.concatenate(ranks), len(lon_array))

    def _group_hits(self, positions: np.ndarray, ranks: np.ndarray, count: int) -> list[list]:
        """One list per input position of its areas' hits, in (type, code) order, repeats dropped
        (a point on the edge between two parts of one area)."""
        keys = np.sort(positions.astype(np.int64) * len(self._hit_by_rank) + ranks)
        if len(keys):
            keys = keys[np.concatenate(([True], keys[1:] != keys[:-1]))]
        key_positions = keys // len(self._hit_by_rank) if len(self._hit_by_rank) else keys
        hits = self._hit_by_rank[keys % len(self._hit_by_rank)].tolist() if len(keys) else []
        starts = np.searchsorted(key_positions, np.arange(count + 1)).tolist()
        return [hits[start:end] for start, end in zip(starts[:-1], starts[1:], strict=True)]


@contextmanager
def _collector_paused():
    """Pause the cyclic garbage collector (nothing made here has cycles)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


_indexes: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # engine -> AreaIndex
_build_lock = threading.Lock()


def area_index_for(conn: Connection) -> AreaIndex:
    """The index of ``conn``'s database, rebuilt when its boundary token has changed.

    Costs one prepared one-row query per call; a rebuild reads every part (once per change).
    """
    with driver_cursor(conn) as cursor:
        cursor.execute(_TOKEN_SQL, prepare=True)
        token = str(cursor.fetchone()[0])
        index = _indexes.get(conn.engine)
        if index is not None and index.token == token:
            return index
        with _build_lock:
            index = _indexes.get(conn.engine)
            if index is None or index.token != token:
                cursor.execute(_CONTENT_SQL)
                index = _build(cursor.fetchall())
                _indexes[conn.engine] = index
    return index


def _build(rows: Sequence[tuple]) -> AreaIndex:
    token = str(rows[0][0]) if rows else ""
    sets = {row[1]: SetRow(*row[1:6]) for row in rows}
    areas = {row[6]: (row[1], row[7], row[8]) for row in rows if row[6] is not None}
    parts = [(row[6], row[1], row[9]) for row in rows if row[9] is not None]
    return AreaIndex(token, list(sets.values()), areas, parts)

"""`geo311 build reference`: observed address points and inferred house-number ranges.

Observations (:mod:`geo311.reference_sources`) are keyed by street (``street_key`` and
direction), house number and ZIP. Citations carry no ZIP and rarely a direction, so each takes
them from the nearest observation of the same street within :data:`INFER_M`. Repeated
observations of one address merge to the median point of their most trusted tier after dropping
those more than :data:`OUTLIER_M` from it; a whole address is dropped when it is far from all its
neighbouring numbers on the street while they agree with each other. The survivors become
``address_point`` rows of kind ``observed``; consecutive observed numbers on one street side
become ``street_range`` rows that :func:`interpolate_from_observed` interpolates along.

Distances use a local equirectangular projection at 34.05N (within 1% over LA County).
"""

from __future__ import annotations

import math
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from statistics import median
from typing import NamedTuple

from sqlalchemy import delete
from sqlalchemy.engine import Connection

from geo311 import address_parse
from geo311.db import load_sql
from geo311.ingest import copy_rows, progress
from geo311.models import AddressPoint, StreetRange
from geo311.reference_sources import Observation, ObservationSource

__all__ = [
    "SourceCounts",
    "BuildReport",
    "Neighbour",
    "Interpolated",
    "build_reference",
    "interpolate_from_observed",
    "OUTLIER_M",
    "INFER_M",
    "NEIGHBOUR_M",
    "RANGE_MAX_M",
]

#: Observations of one address farther than this from the group's median are dropped.
OUTLIER_M = 150.0
#: Observations this trusted (the City's own geocodes) place an address by themselves.
POSITION_TRUST = 0.8
#: A citation takes the direction and ZIP of the nearest same-street observation this close.
INFER_M = 1000.0
#: An address disagrees with a neighbouring number when farther than this plus
#: :data:`NEIGHBOUR_M_PER_NUMBER` per number between them.
NEIGHBOUR_M = 1000.0
NEIGHBOUR_M_PER_NUMBER = 5.0
#: Two consecutive observed numbers make a range only when this close, and no farther than
#: RANGE_BASE_M + RANGE_M_PER_NUMBER per number apart (LA blocks run about 1-3 m per number).
#: Measured on held-out 2020 records (scripts/bench_reference.py): capping ranges at 1 km keeps
#: the median interpolation error at 28 m but places 56% of the unseen numbers; 8 km, 30 m and
#: 70%. Long ranges get a low ``confidence`` instead (halved at 1 km).
RANGE_MAX_M = 8000.0
RANGE_BASE_M = 150.0
RANGE_M_PER_NUMBER = 15.0
#: Kinds whose ``source_id`` is a City SR number, the same request in files and the table.
_SR_KINDS = frozenset({"myla311", "service_request"})
#: Preference among kinds when naming a merged address's source.
_KIND_RANK = {"addresses": 0, "myla311": 1, "service_request": 2, "parking_citation": 3}
_SOURCE = "observed"
_LAT0, _LON0 = 34.05, -118.35
_M_PER_DEG_LAT, _M_PER_DEG_LON = 110_923.0, 92_335.0
_POINT_COLUMNS = (
    "source", "kind", "house_number", "pre_dir", "name", "suffix", "zip", "full_address",
    "street_key", "confidence", "observations", "attrs", "geom",
)  # fmt: skip
_RANGE_COLUMNS = (
    "source", "street_key", "pre_dir", "name", "suffix", "zip", "parity", "from_number",
    "to_number", "observations", "confidence", "length_m", "attrs", "geom",
)  # fmt: skip


@dataclass
class SourceCounts:
    """What one source gave the build."""

    name: str
    kind: str
    read: int = 0
    usable: int = 0
    held_out: int = 0  # rows whose id belongs to an excluded source
    duplicates: int = 0  # SR numbers already read from an earlier source
    outliers: int = 0  # observations dropped as outliers (alone or with their address)
    addresses: int = 0  # merged addresses this source contributed to
    ranges: int = 0  # ranges with an end this source contributed to
    skipped: dict[str, int] = field(default_factory=dict)


@dataclass
class BuildReport:
    """Counts of one build (written only when ``committed``)."""

    sources: list[SourceCounts] = field(default_factory=list)
    observations: int = 0
    addresses: int = 0
    observation_outliers: int = 0
    address_outliers: int = 0
    ranges: dict[str, int] = field(default_factory=dict)
    committed: bool = False
    seconds: float = 0.0

    def lines(self) -> list[str]:
        """The report as printed by the CLI: one line per source, then the totals."""
        out = [f"{'source':40} {'read':>8} {'usable':>8} {'held out':>8} {'dupes':>7} "
               f"{'addresses':>9} {'outliers':>8} {'ranges':>7}"]
        for s in self.sources:
            out.append(f"{s.name[:40]:40} {s.read:>8} {s.usable:>8} {s.held_out:>8} "
                       f"{s.duplicates:>7} {s.addresses:>9} {s.outliers:>8} {s.ranges:>7}")
        verb = "wrote" if self.committed else "would write (dry run; add --commit to write)"
        ranges = ", ".join(f"{k} {v}" for k, v in sorted(self.ranges.items()))
        out.append(
            f"{self.observations} observations -> {verb} {self.addresses} observed addresses "
            f"and {sum(self.ranges.values())} ranges ({ranges}); rejected "
            f"{self.observation_outliers} outlying observations and {self.address_outliers} "
            f"inconsistent addresses in {self.seconds:.1f}s"
        )
        return out


class Neighbour(NamedTuple):
    """An observed address point used to place a number."""

    house_number: int
    lon: float
    lat: float


class Interpolated(NamedTuple):
    """Where :func:`interpolate_from_observed` puts a number: (lon, lat, method, neighbours)."""

    lon: float
    lat: float
    method: str  # "observed" (that number was seen) or "interpolated" (between two seen numbers)
    neighbours: tuple[Neighbour, ...]  # (the point,) or (lower, higher)


def build_reference(conn: Connection, sources: Iterable[ObservationSource], *, commit: bool,
                    exclude: Sequence[ObservationSource] = ()) -> BuildReport:
    """Build observed address points and inferred ranges from sources, replacing the last build.

    :param conn: connection; with ``commit`` the rows are written in its transaction (the caller
        commits). Without it nothing is written, so the database is untouched.
    :param sources: the observation sources to read, in order (an SR number read twice counts
        once, from the first source).
    :param commit: write the result (delete the previous build's rows first).
    :param exclude: held-out sources: their rows' ids are withheld from every source read, so
        a held-out file's requests imported into ``service_request`` stay out too.
    :returns: the counts; ``report.committed`` says whether rows were written.
    :raises ValueError: if a source file has an unknown layout.
    :raises OSError: if a source file cannot be read.
    """
    started = time.perf_counter()
    report = BuildReport(committed=commit)
    held = {o.source_id for src in exclude for o in src.observations() if o.source_id}
    observations = _read(sources, held, report)
    groups = _merge(observations, report)
    _reject_inconsistent(groups, report)
    ranges = _infer_ranges(groups)
    _count(groups, ranges, report)
    if commit:
        _write(conn, groups, ranges)
    report.seconds = time.perf_counter() - started
    return report


def interpolate_from_observed(conn: Connection, house_number: int, street_key: str,
                              pre_dir: str | None, zip: str | None) -> Interpolated | None:
    """Place a house number from observed address points on the same street and direction.

    An observed point for the number itself wins; otherwise the number is interpolated linearly
    between the nearest lower and higher observed numbers of its street side (its parity), or
    of both sides when one side has no pair around it. No extrapolation past the last number.

    :param conn: connection to a database holding a reference build.
    :param house_number: e.g. ``356``.
    :param street_key: :func:`geo311.address_parse.street_key` of the street, e.g. ``"BERENDO ST"``.
    :param pre_dir: ``"N"``, ``"S"``, ``"E"``, ``"W"`` or ``None`` for any direction (rows of the
        same direction come first, then rows stored without one).
    :param zip: five-digit ZIP, preferred when several streets match; ``None`` for no preference.
    :returns: :class:`Interpolated` ``(lon, lat, method, neighbours)``, or ``None`` when the
        street has no observed number on both sides of it.
    """
    row = conn.execute(
        load_sql("interpolate_reference"),
        {"house_number": house_number, "street_key": street_key, "pre_dir": pre_dir, "zip": zip},
    ).one_or_none()
    if row is None:
        return None
    neighbours = [Neighbour(row.from_number, row.from_lon, row.from_lat)]
    if row.to_number is not None:
        neighbours.append(Neighbour(row.to_number, row.to_lon, row.to_lat))
    return Interpolated(row.lon, row.lat, row.method, tuple(neighbours))


# ---------------------------------------------------------------- private: reading and merging
@dataclass(slots=True)
class _Obs:
    street_key: str
    name: str
    suffix: str | None
    pre_dir: str | None
    number: int
    zip: str | None
    x: float
    y: float
    trust: float
    kind: str
    dataset: str
    observed_at: datetime | None
    inferred: bool = False


@dataclass(slots=True)
class _Group:
    key: tuple[str, str | None, int, str | None]
    members: list[_Obs]
    x: float = 0.0
    y: float = 0.0
    spread_m: float = 0.0
    confidence: float = 0.0

    @property
    def street(self) -> tuple[str, str | None]:
        return self.key[0], self.key[1]

    @property
    def number(self) -> int:
        return self.key[2]


def _read(sources: Iterable[ObservationSource], held: set[str],
          report: BuildReport) -> list[_Obs]:
    seen: set[str] = set()
    out: list[_Obs] = []
    for source in sources:
        counts = SourceCounts(source.name, source.kind)
        report.sources.append(counts)
        for obs in progress(source.observations(), None, f"read {source.name}"):
            if obs.source_id and obs.source_id in held:
                counts.held_out += 1
                continue
            if obs.source_id and obs.source in _SR_KINDS:
                if obs.source_id in seen:
                    counts.duplicates += 1
                    continue
                seen.add(obs.source_id)
            out.append(_normalise(obs))
        counts.read, counts.usable = source.stats.read, source.stats.usable
        counts.skipped = dict(source.stats.skipped)
    report.observations = len(out)
    return out


def _normalise(obs: Observation) -> _Obs:
    x, y = _xy(obs.lon, obs.lat)
    return _Obs(
        street_key=_street_key(obs.street_name, obs.suffix), name=obs.street_name,
        suffix=obs.suffix, pre_dir=obs.pre_dir, number=obs.house_number,
        zip=obs.zip[:5] if obs.zip else None, x=x, y=y, trust=obs.trust, kind=obs.source,
        dataset=obs.dataset or obs.source, observed_at=obs.observed_at,
    )


def _merge(observations: list[_Obs], report: BuildReport) -> list[_Group]:
    """Group by address, resolving ZIP-less observations against the others; settle each group."""
    keyed: dict[tuple, list[_Obs]] = defaultdict(list)
    partial: list[_Obs] = []
    for obs in observations:
        if obs.zip:
            keyed[(obs.street_key, obs.pre_dir, obs.number, obs.zip)].append(obs)
        else:
            partial.append(obs)
    _resolve(partial, keyed)
    for obs in partial:
        keyed[(obs.street_key, obs.pre_dir, obs.number, obs.zip)].append(obs)
    groups = []
    for key, members in progress(keyed.items(), len(keyed), "merge addresses"):
        group = _Group(key, members)
        if _settle(group, report):
            groups.append(group)
    return _merge_zip_splits(groups, report)


def _resolve(partial: list[_Obs], keyed: dict[tuple, list[_Obs]]) -> None:
    """Give each ZIP-less observation the direction and ZIP of the nearest same-street group."""
    by_street: dict[str, list[tuple[tuple, float, float]]] = defaultdict(list)
    by_name: dict[str, set[str]] = defaultdict(set)
    for key, members in keyed.items():
        by_street[key[0]].append((key, median(m.x for m in members), median(m.y for m in members)))
        by_name[members[0].name].add(key[0])
    for obs in partial:
        streets = {obs.street_key} if obs.suffix else {obs.street_key, *by_name.get(obs.name, ())}
        best, best_d = None, INFER_M
        for street in streets:
            for key, x, y in by_street.get(street, ()):
                if obs.pre_dir and key[1] != obs.pre_dir:
                    continue
                d = math.hypot(obs.x - x, obs.y - y)
                if key[2] == obs.number and d <= OUTLIER_M:
                    best, best_d = key, -1.0  # the same address: join it
                    break
                if d < best_d:
                    best, best_d = key, d
            if best_d < 0:
                break
        if best is not None:
            obs.street_key, obs.pre_dir, obs.zip, obs.inferred = best[0], best[1], best[3], True


def _settle(group: _Group, report: BuildReport) -> bool:
    """Place an address; False when nothing trustworthy is left.

    The point is the median of the most trusted tier present (City geocodes repeat to the
    centimetre, while citations scatter tens of metres around them), after dropping its members
    farther than :data:`OUTLIER_M` from it; other observations within that distance confirm it
    (they count in ``observations`` and the confidence) and the rest are outliers.
    """
    top = max(m.trust >= POSITION_TRUST for m in group.members)
    anchors = [m for m in group.members if (m.trust >= POSITION_TRUST) == top]
    while True:
        x, y = median(m.x for m in anchors), median(m.y for m in anchors)
        far = max(anchors, key=lambda m: (math.hypot(m.x - x, m.y - y), -m.trust))
        if math.hypot(far.x - x, far.y - y) <= OUTLIER_M or len(anchors) == 1:
            break
        if len(anchors) == 2:  # two disagreeing observations: believe the more trusted one
            low, high = sorted(anchors, key=lambda m: m.trust)
            if low.trust == high.trust:
                report.observation_outliers += len(group.members)
                _note_outliers(group.members, report)
                return False
            far = low
        anchors.remove(far)
    kept = [m for m in group.members if math.hypot(m.x - x, m.y - y) <= OUTLIER_M]
    report.observation_outliers += len(group.members) - len(kept)
    _note_outliers([m for m in group.members if m not in kept], report)
    group.members, group.x, group.y = kept, x, y
    # spread of the members that placed it: citations scatter tens of metres as a rule
    group.spread_m = max(math.hypot(m.x - x, m.y - y) for m in anchors)
    doubt = 1.0
    for m in kept:
        doubt *= 1.0 - m.trust
    spread_penalty = 1.0 - min(group.spread_m, OUTLIER_M) / (2 * OUTLIER_M)
    group.confidence = round(min(0.99, 1.0 - doubt) * spread_penalty, 3)
    return True


def _merge_zip_splits(groups: list[_Group], report: BuildReport) -> list[_Group]:
    """One address seen under two ZIPs at one place (a ZIP typo) is one address."""
    by_address: dict[tuple, list[_Group]] = defaultdict(list)
    for group in groups:
        by_address[group.key[:3]].append(group)
    out: list[_Group] = []
    for same in by_address.values():
        same.sort(key=lambda g: -len(g.members))
        while same:
            head, rest = same[0], []
            merged = list(head.members)
            for other in same[1:]:
                if math.hypot(other.x - head.x, other.y - head.y) <= OUTLIER_M:
                    merged += other.members
                else:
                    rest.append(other)
            if len(merged) > len(head.members):
                zips = Counter(m.zip for m in merged if m.zip).most_common(1)
                head = _Group((*head.key[:3], zips[0][0] if zips else None), merged)
                if not _settle(head, report):
                    same = rest
                    continue
            out.append(head)
            same = rest
    return out


def _reject_inconsistent(groups: list[_Group], report: BuildReport) -> None:
    """Drop addresses far from all their neighbouring numbers (two each side) that agree."""
    by_street: dict[tuple, list[_Group]] = defaultdict(list)
    for group in groups:
        by_street[group.street].append(group)
    rejected: set[int] = set()
    for street in by_street.values():
        if len(street) < 3:
            continue
        street.sort(key=lambda g: g.number)
        for i, group in enumerate(street):
            zips = {group.key[3], None}
            near = [g for g in street[max(0, i - 6):i + 7]
                    if g.number != group.number and (g.key[3] in zips or group.key[3] is None)]
            below = [g for g in near if g.number < group.number][-2:]
            neighbours = below + [g for g in near if g.number > group.number][:2]
            if len(neighbours) < 2 or any(_agree(group, g) for g in neighbours):
                continue
            pairs = [(a, b) for j, a in enumerate(neighbours) for b in neighbours[j + 1:]]
            if any(_agree(a, b) for a, b in pairs):
                rejected.add(id(group))
    if rejected:
        kept = [g for g in groups if id(g) not in rejected]
        for group in groups:
            if id(group) in rejected:
                report.address_outliers += 1
                report.observation_outliers += len(group.members)
                _note_outliers(group.members, report)
        groups[:] = kept


def _agree(a: _Group, b: _Group) -> bool:
    limit = NEIGHBOUR_M + NEIGHBOUR_M_PER_NUMBER * abs(a.number - b.number)
    return math.hypot(a.x - b.x, a.y - b.y) <= limit


def _infer_ranges(groups: list[_Group]) -> list[tuple[str, _Group, _Group]]:
    """Consecutive observed numbers per street side, chained so same-named streets stay apart."""
    by_street: dict[tuple, list[_Group]] = defaultdict(list)
    for group in groups:
        by_street[group.street].append(group)
    ranges: list[tuple[str, _Group, _Group]] = []
    for street in by_street.values():
        street.sort(key=lambda g: (g.number, g.key[3] or ""))
        sides = {"all": street, "odd": [g for g in street if g.number % 2],
                 "even": [g for g in street if not g.number % 2]}
        for parity, members in sides.items():
            chains: list[list[_Group]] = []
            for group in members:
                best, best_d = None, math.inf
                for chain in chains:
                    last = chain[-1]
                    d = math.hypot(group.x - last.x, group.y - last.y)
                    gap = group.number - last.number
                    plausible = d <= min(RANGE_MAX_M, RANGE_BASE_M + RANGE_M_PER_NUMBER * gap)
                    if gap > 0 and plausible and d < best_d:
                        best, best_d = chain, d
                if best is None:
                    chains.append([group])
                else:
                    ranges.append((parity, best[-1], group))
                    best.append(group)
    return ranges


def _count(groups: list[_Group], ranges: list[tuple[str, _Group, _Group]],
           report: BuildReport) -> None:
    report.addresses = len(groups)
    per_dataset: Counter[str] = Counter()
    for group in groups:
        per_dataset.update({m.dataset for m in group.members})
    per_range: Counter[str] = Counter()
    for parity, a, b in ranges:
        report.ranges[parity] = report.ranges.get(parity, 0) + 1
        per_range.update({m.dataset for m in a.members + b.members})
    for counts in report.sources:
        counts.addresses, counts.ranges = per_dataset[counts.name], per_range[counts.name]


def _note_outliers(members: Iterable[_Obs], report: BuildReport) -> None:
    by_name = {s.name: s for s in report.sources}
    for m in members:
        if m.dataset in by_name:
            by_name[m.dataset].outliers += 1


# ---------------------------------------------------------------- private: writing
def _write(conn: Connection, groups: list[_Group],
           ranges: list[tuple[str, _Group, _Group]]) -> None:
    conn.execute(delete(AddressPoint).where(AddressPoint.kind == "observed",
                                            AddressPoint.source.like(f"{_SOURCE}:%")))
    conn.execute(delete(StreetRange).where(StreetRange.source == _SOURCE))
    copy_rows(conn, "address_point", _POINT_COLUMNS,
              progress((_point_row(g) for g in groups), len(groups), "write addresses"))
    copy_rows(conn, "street_range", _RANGE_COLUMNS,
              progress((_range_row(*r) for r in ranges), len(ranges), "write ranges"))


def _point_row(group: _Group) -> tuple:
    street_key, pre_dir, number, zip_code = group.key
    first = group.members[0]
    kinds = sorted({m.kind for m in group.members}, key=lambda k: _KIND_RANK.get(k, 9))
    seen = [m.observed_at for m in group.members if m.observed_at is not None]
    label = " ".join(p for p in (str(number), pre_dir, first.name, first.suffix) if p)
    attrs = {
        "observations": len(group.members),
        "spread_m": round(group.spread_m, 1),
        "sources": dict(Counter(m.dataset for m in group.members)),
        "inferred_direction_zip": any(m.inferred for m in group.members),
        "first_seen": min(seen).isoformat() if seen else None,
        "last_seen": max(seen).isoformat() if seen else None,
    }
    return (
        f"{_SOURCE}:{kinds[0]}", "observed", number, pre_dir, first.name, first.suffix, zip_code,
        f"{label}, {zip_code}" if zip_code else label, street_key, group.confidence,
        len(group.members), attrs, f"SRID=4326;POINT({_coords(group.x, group.y)})",
    )


def _range_row(parity: str, a: _Group, b: _Group) -> tuple:
    length_m = math.hypot(b.x - a.x, b.y - a.y)
    zip_code = a.key[3] if a.key[3] == b.key[3] else None
    confidence = min(a.confidence, b.confidence) / (1.0 + length_m / 1000.0)
    first = a.members[0]
    line = f"SRID=4326;LINESTRING({_coords(a.x, a.y)}, {_coords(b.x, b.y)})"
    attrs = {"from_zip": a.key[3], "to_zip": b.key[3]}
    return (
        _SOURCE, a.key[0], a.key[1], first.name, first.suffix, zip_code, parity, a.number,
        b.number, len(a.members) + len(b.members), round(confidence, 3), round(length_m, 1),
        attrs, line,
    )


@lru_cache(maxsize=65536)
def _street_key(name: str, suffix: str | None) -> str:
    # street_key folds Unicode (slow); a build has far fewer distinct streets than observations
    return address_parse.street_key(name, suffix)


def _coords(x: float, y: float) -> str:
    """``lon lat`` for EWKT, which COPY parses: faster here than building EWKB with shapely."""
    lon, lat = _lonlat(x, y)
    return f"{lon!r} {lat!r}"


def _xy(lon: float, lat: float) -> tuple[float, float]:
    return (lon - _LON0) * _M_PER_DEG_LON, (lat - _LAT0) * _M_PER_DEG_LAT


def _lonlat(x: float, y: float) -> tuple[float, float]:
    return round(_LON0 + x / _M_PER_DEG_LON, 7), round(_LAT0 + y / _M_PER_DEG_LAT, 7)

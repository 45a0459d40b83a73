"""Does every doubling of observed addresses improve placing held-out MyLA311 addresses?

Builds the reference from 1/8, 1/4, 1/2 and all of the observations in the build files (nested
random subsets, fixed seed), each in a transaction that is rolled back, and places every
verified address of the held-out file with ``interpolate_from_observed``: the share found
exactly, and for the rest the error of interpolating between the nearest lower and higher
observed numbers of the same street and direction, against the City's own point.

    .venv/bin/python scripts/bench_reference.py [--database-url URL] [--holdout FILE] [FILE ...]

The database needs the schema (``geo311 db up``); nothing is left in it. Requests stored in
``service_request`` are not read: they may hold the held-out file.
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

from geo311 import create_app
from geo311.address_parse import street_key
from geo311.db import get_engine
from geo311.reference_build import build_reference, interpolate_from_observed
from geo311.reference_sources import Observation, SourceStats, source_for_path

ROOT = Path(__file__).resolve().parents[1]
LA = ROOT / "data" / "la"
BUILD_FILES = [
    LA / "myla311" / "myla311_2018_sample_10k_a.csv",
    LA / "myla311" / "myla311_2022_09_hfla_api_20k.csv",
    LA / "address_points" / "ladot_parking_citations_2020_07_sample.csv.gz",
]
HOLDOUT = LA / "myla311" / "myla311_2020_sample_10k.csv"
FRACTIONS = (0.125, 0.25, 0.5, 1.0)


class ListSource:
    """An :class:`~geo311.reference_sources.ObservationSource` over observations already read."""

    path = None

    def __init__(self, name: str, kind: str, observations: list[Observation]) -> None:
        self.name, self.kind, self._observations = name, kind, observations
        self.stats = SourceStats()

    def observations(self) -> Iterator[Observation]:
        self.stats = SourceStats(read=len(self._observations), usable=len(self._observations))
        yield from self._observations


def distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(
        math.radians(lon2 - lon1) / 2) ** 2
    return 2 * 6_371_008.8 * math.asin(math.sqrt(a))


def evaluate(conn, holdout: list[Observation]) -> dict[str, float]:
    exact_err: list[float] = []
    interp_err: list[float] = []
    for obs in holdout:
        found = interpolate_from_observed(conn, obs.house_number,
                                          street_key(obs.street_name, obs.suffix),
                                          obs.pre_dir, obs.zip)
        if found is None:
            continue
        error = distance_m(found.lon, found.lat, obs.lon, obs.lat)
        (exact_err if found.method == "observed" else interp_err).append(error)
    n = len(holdout)
    rest = n - len(exact_err)
    placed = exact_err + interp_err
    return {
        "exact": len(exact_err) / n,
        "exact_median_m": statistics.median(exact_err) if exact_err else math.nan,
        "interp_share_of_rest": len(interp_err) / rest if rest else math.nan,
        "interp_median_m": statistics.median(interp_err) if interp_err else math.nan,
        "interp_p75_m": _quantile(interp_err, 0.75),
        "interp_within_30": _share(interp_err, 30),
        "interp_within_100": _share(interp_err, 100),
        "all_within_30": sum(e <= 30 for e in placed) / n,
        "all_within_100": sum(e <= 100 for e in placed) / n,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path, default=BUILD_FILES)
    parser.add_argument("--holdout", type=Path, default=HOLDOUT)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--seed", type=int, default=311)
    args = parser.parse_args()
    if args.holdout.resolve() in {f.resolve() for f in args.files}:
        parser.error("the held-out file cannot also be a build file")
    app = create_app({"DATABASE_URL": args.database_url} if args.database_url else None)
    pool: list[tuple[str, str, Observation]] = []
    for path in args.files:
        source = source_for_path(path)
        pool += [(source.name, source.kind, o) for o in source.observations()]
    holdout_source = source_for_path(args.holdout)
    build_ids = {o.source_id for _n, _k, o in pool if o.source_id}
    holdout = [o for o in holdout_source.observations() if o.source_id not in build_ids]
    random.Random(args.seed).shuffle(pool)
    print(f"build pool: {len(pool)} observations from {len(args.files)} files; held out: "
          f"{len(holdout)} verified addresses of {args.holdout.name}")
    header = (f"{'fraction':>8} {'obs':>6} {'addresses':>9} {'ranges':>7} {'build s':>7} "
              f"{'exact':>6} {'exact med m':>11} {'interp/rest':>11} {'interp med m':>12} "
              f"{'p75 m':>7} "
              f"{'<=30m':>6} {'<=100m':>6} {'all<=30m':>8} {'all<=100m':>9}")
    print(header)
    engine = get_engine(app)
    for fraction in FRACTIONS:
        chosen = pool[: int(len(pool) * fraction)]
        by_source: dict[tuple[str, str], list[Observation]] = defaultdict(list)
        for name, kind, obs in chosen:
            by_source[(name, kind)].append(obs)
        sources = [ListSource(n, k, obs) for (n, k), obs in sorted(by_source.items())]
        with engine.connect() as conn, conn.begin() as transaction:
            started = time.perf_counter()
            report = build_reference(conn, sources, commit=True)
            built = time.perf_counter() - started
            m = evaluate(conn, holdout)
            transaction.rollback()
        print(f"{fraction:>8.3f} {len(chosen):>6} {report.addresses:>9} "
              f"{sum(report.ranges.values()):>7} {built:>7.1f} {m['exact']:>6.1%} "
              f"{m['exact_median_m']:>11.1f} {m['interp_share_of_rest']:>11.1%} "
              f"{m['interp_median_m']:>12.1f} "
              f"{m['interp_p75_m']:>7.1f} {m['interp_within_30']:>6.1%} "
              f"{m['interp_within_100']:>6.1%} {m['all_within_30']:>8.1%} "
              f"{m['all_within_100']:>9.1%}")
    engine.dispose()
    return 0


def _share(errors: list[float], limit_m: float) -> float:
    return sum(e <= limit_m for e in errors) / len(errors) if errors else math.nan


def _quantile(errors: list[float], q: float) -> float:
    if len(errors) < 2:
        return errors[0] if errors else math.nan
    return statistics.quantiles(errors, n=100)[int(q * 100) - 1]


if __name__ == "__main__":
    sys.exit(main())

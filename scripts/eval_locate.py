#!/usr/bin/env python3
"""Evaluate locate on MyLA311 records that were NOT used to build the reference (run by hand).

Holds one file out (default: the 2020 sample), builds the observed reference from every other source
(inside a transaction that is rolled back afterwards, so the database is left as it was), then for each
held-out record with an address and the City's own point:
- forward: locate the address text, distance to the City's point (share within 30 m / 100 m, median
  error, share with no answer);
- reverse: locate the City's point, is the record's street named, is the house number within 20;
- calibration: over pairs of (right, wrong) forward answers (right = within 30 m), the share where the
  right one scores higher (ties count half).
City-wide and for Koreatown and Venice (LA Times neighbourhoods) separately.

Usage: .venv/bin/python scripts/eval_locate.py [--holdout data/la/myla311/myla311_2020_sample_10k.csv]
       [--limit N] [--dev] [--dump FILE.csv]
--dev is the development holdout every parameter is chosen on: the 2018 sample held out, the
reference built from the 2022 sample and the citations only (the 2020 sample is withheld too, so
the reported 2020 table stays unseen). --dump writes one row per record (forward features, score,
error) for fitting the score model.
Needs the database of `make run` (or DATABASE_URL) with the reference data loaded.
"""

from __future__ import annotations

import argparse
import bisect
import csv
import math
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path

from geo311 import create_app
from geo311.address_parse import parse_query, street_key
from geo311.boundaries import areas_at_points
from geo311.db import get_engine
from geo311.geocode import refresh_street_names
from geo311.locate import locate_point, locate_text
from geo311.myla311 import MyLA311Record, iter_records
from geo311.reference_build import build_reference
from geo311.reference_sources import MyLA311FileSource, default_sources

NEIGHBOURHOODS = {"KOREATOWN": "Koreatown", "VENICE": "Venice"}
DEV_HOLDOUT = "data/la/myla311/myla311_2018_sample_10k_a.csv"
DEV_BUILD = "data/la/myla311/myla311_2022_09_hfla_api_20k.csv"


class _NoAnswer:
    found = False


_NO_ANSWER = _NoAnswer()


class _Dump:
    """One CSV row per record: the forward answer's features, score and error."""

    def __init__(self, path: str) -> None:
        self.file = open(path, "w", newline="")  # noqa: SIM115
        self.out = csv.writer(self.file)
        self.out.writerow(["sr", "hood", "text", "precision", "score", "reasons", "source",
                           "n_candidates", "second_m", "second_score", "features", "error_m",
                           "lon", "lat", "rev_wanted", "rev_got", "rev_precision", "rev_reasons"])

    def write(self, record: MyLA311Record, forward, hoods: list[str], reverse, wanted: str,
              got: str) -> None:
        tail = [record.lon, record.lat, wanted, got, reverse.precision, "|".join(reverse.reasons)]
        if not forward.found:
            self.out.writerow([record.sr_number, "|".join(hoods), record_text(record), "none", 0,
                               "", "", 0, "", "", "", "", *tail])
            return
        best, *rest = forward.candidates or [None]
        second = rest[0] if rest else None
        self.out.writerow([
            record.sr_number, "|".join(hoods), record_text(record), forward.precision,
            forward.score,
            "|".join(forward.reasons), forward.address.source if forward.address else "",
            len(forward.candidates),
            f"{metres(best.lon, best.lat, second.lon, second.lat):.1f}" if second and best else "",
            second.extra.get("rung_score", second.score) if second else "",
            repr(best.extra) if best is not None else "",
            f"{metres(forward.lon, forward.lat, record.lon, record.lat):.1f}", *tail])

    def close(self) -> None:
        self.file.close()


@dataclass
class Tally:
    forward_errors: list[float] = field(default_factory=list)
    forward_none: int = 0
    reverse_street: int = 0
    reverse_number: int = 0
    reverse_total: int = 0
    scored: list[tuple[int, bool]] = field(default_factory=list)

    def row(self, name: str) -> str:
        n = len(self.forward_errors) + self.forward_none
        if n == 0:
            return f"{name:<10} (no records)"
        within = lambda m: sum(e <= m for e in self.forward_errors) / n  # noqa: E731
        median = statistics.median(self.forward_errors) if self.forward_errors else float("nan")
        return (f"{name:<10} {n:>6} {within(30):>8.1%} {within(100):>8.1%} {median:>9.1f} "
                f"{self.forward_none / n:>8.1%} {self.reverse_street / max(1, self.reverse_total):>9.1%} "
                f"{self.reverse_number / max(1, self.reverse_total):>9.1%} {ordered_pairs(self.scored):>9.1%}")


def ordered_pairs(scored: list[tuple[int, bool]]) -> float:
    """Share of (right, wrong) pairs where the right answer scores higher (ties count half)."""
    wrong = sorted(score for score, ok in scored if not ok)
    right = [score for score, ok in scored if ok]
    if not wrong or not right:
        return float("nan")
    good = 0.0
    for score in right:
        below = bisect.bisect_left(wrong, score)
        ties = bisect.bisect_right(wrong, score) - below
        good += below + ties / 2
    return good / (len(right) * len(wrong))


def metres(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    dx = (lon2 - lon1) * 111_320 * math.cos(math.radians((lat1 + lat2) / 2))
    dy = (lat2 - lat1) * 110_574
    return math.hypot(dx, dy)


def record_text(r: MyLA311Record) -> str | None:
    if r.address:
        return r.address
    if r.house_number and r.street_name:
        parts = [r.house_number, r.direction, r.street_name, r.suffix]
        return " ".join(p for p in parts if p) + (f", {r.zip}" if r.zip else "")
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--holdout", default="data/la/myla311/myla311_2020_sample_10k.csv")
    parser.add_argument("--limit", type=int, default=0, help="evaluate at most N records")
    parser.add_argument("--dev", action="store_true",
                        help="the development holdout: 2018 out, built from 2022 and citations")
    parser.add_argument("--dump", help="write per-record forward features and errors to this CSV")
    parser.add_argument("--reverse-only", action="store_true", help="skip the forward half")
    args = parser.parse_args()
    holdout = Path(DEV_HOLDOUT if args.dev else args.holdout)
    app = create_app()
    with app.app_context(), get_engine().connect() as conn:
        transaction = conn.begin()
        started = time.perf_counter()
        withheld = [holdout.resolve()]
        if args.dev:  # every MyLA311 file but the 2022 one stays out of the dev build
            withheld = [p.resolve() for p in holdout.parent.glob("myla311_*")
                        if p.name != Path(DEV_BUILD).name]
        sources = [s for s in default_sources(app.config["DATA_DIR"], conn)
                   if getattr(s, "path", None) is None or Path(s.path).resolve() not in withheld]
        report = build_reference(conn, sources, commit=True,
                                 exclude=[MyLA311FileSource(p) for p in withheld])
        refresh_street_names(conn)
        print(f"reference built without {holdout.name} in {time.perf_counter() - started:.0f}s")
        for line in report.lines():
            print("  " + line)
        records = [r for r in iter_records(holdout)
                   if isinstance(r, MyLA311Record) and r.lon is not None and record_text(r)]
        if args.limit:
            records = records[: args.limit]
        hoods = areas_at_points(conn, [(r.lon, r.lat) for r in records], types=["NEIGHBORHOOD"])
        tallies = {"city-wide": Tally(), **{name: Tally() for name in NEIGHBOURHOODS.values()}}
        started = time.perf_counter()
        dump = _Dump(args.dump) if args.dump else None
        for record, hood in zip(records, hoods, strict=True):
            groups = [tallies["city-wide"]] + [
                tallies[NEIGHBOURHOODS[h.code]] for h in hood if h.code in NEIGHBOURHOODS]
            forward = (_NO_ANSWER if args.reverse_only
                       else locate_text(conn, record_text(record) or ""))
            reverse = locate_point(conn, record.lon, record.lat)
            wanted = typed_street_key(record_text(record) or "")
            got = typed_street_key(reverse.address.street or "") if reverse.address else ""
            number_ok = _number_close(reverse, record.house_number)
            for tally in groups:
                if forward.found:
                    error = metres(forward.lon, forward.lat, record.lon, record.lat)
                    tally.forward_errors.append(error)
                    tally.scored.append((forward.score, error <= 30))
                else:
                    tally.forward_none += 1
                tally.reverse_total += 1
                tally.reverse_street += bool(wanted) and got == wanted
                tally.reverse_number += number_ok
            if dump is not None:
                dump.write(record, forward, [h.code for h in hood], reverse, wanted, got)
        seconds = time.perf_counter() - started
        transaction.rollback()
        if dump is not None:
            dump.close()
    print(f"\nheld out: {holdout.name}; {len(records):,} records; {seconds:.0f}s "
          f"({2 * len(records) / seconds:,.0f} locates/s)")
    print(f"{'area':<10} {'n':>6} {'fwd<=30m':>8} {'fwd<=100m':>8} {'median m':>9} {'no answer':>8} "
          f"{'rev street':>9} {'rev no±20':>9} {'pairs ok':>9}")
    for name, tally in tallies.items():
        print(tally.row(name))


def typed_street_key(text: str) -> str:
    """The street key of an address or street as text (direction ignored)."""
    parsed = parse_query(text)
    if parsed.street is None:
        return ""
    return street_key(parsed.street.name, parsed.street.suffix)


def _number_close(result, house_number: str | None) -> bool:
    if result.address is None or not result.address.house_number or not house_number:
        return False
    try:
        return abs(int(result.address.house_number.split()[0]) - int(house_number)) <= 20
    except ValueError:
        return False


if __name__ == "__main__":
    main()

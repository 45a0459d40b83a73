"""Data check: our districts at each record's date agree with the City's own CD/NC labels.

Runs over the MyLA311 samples shipped in data/la/myla311 (the same files as ../shared/data/la).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from geo311.boundaries import areas_at_points
from geo311.myla311 import MyLA311Record, iter_records

MYLA311 = Path(__file__).resolve().parents[2] / "data" / "la" / "myla311"


def agreement(conn, filename: str) -> tuple[float, int, float, int]:
    records = [
        r for r in iter_records(MYLA311 / filename)
        if isinstance(r, MyLA311Record) and r.lon is not None and r.created_at is not None
    ]
    hits = areas_at_points(
        conn, [(r.lon, r.lat) for r in records], [r.created_at.date() for r in records],
        types=["CD", "NC"],
    )
    cd_total = cd_agree = nc_total = nc_agree = 0
    for record, areas in zip(records, hits, strict=True):
        if record.cd:
            cd_total += 1
            cd_agree += record.cd in {a.code for a in areas if a.type == "CD"}
        if record.nc:
            nc_total += 1
            nc_agree += record.nc in {a.code for a in areas if a.type == "NC"}
    return cd_agree / cd_total, cd_total, nc_agree / nc_total, nc_total


@pytest.mark.slow
@pytest.mark.parametrize(
    "filename", ["myla311_2018_sample_10k_a.csv", "myla311_2020_sample_10k.csv"]
)
def test_districts_at_request_date_agree_with_city_labels(la_conn, filename):
    cd_share, cd_total, nc_share, nc_total = agreement(la_conn, filename)
    print(f"\n{filename}: CD agreement {cd_share:.2%} of {cd_total}, "
          f"NC agreement {nc_share:.2%} of {nc_total}")
    assert cd_share >= 0.995
    assert nc_share >= 0.98


@pytest.mark.slow
def test_2018_records_do_not_match_2021_districts(la_conn):
    """The known quirk: 2017-2020 records carry the 2012 districts, so the date matters."""
    records = [
        r for r in iter_records(MYLA311 / "myla311_2018_sample_10k_a.csv")
        if isinstance(r, MyLA311Record) and r.lon is not None and r.cd
    ][:2000]
    from datetime import date

    hits = areas_at_points(la_conn, [(r.lon, r.lat) for r in records], date(2024, 1, 1),
                           types=["CD"])
    share = sum(r.cd in {a.code for a in h} for r, h in zip(records, hits, strict=True)) / len(records)
    assert share < 0.97

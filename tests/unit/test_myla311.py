"""Tests for geo311.myla311: every export layout, broken rows, format detection, streaming."""

from __future__ import annotations

import gzip
import json
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest

from geo311 import myla311
from geo311.myla311 import (
    REQUEST_TYPES,
    MyLA311Record,
    RejectedRow,
    detect_format,
    iter_records,
)

LA_DATA = Path(__file__).parents[2].parent / "shared/data/la"
MYLA311 = LA_DATA / "myla311"
BROKEN = Path(__file__).parents[1] / "fixtures/myla311_broken.csv"
PST = timedelta(hours=-8)
PDT = timedelta(hours=-7)


def _split(path: Path) -> tuple[list[MyLA311Record], list[RejectedRow]]:
    records: list[MyLA311Record] = []
    rejects: list[RejectedRow] = []
    for item in iter_records(path):
        if isinstance(item, RejectedRow):
            rejects.append(item)
        else:
            records.append(item)
    return records, rejects


def _shared(name: str) -> Path:
    path = MYLA311 / name
    if not path.exists():
        pytest.skip(f"shared LA data not available: {path}")
    return path


# --- the four shared files -------------------------------------------------------------------


def test_2018_camelcase_export_parses_every_row() -> None:
    records, rejects = _split(_shared("myla311_2018_sample_10k_a.csv"))
    assert (len(records), len(rejects)) == (10_000, 0)
    first = records[0]
    assert first.line_no == 2
    assert first.sr_number == "1-870704814"
    assert first.request_type == "Bulky Items"
    assert first.created_at is not None and first.created_at.utcoffset() == PST
    assert first.created_at.replace(tzinfo=None).isoformat() == "2018-01-01T00:00:09"
    assert first.closed_at is not None and first.closed_at.hour == 10
    assert (first.status, first.owner, first.source) == ("Closed", "BOS", "Mobile App")
    assert (first.anonymous, first.address_verified, first.approximate_address) == (
        True,
        True,
        None,
    )
    assert (first.lon, first.lat) == (-118.294017712, 34.0676390557)
    assert (first.cd, first.nc, first.zip) == ("10", "55", "90020")
    assert first.nc_name == "WILSHIRE CENTER - KOREATOWN NC"
    assert first.agency == "Sanitation Bureau"
    assert first.raw["SRNumber"] == "1-870704814"
    assert len({first, records[0]}) == 1  # hashable despite the read-only raw mapping
    assert all(r.created_at is not None and r.created_at.tzinfo is not None for r in records)
    # 1,102 rows have no geocode; none is outside the LA County box.
    assert sum(r.lon is None for r in records) == 1102
    assert {r.request_type for r in records} <= set(REQUEST_TYPES)


def test_2020_lowercase_export_parses_every_row() -> None:
    records, rejects = _split(_shared("myla311_2020_sample_10k.csv"))
    assert (len(records), len(rejects)) == (10_000, 0)
    first = records[0]
    assert first.sr_number == "1-1523590121"
    assert first.request_type == "Illegal Dumping Pickup"
    assert first.created_at is not None and first.created_at.utcoffset() == PST
    assert (first.created_at.hour, first.created_at.minute) == (0, 5)
    assert (first.cd, first.nc, first.assign_to) == ("6", "19", "WV")
    assert (first.lon, first.lat) == (-118.4994716, 34.19402846)
    assert Counter(r.status for r in records)["Open"] == 16
    assert sum("unrecognised AddressVerified 'M'" in r.notes for r in records) == 6


def test_hfla_api_extract_maps_types_councils_and_agencies() -> None:
    records, rejects = _split(_shared("myla311_2022_09_hfla_api_20k.csv"))
    assert (len(records), len(rejects)) == (20_000, 0)
    first = records[0]
    assert first.sr_number == "1-2500995771"
    assert first.request_type == "Illegal Dumping Pickup"  # HfLA typeName "Illegal Dumping"
    assert first.agency == "Sanitation Bureau"
    assert first.source == "Phone Call"
    # councilId 66 is Hack for LA's id; the City's NC_ID for Panorama City is 100.
    assert (first.nc, first.nc_name) == ("100", "Panorama City")
    assert first.zip == "91402"
    assert first.closed_at is None
    assert first.created_at is not None and first.created_at.utcoffset() == PDT
    assert {r.request_type for r in records} <= set(REQUEST_TYPES)
    assert all(r.created_at is not None for r in records)
    no_council = [r for r in records if r.raw["councilId"] == "0"]
    assert len(no_council) == 219 and all(r.nc is None for r in no_council)
    assert all(r.nc is not None for r in records if r.raw["councilId"] != "0")


def test_open_requests_json_gz_streams_array() -> None:
    records, rejects = _split(_shared("open_requests_2020_07.json.gz"))
    assert (len(records), len(rejects)) == (27_166, 0)
    first = records[0]
    assert (first.line_no, first.sr_number, first.request_type) == (
        1,
        "1-1417952631",
        "Graffiti Removal",
    )
    assert (first.lon, first.lat) == (-118.2466794, 34.02745262)
    assert first.created_at is None
    assert records[-1].line_no == 27_166


# --- broken rows -------------------------------------------------------------------------------


def test_broken_csv_rejects_bad_rows_with_physical_line_numbers() -> None:
    records, rejects = _split(BROKEN)
    assert [(r.line_no, r.reason) for r in rejects] == [
        (3, "missing SRNumber"),
        (4, "unparseable CreatedDate '13/45/2018 10:00:00 AM'"),
        (5, "wrong number of fields (expected 15, got 5)"),
        (12, "wrong number of fields (expected 15, got 4)"),
    ]
    assert rejects[0].raw.startswith("Closed,,Graffiti Removal,")
    assert [r.line_no for r in records] == [2, 6, 8, 9, 10]


def test_broken_csv_normalises_codes_and_times() -> None:
    good = _split(BROKEN)[0][0]
    assert (good.cd, good.nc) == ("10", "55")  # "10.0", "55.0" in the file
    assert good.created_at is not None and good.created_at.hour == 12  # 12:30 PM
    assert good.notes == ()


def test_quoted_newline_keeps_row_and_next_line_number() -> None:
    records = {r.sr_number: r for r in _split(BROKEN)[0]}
    row = records["1-100000005"]
    assert row.line_no == 6
    assert row.address == "1200 W 7TH ST\nNEAR THE ALLEY, 90017"
    assert row.created_at is not None and row.created_at.utcoffset() == PDT  # ISO, summer
    assert records["1-100000006"].line_no == 8


def test_swapped_and_zero_coordinates_are_dropped_with_notes() -> None:
    records = {r.sr_number: r for r in _split(BROKEN)[0]}
    swapped = records["1-100000006"]
    assert (swapped.lon, swapped.lat) == (None, None)
    assert any("looks swapped" in note for note in swapped.notes)
    zero = records["1-100000007"]
    assert (zero.lon, zero.lat, zero.nc, zero.address_verified) == (None, None, None, None)
    assert "zero coordinates (0, 0)" in zero.notes
    assert zero.zip == "90003"  # ZipCode 0, recovered from the address


def test_bad_optional_date_is_a_note_and_location_is_a_fallback() -> None:
    row = {r.sr_number: r for r in _split(BROKEN)[0]}["1-100000008"]
    assert row.closed_at is None
    assert "unparseable ClosedDate 'not a date'" in row.notes
    assert (row.lon, row.lat) == (-118.190311778, 34.1162764252)  # from "(lat, lon)"


def test_gzipped_csv_gives_same_results(tmp_path: Path) -> None:
    target = tmp_path / "export.csv.gz"
    target.write_bytes(gzip.compress(BROKEN.read_bytes()))
    assert list(iter_records(target)) == list(iter_records(BROKEN))


# --- JSON ------------------------------------------------------------------------------------


def test_json_elements_split_across_chunks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(myla311, "_JSON_CHUNK", 7)
    rows = [
        {"srnumber": "1-1", "createddate": "2020-01-01T00:05:00.000", "requesttype": "Other",
         "cd": 10, "nc": 55.0, "latitude": 34.05, "longitude": -118.25},
        {"srnumber": "1-2", "createddate": "2020-01-02T00:00:00", "requesttype": "Other",
         "location": {"type": "Point", "coordinates": [-118.3, 34.1]}, "anonymous": True},
    ]  # fmt: skip
    path = tmp_path / "rows.json"
    path.write_text(json.dumps(rows, indent=1))
    first, second = iter_records(path)
    assert isinstance(first, MyLA311Record) and isinstance(second, MyLA311Record)
    assert (first.cd, first.nc, first.lon, first.lat) == ("10", "55", -118.25, 34.05)
    assert (second.line_no, second.lon, second.lat, second.anonymous) == (2, -118.3, 34.1, True)


def test_json_lines_and_malformed_json_never_raise(tmp_path: Path) -> None:
    path = tmp_path / "rows.json"
    path.write_text(
        '{"srnumber": "1-1", "requesttype": "Other", "latitude": 34.05, "longitude": -118.25}\n'
        '{"srnumber": "", "requesttype": "Other", "latitude": 0, "longitude": 0}\n'
        '{"srnumber": "1-3", "requesttype": \n'
    )
    items = list(iter_records(path))
    assert [type(i).__name__ for i in items] == ["MyLA311Record", "RejectedRow", "RejectedRow"]
    assert isinstance(items[1], RejectedRow)
    assert (items[1].line_no, items[1].reason) == (2, "missing SRNumber")
    assert json.loads(items[1].raw)["latitude"] == 0
    assert isinstance(items[2], RejectedRow) and items[2].line_no == 3
    assert items[2].reason.startswith("invalid JSON")


# --- format detection ------------------------------------------------------------------------


def test_detect_format_ignores_column_order_and_extras() -> None:
    camel = ["ZipCode", "CreatedDate", "Extra", "RequestType", "SRNumber", "Status"]
    assert detect_format(camel) == "myla311_2016"
    lower = ["requesttype", "srnumber", "_daystoclose", "createddate", "location"]
    assert detect_format(lower) == "myla311_2020"
    hfla = ["", "requestId", "srnumber", "typeName", "createdDate", "agencyName"]
    assert detect_format(hfla) == "hfla_api"
    assert detect_format(["longitude", "latitude", "requesttype", "srnumber"]) == (
        "open_requests_json"
    )


def test_unknown_header_raises_clear_value_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"unrecognised MyLA311 header \['id', 'name', 'geom'\]"):
        detect_format(["id", "name", "geom"])
    path = tmp_path / "other.csv"
    path.write_text("id,name,geom\n1,a,b\n")
    with pytest.raises(ValueError, match="unrecognised MyLA311 header"):
        list(iter_records(path))


def test_reordered_csv_file_parses_by_header(tmp_path: Path) -> None:
    path = tmp_path / "reordered.csv"
    path.write_text(
        "\ufeffcd,requesttype,createddate,srnumber,Location,newcolumn\n"
        '10.0,Bulky Items,2021-03-14 02:30:00,1-42,"(34.06, -118.29)",z\n'
    )
    (record,) = iter_records(path)
    assert isinstance(record, MyLA311Record)
    assert (record.sr_number, record.cd, record.lon, record.lat) == ("1-42", "10", -118.29, 34.06)
    assert record.created_at is not None and record.created_at.tzname() in ("PST", "PDT")


def test_empty_file_is_a_value_error(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_text("")
    with pytest.raises(ValueError, match="empty file"):
        list(iter_records(path))


def test_records_carry_exactly_the_dataclass_fields_and_compare_equal() -> None:
    """The reader builds records without the dataclass __init__ (speed): none may miss a field."""
    import dataclasses

    names = {f.name for f in dataclasses.fields(MyLA311Record)}
    records, _ = _split(BROKEN)
    assert records
    for record in records:
        assert set(vars(record)) == names
        assert record == MyLA311Record(**vars(record))
        with pytest.raises(dataclasses.FrozenInstanceError):
            record.sr_number = "x"  # type: ignore[misc]

"""Street and intersection loaders against the hand-made BOE cross (tests/fixtures/reference)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import delete, func, select

from geo311.models import Intersection, StreetSegment
from geo311.street_loader import (
    detect_street_format,
    load_intersections,
    load_streets,
    split_street_name,
)

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "reference"
BOE = FIXTURES / "boe_streets.geojson"
STREETS = ROOT / "data" / "la" / "streets"


def count(conn, source: str) -> int:
    return conn.execute(
        select(func.count()).select_from(StreetSegment).where(StreetSegment.source == source)
    ).scalar_one()


def segment(conn, source_id: str, source: str = "fixture_boe"):
    return conn.execute(
        select(StreetSegment).where(StreetSegment.source == source,
                                    StreetSegment.source_id == source_id)
    ).one()


def test_dry_run_counts_but_writes_nothing(conn):
    report = load_streets(conn, BOE, source="fixture_boe")
    assert (report.read, report.loaded, report.committed) == (11, 9, False)
    assert count(conn, "fixture_boe") == 0
    assert "would load" in report.summary()


def test_commit_writes_normalized_names_ranges_and_lengths(conn):
    report = load_streets(conn, BOE, source="fixture_boe", commit=True)
    assert report.committed and report.loaded == count(conn, "fixture_boe") == 9
    row = segment(conn, "1001")
    assert (row.pre_dir, row.name, row.suffix, row.full_name, row.street_key) == (
        "S", "BERENDO", "ST", "S BERENDO ST", "BERENDO ST")
    assert (row.l_from, row.l_to, row.r_from, row.r_to) == (300, 398, 301, 399)
    assert (row.l_zip, row.from_node, row.to_node) == ("90020", "100", "102")
    assert row.street_class == "Local Street - Standard"
    assert row.length_m == pytest.approx(222.0, abs=1.0)  # 0.002 degrees of latitude
    assert row.attrs["bss_st_class"] == "LO"
    third = segment(conn, "1003")
    assert (third.name, third.full_name) == ("3RD", "W 3RD ST")


def test_zero_range_is_stored_as_no_range(conn):
    load_streets(conn, BOE, source="fixture_boe", commit=True)
    row = segment(conn, "1004")
    assert (row.l_from, row.l_to, row.r_from, row.r_to) == (None, None, None, None)


def test_rerun_replaces_the_source_and_leaves_others(conn):
    load_streets(conn, BOE, source="fixture_boe", commit=True)
    load_streets(conn, BOE, source="other_boe", commit=True)
    load_streets(conn, BOE, source="fixture_boe", commit=True)
    assert count(conn, "fixture_boe") == 9
    assert count(conn, "other_boe") == 9


def test_default_source_is_the_file_name(conn):
    report = load_streets(conn, BOE, commit=True)
    assert "source boe_streets" in report.name
    assert count(conn, "boe_streets") == 9


def test_rejects_carry_row_numbers_and_reasons(conn):
    report = load_streets(conn, BOE, source="fixture_boe")
    rejected = [(r.row, r.key, r.reason) for r in report.rejected]
    assert rejected == [
        (8, "1008", "zero-length line (0.000 m)"),
        (9, "1009", "not a line geometry (Point)"),
        (10, "", "no street name (STNAME empty)"),
    ]


def test_multipart_line_becomes_one_row_per_part(conn):
    load_streets(conn, BOE, source="fixture_boe", commit=True)
    parts = conn.execute(
        select(StreetSegment.source_id, StreetSegment.l_from)
        .where(StreetSegment.source == "fixture_boe", StreetSegment.name == "ARDMORE")
        .order_by(StreetSegment.source_id)
    ).all()
    assert parts == [("1011-1", 100), ("1011-2", 100)]


def test_cross_streets_are_the_other_streets_at_each_end(conn):
    report = load_streets(conn, BOE, source="fixture_boe", commit=True)
    assert any("cross streets derived" in note for note in report.notes)
    ends = {sid: (segment(conn, sid).from_street, segment(conn, sid).to_street)
            for sid in ("1001", "1002", "1003", "1005", "1007")}
    assert ends == {
        "1001": ("W 3RD ST", "W 4TH ST"),
        "1002": ("W 2ND ST", "W 3RD ST"),
        "1003": ("S NORMANDIE AVE", "S BERENDO ST"),
        "1005": ("S BERENDO ST", None),  # the east end touches nothing
        "1007": (None, "W 3RD ST"),
    }


def test_cross_street_is_never_the_segments_own_street(conn):
    load_streets(conn, BOE, source="fixture_boe", commit=True)
    # 1004 starts where 1003 (also W 3RD ST) ends: the cross street there is Berendo.
    row = segment(conn, "1004")
    assert (row.from_street, row.to_street) == ("S BERENDO ST", None)


def test_dry_run_derives_no_cross_streets_and_keeps_earlier_load(conn):
    load_streets(conn, BOE, source="fixture_boe", commit=True)
    load_streets(conn, BOE, source="fixture_boe")
    assert segment(conn, "1001").from_street == "W 3RD ST"


def test_cli_load_streets_prints_the_summary_and_rejects(runner):
    result = runner.invoke(args=["load", "streets", str(BOE)])
    assert result.exit_code == 0, result.output
    assert "read 11, would load (dry run; add --commit to write) 9, rejected 3" in result.output
    assert "rejected row 8 (1008): zero-length line" in result.output


def test_cli_commit_writes_then_reruns_without_duplicates(runner, fixture_engine):
    args = ["load", "streets", str(BOE), "--source", "cli_fixture_boe", "--commit"]
    try:
        for _ in range(2):
            result = runner.invoke(args=args)
            assert result.exit_code == 0, result.output
            assert "loaded 9" in result.output
        with fixture_engine.connect() as connection:
            assert count(connection, "cli_fixture_boe") == 9
    finally:
        with fixture_engine.begin() as connection:
            connection.execute(
                delete(StreetSegment).where(StreetSegment.source == "cli_fixture_boe"))


def test_unknown_schema_asks_for_a_format():
    with pytest.raises(ValueError, match="--format"):
        detect_street_format(["FOO", "BAR"])


@pytest.mark.parametrize(("text", "label"), [
    ("Santa Monica Boulevard", "SANTA MONICA BLVD"),
    ("South Beverly Glen Boulevard", "S BEVERLY GLEN BLVD"),
    ("Charles E Young Drive North", "CHARLES E YOUNG DR N"),
    ("Avenue of the Stars", "AVENUE OF THE STARS"),
    ("West Boulevard", "WEST BLVD"),
    ("21st Street", "21ST ST"),
    ("W AVE 59", "W AVENUE 59"),
    ("Westwood Plaza", "WESTWOOD PLZ"),
    ("Mandeville Canyon", "MANDEVILLE CANYON"),
])
def test_whole_street_names_split_into_parts(text, label):
    assert split_street_name(text).label() == label


# ---------------------------------------------------------------- intersections


def test_intersections_load_names_labels_and_fallback_points(conn):
    path = FIXTURES / "boe_intersections.geojson"
    report = load_intersections(conn, path, source="fixture_nodes", commit=True)
    assert (report.read, report.loaded) == (5, 3)
    assert [(r.row, r.reason) for r in report.rejected] == [
        (4, "no street names (FROM_ST and TO_ST empty)"), (5, "duplicate CL_NODE_ID")]
    rows = {r.source_id: r for r in conn.execute(
        select(Intersection.source_id, Intersection.streets, Intersection.label, Intersection.zip,
               func.ST_X(Intersection.geom).label("lon"))
        .where(Intersection.source == "fixture_nodes"))}
    assert rows["100"].streets == ["BERENDO ST", "3RD ST"]
    assert rows["100"].label == "BERENDO ST at 3RD ST" and rows["100"].zip == "90020"
    assert rows["104"].streets == ["3RD ST"]  # "D/E" is a dead end, not a street
    assert rows["102"].lon == pytest.approx(-118.3)  # from LON/LAT: the feature has no geometry
    again = load_intersections(conn, path, source="fixture_nodes", commit=True)
    assert again.loaded == 3
    assert conn.execute(select(func.count()).select_from(Intersection)
                        .where(Intersection.source == "fixture_nodes")).scalar_one() == 3


# ---------------------------------------------------------------- shipped files


@pytest.mark.slow
def test_koreatown_boe_loads_and_agrees_with_the_intersections_layer(conn):
    report = load_streets(conn, STREETS / "koreatown_boe_street_centerline_2026.geojson.gz",
                          fmt="auto", source="k_boe", commit=True)
    assert report.read == 1011 and report.loaded >= 1000
    nodes = load_intersections(conn, STREETS / "koreatown_boe_intersections_2026.geojson.gz",
                               source="k_nodes", commit=True)
    assert nodes.read == 508 and nodes.loaded == 508
    # The layer's own FROM_ST/TO_ST at INT_ID_FROM/INT_ID_TO must name the derived cross street.
    agree = conn.exec_driver_sql(
        """
        SELECT count(*) FILTER (
                   WHERE regexp_replace(s.from_street, '^[NSEW] ', '') = ANY(i.streets)),
               count(*) FILTER (WHERE cardinality(i.streets) = 2)
        FROM street_segment s
        JOIN intersection i ON i.source = 'k_nodes' AND i.source_id = s.from_node
        WHERE s.source = 'k_boe'
        """
    ).one()
    assert agree[1] > 800 and agree[0] / agree[1] > 0.97


@pytest.mark.slow
def test_vision_zero_hin_splits_multilines_and_keeps_file_limits(conn):
    path = STREETS / "la_vision_zero_high_injury_network_2018.geojson"
    report = load_streets(conn, path, source="hin", commit=True)
    assert (report.read, report.loaded, len(report.rejected)) == (386, 387, 0)
    row = conn.execute(select(StreetSegment).where(StreetSegment.source == "hin",
                                                   StreetSegment.source_id == "3")).one()
    assert (row.full_name, row.attrs["hin_from"], row.attrs["hin_to"]) == (
        "103RD ST", "CENTRAL AVE", "GRAPE ST")  # "GRAPE ST\r\nGRAPE" in the file


@pytest.mark.slow
def test_older_hin_shapefile_is_detected_by_its_fields(conn):
    report = load_streets(conn, STREETS / "hin_07112017" / "hin_07112017.shp")
    assert "(streets, hin," in report.name
    assert report.read == 388 and not report.rejected


@pytest.mark.slow
def test_westla_osm_rejects_power_lines_and_splits_names(conn):
    path = STREETS / "westla_osm_street_segments_ucla_cs32_2017.geojson.gz"
    report = load_streets(conn, path, source="osm", commit=True)
    assert report.read == 19641 and report.loaded > 19500
    reasons = {r.reason.split(" (")[0] for r in report.rejected}
    assert reasons <= {"not a street", "zero-length line"}
    row = conn.execute(select(StreetSegment.pre_dir, StreetSegment.name, StreetSegment.suffix)
                       .where(StreetSegment.source == "osm",
                              StreetSegment.attrs["osm_name"].astext == "Santa Monica Boulevard")
                       .limit(1)).one()
    assert tuple(row) == (None, "SANTA MONICA", "BLVD")

"""`geo311 load requests`: every MyLA311 format, dry run vs --commit, rejects, upsert, districts."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from geo311.db import get_engine
from geo311.models import RequestStatusHistory, ServiceRequest

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
SAMPLES = FIXTURES / "requests"
BROKEN = FIXTURES / "myla311_broken.csv"
IN_CITY = SAMPLES / "myla311_in_test_city.csv"


@pytest.fixture(scope="module")
def import_app(own_fixture_city):
    """An app on a database of its own (imports commit), with fixture boundaries and catalogue."""
    yield from own_fixture_city("geo311_request_import")


@pytest.fixture
def run(import_app):
    with import_app.app_context():
        with get_engine().begin() as conn:
            conn.execute(text("TRUNCATE service_request, request_status_history, request_import "
                              "CASCADE"))
    runner = import_app.test_cli_runner()

    def invoke(*args: str):
        result = runner.invoke(args=["load", "requests", *args])
        return result

    return invoke


def _count(app, model=ServiceRequest) -> int:
    with app.app_context(), get_engine().connect() as conn:
        return conn.execute(select(func.count()).select_from(model)).scalar_one()


def test_dry_run_reports_but_writes_nothing(import_app, run):
    result = run(str(SAMPLES / "myla311_2018_sample_a_300.csv"))
    assert result.exit_code == 0, result.output
    assert "dry run" in result.output and "300 new" in result.output
    assert _count(import_app) == 0


@pytest.mark.parametrize("name, rows", [
    ("myla311_2018_sample_a_300.csv", 300),
    ("myla311_2020_sample_300.csv", 300),
    ("myla311_2022_09_hfla_api_300.csv", 300),
    ("open_requests_2020_07_300.json.gz", 300),
])
def test_every_shared_format_imports(import_app, run, name, rows):
    result = run(str(SAMPLES / name), "--commit")
    assert result.exit_code == 0, result.output
    assert f"read {rows} rows" in result.output
    assert _count(import_app) == rows
    with import_app.app_context(), get_engine().connect() as conn:
        row = conn.execute(select(ServiceRequest).limit(1)).one()
        assert row.pin_source == "import" and row.external_id.startswith("1-")
        assert row.department and row.service_code and row.version == 1
        opens = conn.execute(select(func.count()).select_from(RequestStatusHistory)
                             .where(RequestStatusHistory.to_status == "open")).scalar_one()
        assert opens == rows


def test_snapshot_without_created_date_uses_the_file_date(import_app, run):
    result = run(str(SAMPLES / "open_requests_2020_07_300.json.gz"), "--commit")
    assert result.exit_code == 0, result.output
    with import_app.app_context(), get_engine().connect() as conn:
        first = conn.execute(select(ServiceRequest.requested_at, ServiceRequest.external)
                             .limit(1)).one()
    assert first.requested_at.year == 2020 and first.requested_at.month == 7
    assert first.external["requested_at_estimated"] is True


def test_broken_rows_are_rejected_with_line_numbers_and_the_load_goes_on(import_app, run,
                                                                         tmp_path):
    rejects = tmp_path / "rejects.csv"
    result = run(str(BROKEN), "--commit", "--rejects", str(rejects))
    assert result.exit_code == 0, result.output
    assert "line 3: missing SRNumber" in result.output
    assert "line 4: unparseable CreatedDate" in result.output
    assert "line 5: wrong number of fields" in result.output
    with rejects.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert {r["line"] for r in rows} >= {"3", "4", "5"}
    assert all(r["reason"] for r in rows)
    assert _count(import_app) >= 4  # the good rows around the bad ones were loaded


def test_reimport_and_overlap_never_duplicate(import_app, run):
    sample = str(SAMPLES / "myla311_2020_sample_300.csv")
    assert run(sample, "--commit").exit_code == 0
    again = run(sample, sample, "--commit")
    assert again.exit_code == 0, again.output
    assert "0 new" in again.output and "300 unchanged" in again.output
    assert _count(import_app) == 300
    assert _count(import_app, RequestStatusHistory) == 300 + 300 - _open_count(import_app)


def _open_count(app) -> int:
    with app.app_context(), get_engine().connect() as conn:
        return conn.execute(select(func.count()).select_from(ServiceRequest)
                            .where(ServiceRequest.status == "open")).scalar_one()


def test_statuses_departments_districts_and_unknown_types(import_app, run):
    result = run(str(IN_CITY), "--commit")
    assert result.exit_code == 0, result.output
    assert "unknown RequestType 'Pothole Repair Deluxe'" in result.output
    # 1-900000004 carries a wrong City label (CD 2 at a point of old CD 1): 3 of 4 agree.
    assert "CD 75.00% of 4, NC 100.00% of 2" in result.output
    with import_app.app_context(), get_engine().connect() as conn:
        rows = {r.external_id: r for r in conn.execute(select(ServiceRequest))}
    assert set(rows) == {"1-900000001", "1-900000002", "1-900000003", "1-900000004"}
    old, new = rows["1-900000001"], rows["1-900000002"]
    assert (old.status, old.close_reason, old.department, old.channel) == (
        "closed", "resolved", "LASAN", "phone")
    assert (new.status, new.close_reason, new.department, new.channel) == (
        "open", None, "OCB", "mobile")
    # The same point is in CD 2 of the old districts (2018) and CD 1 of the new ones (2023).
    assert {"type": "CD", "code": "2", "name": "Council District 2", "vintage": "old"} in old.areas
    assert any(a["type"] == "CD" and a["code"] == "1" and a["vintage"] == "new"
               for a in new.areas)
    assert (rows["1-900000003"].status, rows["1-900000003"].close_reason) == (
        "closed", "cancelled")
    assert rows["1-900000004"].close_reason == "referred"
    assert rows["1-900000004"].department == "ITA"


def test_newer_row_updates_status_and_appends_history(import_app, run, tmp_path):
    assert run(str(IN_CITY), "--commit").exit_code == 0
    newer = tmp_path / "newer.csv"
    lines = IN_CITY.read_text().splitlines()
    header, second = lines[0], lines[2]
    closed = second.replace("03/05/2023 08:00:00 AM,OCB", "03/09/2023 08:00:00 AM,OCB").replace(
        ",Open,", ",Closed,").replace("Y,,", "Y,03/09/2023 08:00:00 AM,")
    newer.write_text(header + "\n" + closed + "\n")
    result = run(str(newer), "--commit")
    assert "1 updated" in result.output, result.output
    with import_app.app_context(), get_engine().connect() as conn:
        row = conn.execute(select(ServiceRequest).where(
            ServiceRequest.external_id == "1-900000002")).one()
        history = conn.execute(select(RequestStatusHistory.from_status,
                                      RequestStatusHistory.to_status)
                               .where(RequestStatusHistory.request_id == row.id)
                               .order_by(RequestStatusHistory.id)).all()
    assert (row.status, row.version) == ("closed", 2)
    assert history[-1] == ("open", "closed")


def test_not_a_myla311_file_is_a_clear_error(run, tmp_path):
    other = tmp_path / "other.csv"
    other.write_text("a,b\n1,2\n")
    result = run(str(other))
    assert result.exit_code != 0
    assert "unrecognised MyLA311 header" in result.output


def test_area_types_option_chooses_what_areas_hold(import_app, run):
    def stored_types() -> set[str]:
        with import_app.app_context(), get_engine().connect() as conn:
            return {a["type"] for r in conn.execute(select(ServiceRequest.areas))
                    for a in r.areas}

    assert run(str(IN_CITY), "--commit").exit_code == 0
    assert stored_types() == {"CD", "NC"}
    # An unchanged source row is not rewritten, whatever the options.
    assert run(str(IN_CITY), "--commit", "--area-types", "all").exit_code == 0
    assert stored_types() == {"CD", "NC"}
    with import_app.app_context(), get_engine().begin() as conn:
        conn.execute(text("TRUNCATE service_request, request_status_history CASCADE"))
    assert run(str(IN_CITY), "--commit", "--area-types", "all").exit_code == 0
    assert {"CD", "NC", "CITY"} <= stored_types()


def test_bad_as_of_is_a_usage_error(run):
    result = run(str(IN_CITY), "--as-of", "July")
    assert result.exit_code == 2 and "--as-of" in result.output


def test_a_snapshot_never_reopens_a_full_record_and_a_full_record_replaces_a_snapshot(
        import_app, run, tmp_path):
    full = IN_CITY.read_text().splitlines()[:2]  # 1-900000001: closed in January 2018
    snapshot = tmp_path / "open_requests_2018_06.json"
    snapshot.write_text('[{"srnumber": "1-900000001", "requesttype": "Bulky Items", '
                        '"latitude": 34.03, "longitude": -118.23}]')
    closed_csv = tmp_path / "full.csv"
    closed_csv.write_text("\n".join(full) + "\n")

    def state():
        with import_app.app_context(), get_engine().connect() as conn:
            row = conn.execute(select(ServiceRequest).where(
                ServiceRequest.external_id == "1-900000001")).one()
        return row.status, row.requested_at.year, row.requested_at.month, row.pin_lat

    assert run(str(closed_csv), "--commit").exit_code == 0
    assert run(str(snapshot), "--commit").exit_code == 0
    assert state() == ("closed", 2018, 1, 34.02)  # snapshot filled nothing, reopened nothing
    with import_app.app_context(), get_engine().begin() as conn:
        conn.execute(text("TRUNCATE service_request, request_status_history CASCADE"))
    assert run(str(snapshot), "--commit").exit_code == 0
    assert state() == ("open", 2018, 6, 34.03)
    assert run(str(closed_csv), "--commit").exit_code == 0
    status, year, month, lat = state()
    assert (status, year, month) == ("closed", 2018, 1) and lat == 34.03  # raw pin kept


_SCHEMA_STATE = text("""
SELECT 'index ' || pg_get_indexdef(indexrelid) FROM pg_index
WHERE indrelid IN ('service_request'::regclass, 'request_status_history'::regclass)
UNION ALL
SELECT 'constraint ' || conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint
WHERE conrelid IN ('service_request'::regclass, 'request_status_history'::regclass)
UNION ALL
SELECT 'trigger ' || tgname || ' ' || CAST(tgenabled AS text) FROM pg_trigger
WHERE tgrelid IN ('service_request'::regclass, 'request_status_history'::regclass)
  AND NOT tgisinternal
""")


def _schema_state(app) -> set[str]:
    with app.app_context(), get_engine().connect() as conn:
        return set(conn.execute(_SCHEMA_STATE).scalars())


def _stored(app) -> list[tuple]:
    with app.app_context(), get_engine().connect() as conn:
        requests = conn.execute(text(
            "SELECT external_id, service_code, status, close_reason, department, areas, "
            "external, import_hash, requested_at, closed_at, ST_AsText(location) "
            "FROM service_request ORDER BY external_id")).all()
        history = conn.execute(text(
            "SELECT r.external_id, h.at, h.from_status, h.to_status, h.reason, h.note "
            "FROM request_status_history h JOIN service_request r ON r.id = h.request_id "
            "ORDER BY 1, 2, 4")).all()
    return [tuple(r) for r in requests] + [tuple(h) for h in history]


def test_rebuild_path_writes_the_same_rows_and_restores_every_index_and_key(import_app, run):
    files = [str(SAMPLES / "myla311_2020_sample_300.csv"),
             str(SAMPLES / "myla311_2022_09_hfla_api_300.csv")]
    before = _schema_state(import_app)
    assert run(*files, "--commit", "--indexes", "keep").exit_code == 0
    kept = _stored(import_app)
    with import_app.app_context(), get_engine().begin() as conn:
        conn.execute(text("TRUNCATE service_request, request_status_history CASCADE"))
    result = run(*files, "--commit", "--indexes", "rebuild")
    assert result.exit_code == 0, result.output
    assert "dropped and rebuilt" in result.output
    assert _stored(import_app) == kept
    assert _schema_state(import_app) == before
    # A re-import through the rebuild path still upserts: nothing new, nothing duplicated.
    again = run(*files, "--commit", "--indexes", "rebuild")
    assert "0 new" in again.output and "600 unchanged" in again.output, again.output
    assert _stored(import_app) == kept


def test_rebuild_path_dry_run_and_failure_leave_the_schema_whole(import_app, run, tmp_path):
    before = _schema_state(import_app)
    dry = run(str(SAMPLES / "myla311_2020_sample_300.csv"), "--indexes", "rebuild")
    assert dry.exit_code == 0 and "dry run" in dry.output, dry.output
    assert _count(import_app) == 0 and _schema_state(import_app) == before
    other = tmp_path / "other.csv"
    other.write_text("a,b\n1,2\n")
    failed = run(str(SAMPLES / "myla311_2020_sample_300.csv"), str(other), "--commit",
                 "--indexes", "rebuild")
    assert failed.exit_code != 0 and "unrecognised MyLA311 header" in failed.output
    assert _count(import_app) == 0 and _schema_state(import_app) == before


def test_rebuild_path_fires_statement_triggers_on_service_request(import_app, run):
    """Summaries kept by triggers (the tile cells) stay right: no trigger is disabled."""
    with import_app.app_context(), get_engine().begin() as conn:
        conn.execute(text("""
            CREATE TABLE test_inserted_count (n bigint NOT NULL);
            CREATE FUNCTION test_count_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN INSERT INTO test_inserted_count SELECT count(*) FROM new_rows; RETURN NULL;
            END $$;
            CREATE TRIGGER test_count_inserted AFTER INSERT ON service_request
            REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
            EXECUTE FUNCTION test_count_inserted();
        """))
    try:
        assert run(str(SAMPLES / "myla311_2020_sample_300.csv"), "--commit",
                   "--indexes", "rebuild").exit_code == 0
        with import_app.app_context(), get_engine().connect() as conn:
            counted = conn.execute(text("SELECT sum(n) FROM test_inserted_count")).scalar_one()
        assert counted == _count(import_app) == 300
    finally:
        with import_app.app_context(), get_engine().begin() as conn:
            conn.execute(text("DROP TRIGGER test_count_inserted ON service_request; "
                              "DROP FUNCTION test_count_inserted(); "
                              "DROP TABLE test_inserted_count"))


def test_rebuild_rule_takes_large_loads_into_small_tables(import_app, run, tmp_path):
    import gzip

    from geo311.import_indexes import BYTES_PER_ROW, MIN_ROWS, estimate_rows, should_rebuild

    packed = tmp_path / "rows.csv.gz"
    packed.write_bytes(gzip.compress(b"x" * (BYTES_PER_ROW * 1000)))
    assert estimate_rows([packed, packed]) == 2000  # uncompressed size, from the gzip trailer
    assert run(str(SAMPLES / "myla311_2020_sample_300.csv"), "--commit").exit_code == 0
    with import_app.app_context(), get_engine().connect() as conn:
        assert should_rebuild(conn, MIN_ROWS)  # 300 rows in the table: rebuild
        assert not should_rebuild(conn, MIN_ROWS - 1)  # too small a load to lock for
        assert not should_rebuild(conn, 299) and not should_rebuild(conn, 0)
    # A sample-sized load takes the ordinary path by itself.
    result = run(str(SAMPLES / "myla311_2020_sample_300.csv"), "--commit")
    assert "dropped and rebuilt" not in result.output

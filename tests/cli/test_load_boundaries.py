"""CLI: `load boundaries` dry run vs --commit, rejects with reasons, idempotent re-runs."""

from __future__ import annotations

from sqlalchemy import func, select

from geo311.models import Area, BoundarySet


def area_count(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(Area)).scalar_one()


def test_dry_run_reports_and_writes_nothing(runner, fixture_engine):
    before = area_count(fixture_engine)
    result = runner.invoke(args=["load", "boundaries", "nc"])
    assert result.exit_code == 0, result.output
    assert "dry run" in result.output
    assert "rejected row 3" in result.output and "no polygon geometry" in result.output
    assert "rejected row 4" in result.output and "missing code field 'NC_ID'" in result.output
    assert area_count(fixture_engine) == before


def test_commit_twice_replaces_the_set_instead_of_duplicating(runner, fixture_engine):
    before = area_count(fixture_engine)
    for _ in range(2):
        result = runner.invoke(args=["load", "boundaries", "cd_old", "cd_new", "--commit"])
        assert result.exit_code == 0, result.output
        assert "loaded 2" in result.output
    assert area_count(fixture_engine) == before
    with fixture_engine.connect() as conn:
        assert conn.execute(
            select(func.count()).select_from(BoundarySet).where(BoundarySet.type_code == "CD")
        ).scalar_one() == 2


def test_unknown_definition_is_a_clear_error(runner):
    result = runner.invoke(args=["load", "boundaries", "atlantis"])
    assert result.exit_code != 0
    assert "unknown boundary definition(s): atlantis" in result.output

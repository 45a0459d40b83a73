"""SQL fragments written once: include lines in geo311/sql are expanded where statements load."""

from __future__ import annotations

from geo311.db import load_driver_sql, load_sql, sql_source, with_includes
from geo311.tiles import request_statement


def _lines(source: str) -> list[str]:
    return [line.strip() for line in source.splitlines() if line.strip()]


def test_an_include_line_becomes_the_fragment_without_its_comments():
    expanded = with_includes("SELECT 1\nFROM service_request r\nWHERE true\n"
                             "  /* request_filter.sql */\nLIMIT 1")
    fragment = _lines(sql_source("request_filter", strip_comments=True))
    lines = _lines(expanded)
    assert lines[3:3 + len(fragment)] == fragment
    assert lines[-1] == "LIMIT 1"
    assert not any(line.startswith("--") for line in lines)


def test_an_include_inside_an_include_is_expanded_too():
    tile_filter = _lines(load_driver_sql("tile_request_filter"))
    shared = _lines(load_driver_sql("request_filter"))
    assert tile_filter[:len(shared)] == shared
    assert any("min_age_days" in line for line in tile_filter)


def test_only_a_whole_line_is_an_include():
    source = "SELECT '/* request_filter.sql */' AS text_not_include"
    assert with_includes(source) == source


def test_tiles_and_hotspots_share_the_request_filter_lines():
    shared = _lines(sql_source("request_filter", strip_comments=True))
    hotspot = _lines(str(load_sql("find_hotspots")))
    tile = _lines(request_statement("tile_requests").replace("%(", ":").replace(")s", ""))
    for statement in (hotspot, tile):
        starts = [i for i in range(len(statement)) if statement[i:i + len(shared)] == shared]
        assert len(starts) == 1
    for name in ("hotspot_requests", "tile_request_filter"):
        assert "CAST(:area AS jsonb)" not in sql_source(name), f"{name}.sql repeats the filters"


def test_load_sql_expands_includes():
    assert "/* request_filter.sql */" not in str(load_sql("hotspot_requests"))

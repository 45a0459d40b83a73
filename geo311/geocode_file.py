"""`geo311 geocode IN.csv OUT.csv`: add the locate answer's columns to every row of a CSV file."""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import Connection

from geo311.errors import BadRequest
from geo311.ingest import progress
from geo311.locate import locate_point, locate_text
from geo311.locate_result import LocateResult

__all__ = ["GEOCODE_COLUMNS", "FileReport", "geocode_csv"]

#: Columns appended to each row.
GEOCODE_COLUMNS = [
    "geo311_lon", "geo311_lat", "geo311_precision", "geo311_score", "geo311_reasons",
    "geo311_address", "geo311_segment_id", "geo311_side", "geo311_from_street",
    "geo311_to_street", "geo311_cd", "geo311_nc", "geo311_inside_city", "geo311_error",
]


@dataclass
class FileReport:
    """How a file went."""

    rows: int = 0
    located: int = 0
    errors: int = 0


def geocode_csv(conn: Connection, source: Path, target: Path, *, column: str | None = None,
                lon_column: str | None = None, lat_column: str | None = None,
                echo: Callable[[str], None] = print) -> FileReport:
    """Locate every row (text from ``column``, or a pin from ``lon_column``/``lat_column``).

    A row that cannot be located gets its reason in ``geo311_error``; the run never stops.

    :returns: counts.
    :raises ValueError: a named column is not in the file.
    """
    report = FileReport()
    with open(source, newline="", encoding="utf-8-sig") as handle:
        total = sum(1 for _ in handle) - 1
    with open(source, newline="", encoding="utf-8-sig") as src, \
            open(target, "w", newline="", encoding="utf-8") as dst:
        reader = csv.DictReader(src)
        fields = list(reader.fieldnames or [])
        column = column or _guess_text_column(fields, lon_column)
        for name in (column, lon_column, lat_column):
            if name and name not in fields:
                raise ValueError(f"{source}: no column named {name!r} (columns: {', '.join(fields)})")
        writer = csv.DictWriter(dst, fieldnames=fields + GEOCODE_COLUMNS)
        writer.writeheader()
        for row in progress(reader, total, "geocode"):
            report.rows += 1
            try:
                if lon_column and lat_column:
                    result = locate_point(conn, float(row[lon_column]), float(row[lat_column]))
                else:
                    result = locate_text(conn, row.get(column or "", "") or "")
                row.update(_columns(result))
                report.located += result.found
            except (BadRequest, ValueError) as exc:
                report.errors += 1
                row["geo311_error"] = getattr(exc, "message", str(exc))
            writer.writerow(row)
    echo(f"{source} -> {target}: {report.rows} rows, {report.located} located, "
         f"{report.errors} errors")
    return report


def _guess_text_column(fields: list[str], lon_column: str | None) -> str | None:
    if lon_column:
        return None
    for name in ("address", "Address", "query", "q", "location", "text"):
        if name in fields:
            return name
    raise ValueError("say which column holds the text with --column (or --lon/--lat columns)")


def _columns(result: LocateResult) -> dict[str, object]:
    areas = {a["type"]: a["code"] for a in result.areas}
    segment = result.segment
    return {
        "geo311_lon": result.lon, "geo311_lat": result.lat,
        "geo311_precision": result.precision, "geo311_score": result.score,
        "geo311_reasons": ";".join(result.reasons),
        "geo311_address": result.address.text if result.address else "",
        "geo311_segment_id": segment.id if segment else "",
        "geo311_side": segment.side_compass if segment else "",
        "geo311_from_street": segment.from_street if segment else "",
        "geo311_to_street": segment.to_street if segment else "",
        "geo311_cd": areas.get("CD", ""), "geo311_nc": areas.get("NC", ""),
        "geo311_inside_city": "" if result.jurisdiction is None else result.jurisdiction.inside_city,
        "geo311_error": "",
    }

"""First-run loading for `make run`: every boundary set and reference file not loaded yet."""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Mapping
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select

from geo311.boundary_loader import load_boundary, read_definitions
from geo311.ingest import LoadReport
from geo311.models import AddressPoint, BoundarySet, Facility, Intersection, StreetSegment

__all__ = [
    "load_missing_reference",
    "load_missing_requests",
    "build_missing_observed_reference",
    "read_manifest",
]


def read_manifest(data_dir: Path) -> dict[str, list[dict[str, Any]]]:
    """The list of reference files in ``data/reference.toml``."""
    with open(data_dir / "reference.toml", "rb") as handle:
        return tomllib.load(handle)


def load_missing_reference(engine: Engine, config: Mapping[str, Any],
                           echo: Callable[[str], None] = print) -> int:
    """Load, with commit, each boundary definition and manifest file whose data is absent.

    Each dataset is its own transaction, so an interrupted first run resumes where it stopped.

    :returns: how many datasets were loaded now.
    """
    from geo311.address_loader import load_addresses
    from geo311.facility_loader import load_facilities
    from geo311.street_loader import load_intersections, load_streets

    data_dir = Path(config["DATA_DIR"])
    loaded = 0
    with engine.connect() as conn:
        present = {(r.type_code, r.vintage) for r in conn.execute(select(BoundarySet))}
    for definition in read_definitions(Path(config["BOUNDARIES_DIR"])):
        if (definition.type_code, definition.vintage) in present:
            continue
        _load(engine, echo, partial(load_boundary, definition=definition, data_dir=data_dir,
                                    commit=True,
                                    max_vertices=int(config["SUBDIVIDE_MAX_VERTICES"])))
        loaded += 1
    manifest = read_manifest(data_dir)
    steps: list[tuple[Any, str, Callable[..., LoadReport], dict[str, Any]]] = []
    for entry in manifest.get("streets", []):
        steps.append((StreetSegment, entry["source"], load_streets,
                      {"fmt": entry.get("format", "auto"), "source": entry["source"]}))
    for entry in manifest.get("intersections", []):
        steps.append((Intersection, entry["source"], load_intersections,
                      {"source": entry["source"]}))
    for entry in manifest.get("addresses", []):
        steps.append((AddressPoint, entry["source"], load_addresses,
                      {"fmt": entry.get("format", "auto"), "source": entry["source"]}))
    for entry in manifest.get("facilities", []):
        source = entry.get("source") or Path(entry["file"]).name.split(".")[0]
        steps.append((Facility, source, load_facilities,
                      {"facility_type": entry["type"], "source": source}))
    files = [e["file"] for kind in ("streets", "intersections", "addresses", "facilities")
             for e in manifest.get(kind, [])]
    for (table, source, loader, options), file in zip(steps, files, strict=True):
        with engine.connect() as conn:
            count = conn.execute(
                select(func.count()).select_from(table).where(table.source == source)
            ).scalar_one()
        if count:
            continue
        _load(engine, echo, partial(loader, path=data_dir / file, commit=True, **options))
        loaded += 1
    loaded += build_missing_observed_reference(engine, config, echo)
    with engine.begin() as conn:
        from geo311.geocode import refresh_street_names

        refresh_street_names(conn)  # street matching sees every street and address just loaded
    return loaded


def build_missing_observed_reference(engine: Engine, config: Mapping[str, Any],
                                     echo: Callable[[str], None] = print) -> int:
    """Run ``geo311 build reference --commit`` (default sources) when no build is stored yet.

    :returns: 1 when it built now, 0 when observed addresses were already there.
    """
    from geo311.reference_build import build_reference
    from geo311.reference_sources import default_sources

    with engine.begin() as conn:
        built = conn.execute(
            select(AddressPoint.id).where(AddressPoint.kind == "observed").limit(1)
        ).first()
        if built is not None:
            return 0
        report = build_reference(conn, default_sources(config["DATA_DIR"], conn), commit=True)
    for line in report.lines():
        echo(line)
    return 1


def load_missing_requests(engine: Engine, config: Mapping[str, Any],
                          echo: Callable[[str], None] = print) -> int:
    """First run: sync the catalogue if it is empty, then import the shipped MyLA311 samples
    (``DATA_DIR/la/myla311``) if no request is stored yet, so a new user starts with real data.

    :returns: how many request records were imported now (0 when requests already exist).
    """
    from geo311.catalogue import catalogue_is_empty, sync_catalogue
    from geo311.models import ServiceRequest
    from geo311.request_import import run_import

    data_dir = Path(config["DATA_DIR"])
    with engine.begin() as conn:
        if catalogue_is_empty(conn):
            echo(sync_catalogue(conn, directory=data_dir / "catalogue").summary())
        stored = conn.execute(select(func.count()).select_from(ServiceRequest)).scalar_one()
    samples = sorted(p for p in (data_dir / "la" / "myla311").glob("*") if p.is_file())
    if stored or not samples:
        return 0
    report = run_import(engine, samples, commit=True, echo=echo)
    return report.inserted


def _load(engine: Engine, echo: Callable[[str], None],
          work: Callable[[Any], LoadReport]) -> LoadReport:
    with engine.begin() as conn:
        report = work(conn)
    echo(report.summary())
    for rejected in report.rejected[:10]:
        echo(f"  rejected {rejected}")
    if len(report.rejected) > 10:
        echo(f"  ... and {len(report.rejected) - 10} more rejected "
             "(run the load by hand to list all)")
    return report

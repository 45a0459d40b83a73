"""The ``geo311`` command line (also ``flask --app geo311``): database, loaders, checks, first-run setup."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext

from geo311.apikeys import apikeys_group
from geo311.cluster import ClusterError, ensure_postgis_installed
from geo311.db import get_engine, private_cluster
from geo311.ingest import LoadReport

__all__ = ["init_app", "main", "db_group", "load_group", "build_group"]


def init_app(app: Flask) -> None:
    """Register the command groups on the app's CLI."""
    app.cli.add_command(db_group)
    app.cli.add_command(load_group)
    app.cli.add_command(check_command)
    app.cli.add_command(setup_command)
    app.cli.add_command(geocode_command)
    app.cli.add_command(apikeys_group)
    app.cli.add_command(build_group)
    from geo311.catalogue import catalogue_group
    from geo311.request_import import load_requests_command

    app.cli.add_command(catalogue_group)
    load_group.add_command(load_requests_command)
    from geo311.exports import export_command

    app.cli.add_command(export_command)
    from geo311.users_cli import users_group
    app.cli.add_command(users_group)
    from geo311.duplicates import duplicates_group
    app.cli.add_command(duplicates_group)
    from geo311.pack import pack_command
    app.cli.add_command(pack_command)


def main() -> None:
    """Entry point of ``.venv/bin/geo311``."""
    from geo311 import create_app

    group = FlaskGroup(create_app=lambda: create_app(), add_default_commands=True,
                       help="geo311: the LA 311 location engine.")
    group(prog_name="geo311")


# ---------------------------------------------------------------- db
@click.group("db")
def db_group() -> None:
    """Start, stop and initialise the database."""


@db_group.command("up")
@with_appcontext
def db_up() -> None:
    """Install PostGIS if needed, start the private cluster, create the database and schema."""
    _db_up()
    click.echo("database ready")


@db_group.command("down")
@with_appcontext
def db_down() -> None:
    """Stop the private cluster."""
    cluster = private_cluster(current_app.config)
    click.echo("stopped" if cluster.stop() else "not running")


@db_group.command("status")
@with_appcontext
def db_status() -> None:
    """Say where the database is and whether it answers."""
    from sqlalchemy import text

    config = current_app.config
    if config.get("DATABASE_URL"):
        click.echo("using DATABASE_URL")
    else:
        cluster = private_cluster(config)
        state = "running" if cluster.is_running() else "stopped"
        click.echo(f"private cluster {cluster.datadir} (socket {cluster.socket_dir}, port "
                   f"{cluster.port}): {state}")
    try:
        with get_engine().connect() as conn:
            version = conn.execute(text("SELECT postgis_full_version()")).scalar_one()
            click.echo(f"connected: {version.split(' ')[1]} {version.split(' ')[0]}")
    except Exception as exc:  # noqa: BLE001 - status must report any failure, not crash
        click.echo(f"not reachable: {exc.__class__.__name__}: {str(exc).splitlines()[0]}")
        sys.exit(1)


@db_group.command("init")
@with_appcontext
def db_init() -> None:
    """Create the tables and indexes (idempotent)."""
    from geo311.schema import init_schema

    rekeyed = init_schema(get_engine())
    for table, rows in rekeyed.items():
        click.echo(f"street keys rewritten to the current rule: {rows} row(s) of {table}")
    click.echo("schema ready")


def _db_up() -> None:
    from geo311.schema import init_schema

    config = current_app.config
    if not config.get("DATABASE_URL"):
        try:
            ensure_postgis_installed(echo=click.echo)
            cluster = private_cluster(config)
            if cluster.init():
                click.echo(f"created private cluster in {cluster.datadir}")
            if cluster.start():
                click.echo(f"started PostgreSQL on socket {cluster.socket_dir} port {cluster.port}")
            cluster.create_database(config["PG_DATABASE"])
        except ClusterError as exc:
            raise click.ClickException(str(exc)) from None
    init_schema(get_engine())


# ---------------------------------------------------------------- load
@click.group("load")
def load_group() -> None:
    """Load reference data (dry run unless --commit)."""


_commit_option = click.option("--commit", is_flag=True, help="Write to the database (default: dry run).")
_file_argument = click.argument("file", type=click.Path(exists=True, dir_okay=False))
_source_option = click.option("--source", default=None, help="Source name (default: file name).")


@load_group.command("boundaries")
@click.argument("names", nargs=-1)
@_commit_option
@with_appcontext
def load_boundaries(names: tuple[str, ...], commit: bool) -> None:
    """Load boundary datasets defined in boundaries/*.toml (all, or the NAMEs given)."""
    from geo311.boundary_loader import load_boundary, read_definitions

    config = current_app.config
    try:
        definitions = read_definitions(Path(config["BOUNDARIES_DIR"]), list(names) or None)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    for definition in definitions:
        _run_load(lambda conn, d=definition: load_boundary(
            conn, d, Path(config["DATA_DIR"]), commit=commit,
            max_vertices=int(config["SUBDIVIDE_MAX_VERTICES"])), commit)


@load_group.command("streets")
@_file_argument
@click.option("--format", "fmt", type=click.Choice(["auto", "boe", "hin", "osm"]), default="auto",
              help="Street file schema (auto detects from the fields).")
@click.option("--source", default=None, help="Source name stored with each segment (default: file name).")
@_commit_option
@with_appcontext
def load_streets_command(file: str, fmt: str, source: str | None, commit: bool) -> None:
    """Load street centerline segments (the City's Street Centerline schema, or simpler lines)."""
    from geo311.street_loader import load_streets

    _run_load(lambda conn: load_streets(conn, Path(file), fmt=fmt, source=source, commit=commit),
              commit, refresh_names=True)


@load_group.command("intersections")
@_file_argument
@_source_option
@_commit_option
@with_appcontext
def load_intersections_command(file: str, source: str | None, commit: bool) -> None:
    """Load intersection points (the City's BOE intersections layer)."""
    from geo311.street_loader import load_intersections

    _run_load(lambda conn: load_intersections(conn, Path(file), source=source, commit=commit),
              commit)


@load_group.command("addresses")
@_file_argument
@click.option("--format", "fmt", type=click.Choice(["auto", "cams", "meters"]), default="auto",
              help="Address file schema (auto detects from the fields).")
@_source_option
@_commit_option
@with_appcontext
def load_addresses_command(file: str, fmt: str, source: str | None, commit: bool) -> None:
    """Load address points (the City/County Addresses schema, or meter block faces)."""
    from geo311.address_loader import load_addresses

    _run_load(lambda conn: load_addresses(conn, Path(file), fmt=fmt, source=source, commit=commit),
              commit, refresh_names=True)


@load_group.command("facilities")
@_file_argument
@click.option("--type", "facility_type", required=True, help="Facility type, e.g. police_station.")
@_source_option
@_commit_option
@with_appcontext
def load_facilities_command(file: str, facility_type: str, source: str | None, commit: bool) -> None:
    """Load facilities of one type (points with a name and address)."""
    from geo311.facility_loader import load_facilities

    _run_load(lambda conn: load_facilities(conn, Path(file), facility_type=facility_type,
                                           source=source, commit=commit), commit)


def _run_load(work, commit: bool, refresh_names: bool = False) -> LoadReport:
    """Run one load in its own transaction and print its report (every reject with its reason)."""
    engine = get_engine()
    with engine.begin() as conn:
        try:
            report = work(conn)
        except (ValueError, OSError) as exc:
            raise click.ClickException(str(exc)) from None
        if not commit:
            conn.rollback()
        elif refresh_names:
            from geo311.geocode import refresh_street_names

            refresh_street_names(conn)
    click.echo(report.summary())
    for note in report.notes[:20]:
        click.echo(f"  note: {note}")
    for rejected in report.rejected:
        click.echo(f"  rejected {rejected}")
    return report


# ---------------------------------------------------------------- build
@click.group("build")
def build_group() -> None:
    """Build derived reference data (dry run unless --commit)."""


_files = click.Path(exists=True, dir_okay=False)


@build_group.command("reference")
@click.option("--source", "files", multiple=True, type=_files,
              help="Read this file instead of the default files (repeatable; the request table "
                   "is still read).")
@click.option("--only", multiple=True, type=_files,
              help="Read only this file (repeatable; no defaults, no request table).")
@click.option("--exclude", multiple=True, type=_files,
              help="Hold this file out: neither it nor its requests stored in service_request "
                   "are read (repeatable).")
@_commit_option
@with_appcontext
def build_reference_command(files: tuple[str, ...], only: tuple[str, ...],
                            exclude: tuple[str, ...], commit: bool) -> None:
    """Observed address points and house-number ranges from MyLA311 files, citations, requests."""
    from geo311.reference_build import build_reference
    from geo311.reference_sources import select_sources

    with get_engine().begin() as conn:
        try:
            sources, held = select_sources(current_app.config["DATA_DIR"], conn, files=files,
                                           only=only, exclude=exclude)
            report = build_reference(conn, sources, commit=commit, exclude=held)
        except (ValueError, OSError) as exc:
            raise click.ClickException(str(exc)) from None
    for line in report.lines():
        click.echo(line)


# ---------------------------------------------------------------- check and setup
@click.command("check")
@with_appcontext
def check_command() -> None:
    """Check the loaded data: sets with no areas, invalid geometry, City coverage by districts."""
    from geo311.checks import run_checks

    with get_engine().connect() as conn:
        problems = 0
        for line, ok in run_checks(conn):
            click.echo(("ok    " if ok else "FAIL  ") + line)
            problems += 0 if ok else 1
    if problems:
        raise click.ClickException(f"{problems} check(s) failed")


@click.command("geocode")
@click.argument("source", type=click.Path(exists=True, dir_okay=False))
@click.argument("target", type=click.Path(dir_okay=False))
@click.option("--column", default=None, help="Column with the text to locate (default: address).")
@click.option("--lon-column", default=None, help="Column with pin longitudes (reverse mode).")
@click.option("--lat-column", default=None, help="Column with pin latitudes (reverse mode).")
@with_appcontext
def geocode_command(source: str, target: str, column: str | None, lon_column: str | None,
                    lat_column: str | None) -> None:
    """Add the locate answer's columns (geo311_*) to every row of a CSV file."""
    from geo311.geocode_file import geocode_csv

    with get_engine().connect() as conn:
        try:
            geocode_csv(conn, Path(source), Path(target), column=column, lon_column=lon_column,
                        lat_column=lat_column, echo=click.echo)
        except ValueError as exc:
            raise click.ClickException(str(exc)) from None


@click.command("setup")
@with_appcontext
def setup_command() -> None:
    """First-run setup used by `make run`: database up, schema, and every dataset not yet loaded."""
    from geo311.first_load import load_missing_reference
    from geo311.sessions import keep_secret_for_workers

    _db_up()
    keep_secret_for_workers(current_app)
    loaded = load_missing_reference(get_engine(), current_app.config, echo=click.echo)
    click.echo("reference data: " + (f"loaded {loaded} dataset(s)" if loaded else "already loaded"))
    from geo311.first_load import load_missing_requests

    imported = load_missing_requests(get_engine(), current_app.config, echo=click.echo)
    click.echo("requests: " + (f"imported {imported:,} MyLA311 samples" if imported
                               else "already present"))


"""Printable district packs: one offline HTML map per council district or NC, plus PNG and PDF.

The HTML is a folium map made with :mod:`geo311.folium_offline` (the area's boundary, its
neighborhood councils, open requests clustered, hotspot zones, facilities) followed by the
district's tables, with every script and stylesheet inlined: it opens from a USB stick with no
network. ``geo311 pack`` also prints it to PNG and PDF with headless Chromium
(``/usr/bin/chromium``); without Chromium it writes the HTML and says the renderings were
skipped.
"""

from __future__ import annotations

import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from html import escape
from pathlib import Path
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy.engine import Connection

from geo311.boundaries import LA_TIME, get_area_feature, today_in_la
from geo311.catalogue import service_type_names
from geo311.config import PROJECT_ROOT
from geo311.council_stats import (
    TREND_WEEKS,
    District,
    district_as_of,
    district_facilities,
    district_ncs,
    district_stats,
    get_district,
    open_points,
)
from geo311.hotspots import find_hotspots, params_from_config
from geo311.request_query import RequestFilter

__all__ = ["CHROMIUM", "PackFiles", "district_pack_html", "render_pack", "write_pack",
           "pack_command"]

#: Debian's Chromium, used headless for the PNG and PDF renderings.
CHROMIUM = Path("/usr/bin/chromium")
#: Browser window of the PNG rendering (pixels).
PNG_SIZE = (1400, 1000)
#: Milliseconds of virtual time Chromium gives the page (Leaflet draws synchronously; margin).
_RENDER_BUDGET_MS = 3000
_TYPE_COLOURS = ("#a4161a", "#0b4f8a", "#1b5e20", "#6d28d9", "#b45309", "#0f766e", "#be185d",
                 "#4a4a4a")


@dataclass(frozen=True)
class PackFiles:
    """The files of one pack; ``png``/``pdf`` are None when rendering was skipped."""

    html: Path
    png: Path | None
    pdf: Path | None


def district_pack_html(conn: Connection, district: District, *, config: Mapping[str, Any],
                       nc: str | None = None) -> str:
    """The pack of a council district (or of one of its NCs) as one self-contained HTML page.

    :param conn: database connection.
    :param district: from :func:`geo311.council_stats.get_district`.
    :param config: the app config (hotspot settings).
    :param nc: an NC code: the pack covers that NC only (its boundary, requests and hotspots).
    :returns: HTML with no ``http(s)`` reference.
    :raises NotFound: unknown NC.
    """
    # folium is heavy and only packs need it: keep it out of every web worker's start-up.
    import folium
    from folium.plugins import MarkerCluster

    from geo311.folium_offline import inline_assets, offline_map

    as_of = district_as_of(conn, district.code)
    place = district if nc is None else _nc_place(conn, nc)
    stats = district_stats(conn, district, as_of=as_of)
    points = open_points(conn, place, as_of=as_of)
    ncs = district_ncs(conn, district) if nc is None else []
    facilities = district_facilities(conn, place)
    filters = RequestFilter(area=(place.type_code, place.code),
                            start=as_of - timedelta(weeks=TREND_WEEKS), end=as_of)
    hotspots = find_hotspots(conn, params_from_config(config, filters, limit=50)).hotspots
    names = service_type_names(conn, "en")

    fmap = offline_map(location=_centre(place.feature), zoom_start=13, control_scale=True,
                       prefer_canvas=True, attribution_control=False)
    folium.GeoJson(place.feature, name=place.name, style_function=lambda _f: {
        "color": "#5b2a86", "weight": 3, "fill": False}).add_to(fmap)
    if ncs:
        folium.GeoJson({"type": "FeatureCollection", "features": ncs},
                       name="Neighborhood councils",
                       style_function=lambda _f: {"color": "#2f6f3e", "weight": 1.5,
                                                  "fillOpacity": 0.03},
                       tooltip=folium.GeoJsonTooltip(fields=["name"], labels=False)).add_to(fmap)
    colours = _colour_by_type(points)
    cluster = MarkerCluster(name=f"Open requests ({len(points)})").add_to(fmap)
    for p in points:
        folium.CircleMarker([p["lat"], p["lon"]], radius=5, weight=1, color="#1a1a1a",
                            fill=True, fill_color=colours[p["service_code"]], fill_opacity=0.9,
                            tooltip=f"{names.get(p['service_code'], p['service_code'])} · "
                                    f"{p['requested']}").add_to(cluster)
    zones = folium.FeatureGroup(name=f"Hotspots ({len(hotspots)})").add_to(fmap)
    for h in hotspots:
        folium.GeoJson(h.zone, style_function=lambda _f: {
            "color": "#a4161a", "weight": 2, "fillOpacity": 0.25}).add_to(zones)
    places = folium.FeatureGroup(name=f"Facilities ({len(facilities)})").add_to(fmap)
    for f in facilities:
        folium.CircleMarker([f["lat"], f["lon"]], radius=4, weight=2, color="#0b4f8a",
                            fill=True, fill_color="#ffffff", fill_opacity=1,
                            tooltip=f"{f['type']}: {f['name']}").add_to(places)
    folium.LayerControl(collapsed=False).add_to(fmap)
    fmap.fit_bounds(_bounds(place.feature))
    root: Any = fmap.get_root()  # a branca Figure
    root.html.add_child(folium.Element(
        _summary_html(place, stats, hotspots, colours, names, nc is not None)))
    root.header.add_child(folium.Element(_PACK_CSS))
    html = root.render()
    return inline_assets(html, PROJECT_ROOT / "web" / "static")


def render_pack(html_path: Path, png: Path, pdf: Path,
                chromium: Path = CHROMIUM) -> tuple[Path, Path] | None:
    """Print an HTML pack to PNG and PDF with headless Chromium.

    :returns: the two paths, or None when Chromium is not installed.
    :raises RuntimeError: Chromium ran but wrote no file.
    """
    if not chromium.exists():
        return None
    url = html_path.resolve().as_uri()
    common = [str(chromium), "--headless", "--no-sandbox", "--disable-gpu",
              "--disable-background-networking", "--disable-component-update", "--no-first-run",
              "--hide-scrollbars", f"--virtual-time-budget={_RENDER_BUDGET_MS}"]
    jobs = [
        [*common, f"--window-size={PNG_SIZE[0]},{PNG_SIZE[1]}", f"--screenshot={png}", url],
        [*common, "--no-pdf-header-footer", f"--print-to-pdf={pdf}", url],
    ]
    for args, out in zip(jobs, (png, pdf), strict=True):
        out.unlink(missing_ok=True)
        subprocess.run(args, check=False, capture_output=True, timeout=120)
        if not out.is_file() or out.stat().st_size == 0:
            raise RuntimeError(f"chromium did not write {out}")
    return png, pdf


def write_pack(conn: Connection, district: District, out_dir: Path, *,
               config: Mapping[str, Any], nc: str | None = None,
               render: bool = True) -> PackFiles:
    """Write ``council-district-<n>[-nc-<m>].html`` and, with Chromium, its PNG and PDF.

    :param out_dir: created if missing.
    :param render: False to write the HTML only.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = f"council-district-{district.code}" + (f"-nc-{nc}" if nc else "")
    html_path = out_dir / f"{stem}.html"
    html_path.write_text(district_pack_html(conn, district, config=config, nc=nc),
                         encoding="utf-8")
    rendered = render_pack(html_path, out_dir / f"{stem}.png",
                           out_dir / f"{stem}.pdf") if render else None
    return PackFiles(html_path, *(rendered or (None, None)))


@click.command("pack")
@click.option("--district", required=True, help="Council district number, e.g. 10.")
@click.option("--nc", "ncs", multiple=True,
              help="A neighborhood council code: one more pack for that NC (repeatable).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("packs"), show_default=True, help="Directory for the files.")
@click.option("--no-render", is_flag=True, help="Write the HTML only (no PNG/PDF).")
@with_appcontext
def pack_command(district: str, ncs: tuple[str, ...], out_dir: Path, no_render: bool) -> None:
    """Write a printable district pack: offline HTML map, PNG and PDF (one set per CD or NC)."""
    from geo311.db import get_engine
    from geo311.errors import Geo311Error

    with get_engine().connect() as conn:
        try:
            found = get_district(conn, district)
            targets: list[str | None] = [None, *ncs]
            for nc in targets:
                files = write_pack(conn, found, out_dir, config=current_app.config, nc=nc,
                                   render=not no_render)
                click.echo(f"wrote {files.html}")
                if files.png and files.pdf:
                    click.echo(f"wrote {files.png}\nwrote {files.pdf}")
                elif not no_render:
                    click.echo(f"PNG/PDF skipped: {CHROMIUM} is missing (apt install chromium)")
        except Geo311Error as exc:
            raise click.ClickException(exc.message) from None


# ---------------------------------------------------------------- private
_PACK_CSS = """<style>
html, body { height: auto; }
body { display: flex; flex-direction: column; }
.folium-map { order: 0; } .pack { order: 1; }
.folium-map { height: 70vh !important; min-height: 480px; }
.pack { font: 14px/1.4 system-ui, sans-serif; color: #1a1a1a; margin: 12px 16px; }
.pack h1 { font-size: 20px; margin: 0 0 4px; }
.pack table { border-collapse: collapse; margin: 8px 0 16px; }
.pack th, .pack td { border: 1px solid #999; padding: 2px 8px; text-align: left; }
.pack .swatch { display: inline-block; width: 10px; height: 10px; border: 1px solid #1a1a1a; }
@media print { .folium-map { height: 160mm !important; }
               .leaflet-control-layers { display: none; } }
</style>"""


def _nc_place(conn: Connection, code: str) -> District:
    feature = get_area_feature(conn, "NC", code.strip(), on=today_in_la())
    from sqlalchemy import select

    from geo311.models import Area, BoundarySet

    props = feature["properties"]
    area_id = conn.execute(
        select(Area.id).join(BoundarySet, BoundarySet.id == Area.set_id)
        .where(BoundarySet.type_code == "NC", BoundarySet.vintage == props["vintage"],
               Area.code == props["code"])).scalar_one()
    return District(props["code"], props["name"], props["vintage"], area_id, feature,
                    type_code="NC")


def _centre(feature: dict[str, Any]) -> list[float]:
    from shapely.geometry import shape

    point = shape(feature["geometry"]).representative_point()
    return [point.y, point.x]


def _bounds(feature: dict[str, Any]) -> list[list[float]]:
    from shapely.geometry import shape

    west, south, east, north = shape(feature["geometry"]).bounds
    return [[south, west], [north, east]]


def _colour_by_type(points: list[dict[str, Any]]) -> dict[str, str]:
    codes = sorted({p["service_code"] for p in points})
    return {code: _TYPE_COLOURS[k % len(_TYPE_COLOURS)] for k, code in enumerate(codes)}


def _summary_html(place: District, stats: Any, hotspots: list[Any], colours: dict[str, str],
                  names: Mapping[str, str], is_nc: bool) -> str:
    as_of = (stats.as_of - timedelta(microseconds=1)).astimezone(LA_TIME).date().isoformat()
    title = f"{place.name}" if is_nc else f"Council District {place.code}"
    rows = "".join(
        f"<tr><td><span class='swatch' style='background:{colours.get(t.service_code, '#fff')}'>"
        f"</span> {escape(t.name_en)}</td><td>{t.open}</td><td>{t.age_0_7}</td>"
        f"<td>{t.age_7_30}</td><td>{t.age_30_90}</td><td>{t.age_90_plus}</td></tr>"
        for t in stats.open_by_type)
    spots = "".join(
        f"<tr><td>{escape(names.get(h.service_code, h.service_code))}</td><td>{h.count}</td>"
        f"<td>{h.weeks_active} of "
        f"{h.weeks_window}</td><td>{h.per_street_km if h.per_street_km is not None else '–'}"
        f"</td></tr>" for h in hotspots[:15])
    oldest = "".join(
        f"<tr><td>{escape(o.name_en)}</td><td>{escape(o.address or '')}</td>"
        f"<td>{o.requested.isoformat()}</td><td>{o.age_days}</td></tr>"
        for o in stats.oldest_open[:15])
    scope = (f"<p>Part of Council District {escape(stats.district.code)}; tables cover the "
             "whole district.</p>") if is_nc else ""
    return (
        f"<div class='pack'><h1>{escape(title)}: 311 requests</h1>"
        f"<p>Data as of {as_of}. Open requests, hotspots (last {TREND_WEEKS} weeks) and "
        f"facilities. Works offline.</p>{scope}"
        "<h2>Open requests by type and age (days)</h2><table><tr><th>Type</th><th>Open</th>"
        f"<th>0-7</th><th>7-30</th><th>30-90</th><th>90+</th></tr>{rows}</table>"
        "<h2>Hotspots</h2><table><tr><th>Type</th><th>Requests</th><th>Weeks active</th>"
        f"<th>Per street-km</th></tr>{spots}</table>"
        "<h2>Oldest open requests</h2><table><tr><th>Type</th><th>Address</th>"
        f"<th>Requested</th><th>Days open</th></tr>{oldest}</table></div>"
    )

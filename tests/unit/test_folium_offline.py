"""geo311.folium_offline: folium pages that link only vendored files and inline them whole."""

from __future__ import annotations

import pathlib
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

import folium
import pytest
from folium import plugins

from geo311.folium_offline import (
    DROPPED_ASSETS,
    VENDORED_ASSETS,
    UnvendoredAssetError,
    inline_assets,
    offline_map,
)

if TYPE_CHECKING:
    from playwright.sync_api import Page, Route

STATIC_ROOT = pathlib.Path(__file__).resolve().parents[2] / "web" / "static"

# Attribute values of <script src=...> and <link href=...>, the tags that make a browser fetch.
ASSET_URL = re.compile(
    r"""<(?:script|link)\b[^>]*?\b(?:src|href)\s*=\s*["']?([^"'\s>]+)""", re.IGNORECASE
)

DISTRICTS = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "properties": {"name": "CD 1"},
            "geometry": {
                "type": "Polygon",
                "coordinates": [
                    [
                        [-118.30, 34.00],
                        [-118.20, 34.00],
                        [-118.20, 34.10],
                        [-118.30, 34.10],
                        [-118.30, 34.00],
                    ]
                ],
            },
        }
    ],
}


def district_pack_map() -> folium.Map:
    """The page a district pack prints: boundaries, requests, clusters, a heat layer."""
    m = offline_map(location=[34.05, -118.25], zoom_start=12)
    folium.GeoJson(DISTRICTS, name="districts", tooltip=folium.GeoJsonTooltip(["name"])).add_to(m)
    folium.CircleMarker([34.05, -118.25], radius=8, popup="pothole").add_to(m)
    cluster = plugins.MarkerCluster(name="requests").add_to(m)
    for i in range(20):
        folium.Marker([34.07 + i * 1e-4, -118.22 + i * 1e-4]).add_to(cluster)
    heat = [[34.04 + i * 0.001, -118.27 + i * 0.0005, i % 5 + 1] for i in range(40)]
    plugins.HeatMap(heat, name="heat").add_to(m)
    folium.LayerControl().add_to(m)
    return m


@pytest.fixture
def rendered() -> str:
    return district_pack_map().get_root().render()


@pytest.fixture
def inlined(rendered: str) -> str:
    return inline_assets(rendered, STATIC_ROOT)


def test_inlined_pack_has_no_remote_script_or_stylesheet(inlined: str) -> None:
    urls = ASSET_URL.findall(inlined)
    assert not [u for u in urls if re.match(r"(?i)https?://|//", u)]
    assert urls == []  # fully self-contained: nothing left to fetch at all


def test_inlined_pack_contains_leaflet_and_plugin_code(inlined: str) -> None:
    assert "Leaflet 1.9.4, a JS library for interactive maps" in inlined
    assert 'version="1.9.4"' in inlined
    assert "markerClusterGroup=function" in inlined
    assert "L.heatLayer=function" in inlined
    assert "jQuery v3.7.1" in inlined
    assert ".marker-cluster-small" in inlined  # MarkerCluster.Default.css


def test_inlined_stylesheet_images_and_default_icons_are_data_uris(inlined: str) -> None:
    assert 'url("data:image/png;base64,' in inlined  # leaflet.css layers.png
    assert "url(images/" not in inlined
    assert "L.Icon.Default.mergeOptions(" in inlined
    assert '"iconUrl": "data:image/png;base64,' in inlined


def test_rendered_map_links_only_vendored_files(rendered: str) -> None:
    urls = ASSET_URL.findall(rendered)
    assert urls, "expected script/link tags before inlining"
    for url in urls:
        assert url.startswith("/static/vendor/"), url
        assert (STATIC_ROOT / url.removeprefix("/static/")).is_file(), url
    assert not re.search(r"bootstrap|awesome|fontawesome|glyphicons", rendered, re.IGNORECASE)


def test_offline_map_has_no_tiles_and_a_max_zoom_for_markercluster(rendered: str) -> None:
    assert "L.tileLayer" not in rendered
    assert '"maxZoom": 19' in rendered


def test_offline_map_leaves_folium_class_defaults_alone() -> None:
    before = (list(folium.Map.default_js), list(folium.Map.default_css))
    district_pack_map().get_root().render()
    assert (folium.Map.default_js, folium.Map.default_css) == before
    assert "cdn.jsdelivr.net" in folium.Map().get_root().render()


def test_every_folium_asset_we_use_is_vendored_or_dropped() -> None:
    # Fails on a folium upgrade that renames or adds an asset: update VENDORED_ASSETS,
    # scripts/vendor_assets.sh and FOLIUM_OFFLINE.md together.
    map_names = {name for name, _ in folium.Map.default_js + folium.Map.default_css}
    assert map_names <= set(VENDORED_ASSETS) | DROPPED_ASSETS
    for plugin in (plugins.MarkerCluster, plugins.HeatMap):
        assert {name for name, _ in plugin.default_js + plugin.default_css} <= set(VENDORED_ASSETS)
    for path in VENDORED_ASSETS.values():
        assert (STATIC_ROOT / path).is_file(), path


@pytest.mark.parametrize("tiles", ["OpenStreetMap", "https://tile.example.org/{z}/{x}/{y}.png"])
def test_remote_tiles_are_refused(tiles: str) -> None:
    with pytest.raises(UnvendoredAssetError, match="network"):
        offline_map(tiles=tiles, attr="test")


def test_local_tiles_are_allowed() -> None:
    m = offline_map(tiles="/tiles/raster/{z}/{x}/{y}.png", attr="geo311")
    assert "/tiles/raster/{z}/{x}/{y}.png" in m.get_root().render()


def test_folium_icon_is_refused_because_awesome_markers_are_not_vendored() -> None:
    m = offline_map(location=[34.05, -118.25])
    folium.Marker([34.05, -118.25], icon=folium.Icon(color="red")).add_to(m)
    with pytest.raises(UnvendoredAssetError, match="awesome-markers"):
        m.get_root().render()


def test_plugin_with_unvendored_asset_is_refused() -> None:
    m = offline_map(location=[34.05, -118.25])
    plugins.Fullscreen().add_to(m)
    with pytest.raises(UnvendoredAssetError, match="Fullscreen"):
        m.get_root().render()


def test_inline_assets_refuses_a_remote_script() -> None:
    html = '<html><head><script src="https://cdn.example.org/x.js"></script></head></html>'
    with pytest.raises(UnvendoredAssetError):
        inline_assets(html, STATIC_ROOT)


def test_inline_assets_refuses_paths_outside_static_root() -> None:
    html = '<link rel="stylesheet" href="/static/../../pyproject.toml"/>'
    with pytest.raises(UnvendoredAssetError, match="outside"):
        inline_assets(html, STATIC_ROOT)


def test_inline_assets_reports_a_missing_vendored_file() -> None:
    with pytest.raises(FileNotFoundError):
        inline_assets('<script src="/static/vendor/nope.js"></script>', STATIC_ROOT)


@pytest.fixture
def chromium_page(chromium_browser) -> Iterator[Page]:
    page = chromium_browser.new_page(viewport={"width": 900, "height": 650})
    try:
        yield page
    finally:
        page.close()


@pytest.mark.browser
def test_inlined_pack_renders_in_chromium_with_the_network_blocked(
    inlined: str, tmp_path: pathlib.Path, chromium_page: Page
) -> None:
    page = chromium_page
    fetched: list[str] = []
    errors: list[str] = []

    def block(route: Route) -> None:
        fetched.append(route.request.url)
        if route.request.url.startswith(("file:", "data:")):
            route.continue_()
        else:
            route.abort()

    page.route("**/*", block)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    pack = tmp_path / "pack.html"
    pack.write_text(inlined, encoding="utf-8")
    page.goto(pack.as_uri())
    page.wait_for_selector(".marker-cluster")

    assert errors == []
    assert fetched == [pack.as_uri()]
    assert page.locator("canvas.leaflet-heatmap-layer").count() == 1
    assert page.locator("path.leaflet-interactive").count() == 2

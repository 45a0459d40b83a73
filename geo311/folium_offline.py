"""Folium maps that load nothing from the internet: vendored assets, inlined on demand.

folium 0.20 points every page at CDNs (``folium.Map.default_js``/``default_css`` and each
plugin's own lists). :func:`offline_map` returns a map that, when rendered, links the copies
under ``web/static/vendor/`` instead and drops what a plain map never uses (Bootstrap,
glyphicons, Font Awesome, Leaflet.awesome-markers). :func:`inline_assets` then folds those
files into the HTML, so a printed district pack works from a USB stick with no network.
``web/static/vendor/FOLIUM_OFFLINE.md`` records which asset is needed by what.
"""

from __future__ import annotations

import base64
import json
import mimetypes
import pathlib
import re
from collections.abc import Iterator, Mapping, Sequence
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

import folium
from branca.element import Element
from folium.elements import JSCSSMixin

__all__ = [
    "DEFAULT_MAX_ZOOM",
    "DROPPED_ASSETS",
    "STATIC_URL",
    "VENDORED_ASSETS",
    "UnvendoredAssetError",
    "inline_assets",
    "offline_map",
]

#: URL prefix under which ``web/static`` is served; offline maps link ``STATIC_URL + path``.
STATIC_URL = "/static/"

#: Map maxZoom when none is given (street level; MarkerCluster needs one, tiles or not).
DEFAULT_MAX_ZOOM = 19

#: folium asset name (first item of a ``default_js``/``default_css`` pair) -> file under
#: ``web/static``. Names are folium's own, so plugins added to the map are matched too.
VENDORED_ASSETS: Mapping[str, str] = MappingProxyType(
    {
        "leaflet": "vendor/leaflet/leaflet.js",
        "leaflet_css": "vendor/leaflet/leaflet.css",
        # folium's Popup builds its content with $(`...`)[0]; keep_in_front and
        # GeoJson(embed=False) use $(document).ready and $.ajax.
        "jquery": "vendor/jquery/jquery.min.js",
        "markerclusterjs": "vendor/leaflet.markercluster/leaflet.markercluster.js",
        "markerclustercss": "vendor/leaflet.markercluster/MarkerCluster.css",
        "markerclusterdefaultcss": "vendor/leaflet.markercluster/MarkerCluster.Default.css",
        # folium's patched Leaflet.heat (normalises weights per view); npm's 0.2.0 build does
        # not, and folium.plugins.HeatMap no longer passes a `max` for it.
        "leaflet-heat.js": "vendor/folium/leaflet_heat.min.js",
    }
)

#: folium.Map defaults left out: only folium.Icon (awesome markers) and Bootstrap-styled
#: plugins use them, and :func:`offline_map` refuses folium.Icon instead.
DROPPED_ASSETS: frozenset[str] = frozenset(
    {
        "bootstrap",
        "bootstrap_css",
        "glyphicons_css",
        "awesome_markers",
        "awesome_markers_font_css",
        "awesome_markers_css",
        "awesome_rotate_css",
    }
)

# One pass over the page, so text inside inlined files is never rescanned.
_ASSET_TAG = re.compile(
    r"""(?P<script><script\b[^>]*?\bsrc\s*=\s*(["'])(?P<url>[^"']*)\2[^>]*>\s*</script\s*>)"""
    r"|(?P<link><link\b[^>]*>)",
    re.IGNORECASE,
)
_ATTR = re.compile(r"""\b(?P<name>rel|href)\s*=\s*(["'])(?P<value>[^"']*)\2""", re.IGNORECASE)
_CSS_URL = re.compile(r"""url\(\s*(["']?)(?P<url>[^"')]+)\1\s*\)""")
_SOURCE_MAP = re.compile(r"^\s*//# sourceMappingURL=\S*\s*$", re.MULTILINE)
_LEAFLET_ICONS = {"iconUrl": "marker-icon.png", "iconRetinaUrl": "marker-icon-2x.png"}
_LEAFLET_SHADOW = "marker-shadow.png"


class UnvendoredAssetError(ValueError):
    """A map needs something from the network that is not vendored under web/static/vendor."""


class _OfflineMap(folium.Map):
    """A folium.Map whose rendered assets all point at vendored files (see offline_map)."""

    def __init__(self, *, static_url: str = STATIC_URL, **map_kwargs: Any) -> None:
        map_kwargs.setdefault("tiles", None)
        super().__init__(**map_kwargs)
        # folium hands min/max zoom only to the tile layer it creates. With no tile layer the
        # map has no maxZoom, and L.markerClusterGroup throws "Map has no maxZoom specified".
        self.options.setdefault("max_zoom", map_kwargs.get("max_zoom") or DEFAULT_MAX_ZOOM)
        if map_kwargs.get("min_zoom") is not None:
            self.options.setdefault("min_zoom", map_kwargs["min_zoom"])
        self.static_url = static_url
        _check_tree(self)

    def render(self, **kwargs: Any) -> Any:
        """Swap CDN links for vendored ones on every element in the figure, then render.

        Done at render time so plugins added after :func:`offline_map` are covered. The
        lists are set per instance: folium's class-level lists stay untouched.
        """
        for element in _walk(self.get_root()):
            _check_element(element)
            if isinstance(element, JSCSSMixin):
                drop = isinstance(element, folium.Map)
                element.default_js = self._localize(element, element.default_js, drop)
                element.default_css = self._localize(element, element.default_css, drop)
        return super().render(**kwargs)

    def _localize(
        self, element: Element, pairs: Sequence[tuple[str, str]], drop: bool
    ) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        for name, url in pairs:
            if drop and name in DROPPED_ASSETS:
                continue
            if name in VENDORED_ASSETS:
                out.append((name, self.static_url + VENDORED_ASSETS[name]))
            elif _is_external(url):
                raise UnvendoredAssetError(
                    f"{type(element).__name__} needs {name!r} from {url}, which is not "
                    "vendored under web/static/vendor/ (see FOLIUM_OFFLINE.md)"
                )
            else:
                out.append((name, url))
        return out


def offline_map(*, static_url: str = STATIC_URL, **map_kwargs: Any) -> folium.Map:
    """Build a folium map whose scripts and stylesheets come from ``web/static/vendor``.

    Tiles default to none: a base layer from a tile server would be a network fetch. Pass
    ``tiles`` only as a local URL template. Supported elements are those in FOLIUM_OFFLINE.md
    (GeoJson, CircleMarker, Marker, Popup, Tooltip, FeatureGroup, LayerControl, MarkerCluster,
    HeatMap...); anything needing an asset that is not vendored fails at render time.

    >>> m = offline_map(location=[34.05, -118.25], zoom_start=10)
    >>> 'src="/static/vendor/leaflet/leaflet.js"' in m.get_root().render()
    True

    :param static_url: URL prefix under which ``web/static`` is served.
    :param map_kwargs: passed to :class:`folium.Map` (``location`` is ``[lat, lon]``).
    :returns: a :class:`folium.Map`; render it or pass its HTML to :func:`inline_assets`.
    :raises UnvendoredAssetError: if ``tiles`` points at a remote server.
    """
    return _OfflineMap(static_url=static_url, **map_kwargs)


def inline_assets(html: str, static_root: pathlib.Path, *, static_url: str = STATIC_URL) -> str:
    """Replace every ``<script src>`` and stylesheet ``<link href>`` with the file's contents.

    Images a stylesheet refers to become ``data:`` URIs, and Leaflet's default marker icons
    are set to ``data:`` URIs too (Leaflet finds them through the stylesheet's URL, which
    inlining removes). The result needs no server and no network.

    :param html: a rendered page, e.g. ``offline_map(...).get_root().render()``.
    :param static_root: the directory served at ``static_url`` (the repo's ``web/static``).
    :param static_url: URL prefix that local asset URLs in ``html`` start with.
    :returns: the page with all scripts and stylesheets inline.
    :raises UnvendoredAssetError: if a script or stylesheet is remote or outside ``static_url``.
    :raises FileNotFoundError: if a referenced file is missing under ``static_root``.
    """
    root = static_root.resolve()

    def replace(match: re.Match[str]) -> str:
        if match["script"]:
            return _inline_script(match["url"], root, static_url)
        return _inline_link(match["link"], root, static_url)

    return _ASSET_TAG.sub(replace, html)


def _inline_script(url: str, root: pathlib.Path, static_url: str) -> str:
    path = _local_file(url, root, static_url)
    code = _SOURCE_MAP.sub("", path.read_text(encoding="utf-8"))
    tags = _script_tag(code, path.relative_to(root).as_posix())
    if path.name == "leaflet.js" and (path.parent / "images" / _LEAFLET_SHADOW).is_file():
        tags += _script_tag(_leaflet_icon_fix(path.parent / "images"), "leaflet-icons")
    return tags


def _inline_link(tag: str, root: pathlib.Path, static_url: str) -> str:
    attrs = {m["name"].lower(): m["value"] for m in _ATTR.finditer(tag)}
    href = attrs.get("href")
    if href is None:
        return tag
    if "stylesheet" not in attrs.get("rel", "").lower().split():
        # Icons, preloads and the like are left alone unless they would hit the network.
        if _is_external(href):
            raise UnvendoredAssetError(f"link to remote {href} cannot be made offline")
        return tag
    path = _local_file(href, root, static_url)
    css = _inline_css_urls(path.read_text(encoding="utf-8"), path.parent, root)
    css = re.sub(r"</style", r"<\\/style", css, flags=re.IGNORECASE)
    return f"<style>\n{css}\n</style>"


def _walk(element: Element) -> Iterator[Element]:
    yield element
    for child in list(element._children.values()):
        yield from _walk(child)


def _check_tree(m: folium.Map) -> None:
    for element in _walk(m):
        _check_element(element)


def _check_element(element: Element) -> None:
    # folium.Icon renders L.AwesomeMarkers.icon(...), which needs the awesome-markers plugin
    # plus Font Awesome or glyphicon fonts: four more downloads for a pin. Use CircleMarker.
    if isinstance(element, folium.Icon):
        raise UnvendoredAssetError(
            "folium.Icon needs Leaflet.awesome-markers and icon fonts, which are not vendored; "
            "use folium.CircleMarker or folium.DivIcon"
        )
    if isinstance(element, folium.TileLayer) and _is_external(str(element.tiles)):
        raise UnvendoredAssetError(f"tile layer {element.tiles} would be fetched from the network")
    if isinstance(element, folium.GeoJson) and not element.embed:
        if _is_external(str(element.embed_link)):
            raise UnvendoredAssetError(f"GeoJson would be fetched from {element.embed_link}")


def _is_external(url: str) -> bool:
    """True for anything that is fetched from another host (or the file system).

    >>> _is_external("https://example.org/x.js"), _is_external("//example.org/x.js")
    (True, True)
    >>> _is_external("/static/vendor/x.js"), _is_external("data:image/png;base64,AA==")
    (False, False)
    """
    parts = urlsplit(url.strip())
    return bool(parts.netloc) or parts.scheme not in ("", "data")


def _local_file(url: str, root: pathlib.Path, static_url: str) -> pathlib.Path:
    if _is_external(url):
        raise UnvendoredAssetError(f"{url} is remote; only files under {static_url} are inlined")
    path = urlsplit(url).path
    if not path.startswith(static_url):
        raise UnvendoredAssetError(f"{url} is not under {static_url}")
    return _inside(root / path[len(static_url) :], root, url)


def _inside(candidate: pathlib.Path, root: pathlib.Path, url: str) -> pathlib.Path:
    path = candidate.resolve()
    if not path.is_relative_to(root):
        raise UnvendoredAssetError(f"{url} resolves outside {root}")
    if not path.is_file():
        raise FileNotFoundError(f"{url}: no file at {path}")
    return path


def _script_tag(code: str, label: str) -> str:
    # "</script" anywhere in the code would end the element early; "<\/script" means the same
    # inside JS strings and regexes. The vendored files contain none, but stay safe on upgrade.
    code = re.sub(r"</script", r"<\\/script", code, flags=re.IGNORECASE)
    if "<!--" in code and "<script" in code.lower():
        raise ValueError(f"{label}: '<!--' with '<script' cannot be inlined safely")
    return f"<script>\n{code}\n//# sourceURL={label}\n</script>"


def _inline_css_urls(css: str, base: pathlib.Path, root: pathlib.Path) -> str:
    def replace(match: re.Match[str]) -> str:
        url = match["url"].strip()
        if url.startswith(("#", "data:")):  # leaflet.css has url(#default#VML) for old IE
            return match[0]
        if _is_external(url):
            raise UnvendoredAssetError(f"stylesheet refers to remote {url}")
        return f'url("{_data_uri(_inside(base / urlsplit(url).path, root, url))}")'

    return _CSS_URL.sub(replace, css)


def _data_uri(path: pathlib.Path) -> str:
    mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


def _leaflet_icon_fix(images: pathlib.Path) -> str:
    # Leaflet derives L.Icon.Default.imagePath from the stylesheet's marker-icon.png URL,
    # which is a data: URI once inlined; give it the images directly instead.
    options = {key: _data_uri(images / name) for key, name in _LEAFLET_ICONS.items()}
    options["shadowUrl"] = _data_uri(images / _LEAFLET_SHADOW)
    return f'L.Icon.Default.imagePath = "";\nL.Icon.Default.mergeOptions({json.dumps(options)});'

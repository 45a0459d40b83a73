"""Council-office pages: ``/council/<district>`` and its offline district pack ``pack.html``.

Public without login (open-data fields only). A council user of the district (or an admin),
by staff bearer token or signed-in session, also sees contact details and internal notes of the
oldest open requests; those responses are ``private`` and vary on ``Authorization`` and
``Cookie``. The map is drawn by ``web/static/js/council.js`` from ``/api/v1`` and ``/tiles``;
the tables are rendered here.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Blueprint, Response, current_app, render_template

from geo311.auth import Principal, current_principal
from geo311.boundaries import LA_TIME
from geo311.catalogue import service_type_names
from geo311.council_stats import (
    TREND_WEEKS,
    District,
    district_as_of,
    district_ncs,
    district_stats,
    get_district,
)
from geo311.db import get_conn
from geo311.errors import BadRequest, NotFound
from geo311.hotspots import find_hotspots, params_from_config
from geo311.pages import page_lang, page_strings
from geo311.request_query import RequestFilter

__all__ = ["blueprint", "can_see_private", "district_hotspots"]

blueprint = Blueprint("council", __name__)


def can_see_private(principal: Principal | None, district: str) -> bool:
    """True for a council user of ``district`` or an admin.

    >>> can_see_private(Principal(1, "cd10", "council", None, "10"), "10")
    True
    >>> can_see_private(Principal(1, "cd4", "council", None, "4"), "10")
    False
    """
    if principal is None:
        return False
    return principal.role == "admin" or (principal.role == "council"
                                         and principal.council_district == district)


@blueprint.get("/council/<district>")
def council_page(district: str) -> Response | tuple[str, int]:
    """One council district: map, open requests by type and age, trends, NCs, hotspots."""
    lang = page_lang()
    t = page_strings(lang)
    conn = get_conn()
    found = _find_district(district)
    if found is None:
        return _not_found(district, lang, t)
    staff = can_see_private(current_principal(), found.code)
    as_of = district_as_of(conn, found.code)
    stats = district_stats(conn, found, as_of=as_of, staff=staff)
    ncs = district_ncs(conn, found)
    hotspots = district_hotspots(found, stats.as_of)
    since = stats.weeks[0].isoformat()
    until = (as_of - timedelta(microseconds=1)).astimezone(LA_TIME).date().isoformat()
    config = {
        "lang": lang,
        "strings": t,
        "basemapUrl": current_app.config.get("BASEMAP_URL", ""),
        "district": found.code,
        "start": since,
        "end": until,
        "ncCodes": [nc["properties"]["code"] for nc in ncs],
    }
    html = render_template("council.html", lang=lang, t=t, page_config=config, stats=stats,
                           district=found, ncs=ncs, hotspots=hotspots, trend_weeks=TREND_WEEKS,
                           staff=staff, type_names=service_type_names(conn, lang))
    response = Response(html, mimetype="text/html")
    if staff:
        response.headers["Cache-Control"] = "private, no-store"
    response.vary.add("Authorization")
    response.vary.add("Cookie")
    return response


@blueprint.get("/council/<district>/pack.html")
def council_pack(district: str) -> Response | tuple[str, int]:
    """The district pack as one offline HTML file (a download): map with everything inlined."""
    from geo311.pack import district_pack_html

    found = _find_district(district)
    if found is None:
        lang = page_lang()
        return _not_found(district, lang, page_strings(lang))
    html = district_pack_html(get_conn(), found, config=current_app.config)
    return Response(html, mimetype="text/html", headers={
        "Content-Disposition": f'attachment; filename="council-district-{found.code}.html"'})


def district_hotspots(found: District, as_of: Any, limit: int = 10) -> list[dict[str, Any]]:
    """The district's hotspots over the trend window ending at ``as_of`` (settings' defaults)."""
    filters = RequestFilter(area=("CD", found.code), start=as_of - timedelta(weeks=TREND_WEEKS),
                            end=as_of)
    params = params_from_config(current_app.config, filters, limit=limit)
    return [h.as_dict() for h in find_hotspots(get_conn(), params).hotspots]


def _find_district(code: str) -> District | None:
    if not code.isdigit() or len(code) > 3:
        return None
    try:
        return get_district(get_conn(), str(int(code)))
    except (NotFound, BadRequest):
        return None


def _not_found(district: str, lang: str, t: dict[str, str]) -> tuple[str, int]:
    return render_template("council_404.html", lang=lang, t=t, district=district[:20]), 404

"""The pages: resident map (``/``), text-only path (``/text``), dispatcher (``/dispatch``); en/es.

Page strings live in ``web/static/i18n/<lang>.json`` (read once). The map page does its work in
``web/static/js/resident.js`` through ``/api/v1`` and ``/tiles``; the text-only page answers on
the server with :func:`geo311.locate.locate_text`, so it needs no JavaScript.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from flask import Blueprint, current_app, g, redirect, render_template, request, url_for

from geo311.config import PROJECT_ROOT
from geo311.db import get_conn
from geo311.errors import BadRequest, NotFound
from geo311.locate import locate_text
from geo311.models import REQUEST_STATUSES

__all__ = ["blueprint", "LANGS", "page_lang", "page_strings", "query_from_form"]

blueprint = Blueprint("pages", __name__)

#: Languages with a string table, the first is the fallback.
LANGS = ("en", "es")
#: Where the map opens: Koreatown (lon, lat) at street zoom.
MAP_CENTER = (-118.3005, 34.0655)
MAP_ZOOM = 16


def page_lang() -> str:
    """The page language: ``?lang=`` when given, else the Accept-Language match, else English."""
    asked = (request.args.get("lang") or "").lower()
    if asked:
        return "es" if asked.startswith("es") else "en"
    return request.accept_languages.best_match(LANGS) or LANGS[0]


@cache
def page_strings(lang: str) -> dict[str, str]:
    """The string table of one language (``web/static/i18n/<lang>.json``), read once.

    :param lang: one of :data:`LANGS`.
    """
    if lang not in LANGS:
        lang = LANGS[0]
    path = PROJECT_ROOT / "web" / "static" / "i18n" / f"{lang}.json"
    return json.loads(path.read_text(encoding="utf-8"))


def query_from_form(args: Any) -> str | None:
    """Build the locate text from one of the text-only forms.

    ``address`` wins, then an intersection (``street1`` & ``street2``), then a block
    (``street`` between ``from`` and ``to``).

    :param args: the request's query mapping.
    :returns: the text to locate, or None when every field is empty.
    """
    def get(name: str) -> str:
        return " ".join((args.get(name) or "").split())

    if get("address"):
        return get("address")
    if get("street1") and get("street2"):
        return f"{get('street1')} & {get('street2')}"
    if get("street") and get("from") and get("to"):
        return f"{get('street')} between {get('from')} and {get('to')}"
    if get("street") or get("street1"):
        return get("street") or get("street1")
    return None


@blueprint.get("/")
def resident() -> str:
    """The map page."""
    return _render_map_page("resident.html", zoom=MAP_ZOOM)


#: Staff who work the dispatcher map (council offices have their own district pages).
DISPATCH_ROLES = ("agent", "dispatcher", "crew", "dept_admin", "admin")


@blueprint.get("/dispatch")
def dispatch() -> Any:
    """The dispatcher map: requests from /tiles and /api/v1/requests, filters, heatmap, overlays.

    Staff only: anyone else is sent to the login page, and comes back here after signing in.
    """
    principal = g.get("principal")
    if principal is None:
        return redirect(url_for("sessions.login_form", next="/dispatch"), code=303)
    if principal.role not in DISPATCH_ROLES:  # signed in, but not as dispatch staff: say so
        from geo311.sessions import sign_in_page

        home = (f" Your district's page is /council/{principal.council_district}."
                if principal.role == "council" and principal.council_district else "")
        return sign_in_page(next_path="/dispatch", status=403, error=(
            f"The dispatcher map is for the roles {', '.join(DISPATCH_ROLES)}; you are signed "
            f"in as {principal.name} ({principal.role}).{home} Sign out to sign in as someone "
            "else."))
    return _render_map_page("dispatch.html", zoom=14, statuses=list(REQUEST_STATUSES))


@blueprint.get("/text")
def text_only() -> str:
    """The text-only path: three forms and, when one was sent, the answer rendered here."""
    lang = page_lang()
    query = query_from_form(request.args)
    answer: dict[str, Any] | None = None
    error: str | None = None
    if query is not None:
        try:
            answer = locate_text(get_conn(), query, lang=lang).as_dict()
        except BadRequest as exc:
            error = exc.message
    return render_template("text.html", lang=lang, t=page_strings(lang), query=query,
                           answer=answer, error=error, form=request.args)


#: History notes the system writes (geo311.service_requests) -> the string saying them on a page.
SYSTEM_NOTES = {"request received": "history_request_received"}


@blueprint.get("/requests/<int:request_id>")
def track(request_id: int) -> Any:
    """The tracking page of one request: public fields, followers and public status history.

    An unknown id gets a 404 page in the reader's language.
    """
    from geo311.boundaries import LA_TIME
    from geo311.catalogue import department_name, find_service_type_row
    from geo311.request_tracking import count_followers, public_history
    from geo311.service_requests import get_request

    lang = page_lang()
    conn = get_conn()
    try:
        state = get_request(conn, request_id)
    except NotFound:
        return render_template("track.html", lang=lang, t=page_strings(lang),
                               request_id=request_id, state=None), 404
    service = find_service_type_row(conn, state.service_code)
    type_name = (service.name_es if lang == "es" else service.name_en) if service else None
    department = (department_name(conn, state.department, lang)
                  or ((state.locate or {}).get("department") or {}).get("name") or state.department)
    return render_template("track.html", lang=lang, t=page_strings(lang), request_id=request_id,
                           state=state, type_name=type_name or state.service_code,
                           department=department, la_time=LA_TIME,
                           followers=count_followers(conn, request_id),
                           history=public_history(conn, request_id), system_notes=SYSTEM_NOTES)


def _render_map_page(template: str, zoom: int, **extra: Any) -> str:
    """Render a map page in the page language, its ``#page-config`` holding the language, its
    strings, the basemap and where the map opens (``extra`` adds the page's own settings)."""
    lang = page_lang()
    config = {
        "lang": lang,
        "strings": page_strings(lang),
        "basemapUrl": current_app.config.get("BASEMAP_URL", ""),
        "center": {"lon": MAP_CENTER[0], "lat": MAP_CENTER[1]},
        "zoom": zoom,
        **extra,
    }
    return render_template(template, lang=lang, t=page_strings(lang), page_config=config)

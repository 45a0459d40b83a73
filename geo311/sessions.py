"""Staff login sessions for pages (/login, /logout) and CSRF protection of session-made writes.

A staff member signs in with name and password on ``/login``; the Flask session cookie (signed
with ``SECRET_KEY``, HttpOnly, SameSite=Lax) then identifies them on pages and on ``/api/v1``
calls made by those pages, exactly like a bearer token of their role and department.

Every POST/PUT/PATCH/DELETE made with a session (and the login form itself) must carry the
session's CSRF token, in the form field ``csrf_token`` or the header ``X-CSRF-Token``; a missing or
wrong token gets 403. Page scripts find the token in the ``csrf_token`` cookie (readable by
JavaScript; a foreign site can neither read it nor make the browser send the header). Calls with
``Authorization: Bearer`` never use the session and need no CSRF token.
"""

from __future__ import annotations

import hmac
import os
import secrets
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    g,
    redirect,
    render_template,
    request,
    session,
)
from sqlalchemy import select
from werkzeug.wrappers import Response as BaseResponse

from geo311.auth import Principal, bearer_token, check_password
from geo311.config import PROJECT_ROOT
from geo311.errors import Forbidden

__all__ = ["CSRF_FIELD", "CSRF_HEADER", "CSRF_COOKIE", "blueprint", "init_app", "csrf_token"]

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
CSRF_COOKIE = "csrf_token"
_USER_KEY = "staff_user_id"
_CSRF_KEY = "csrf"
_WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
_DEFAULT_NEXT = "/dispatch"

blueprint = Blueprint("sessions", __name__,
                      template_folder=str(PROJECT_ROOT / "web" / "templates"))


def init_app(app: Flask) -> None:
    """Set up the session cookie and secret, the login pages, and the per-request check."""
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _stored_secret(Path(app.config["VAR_DIR"]))
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = secrets.token_hex(32)
        app.config["SECRET_KEY_EPHEMERAL"] = True  # `geo311 setup` then stores one for the workers
        if not app.testing:
            app.logger.warning(
                "SECRET_KEY is not set: using a random key for this process only, so sessions "
                "end on restart and are not shared between workers; set GEO311_SECRET_KEY")
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    if not app.config.get("SESSION_COOKIE_SAMESITE"):
        app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.register_blueprint(blueprint)
    app.before_request(_session_caller)


def ensure_stored_secret(var_dir: Path) -> Path:
    """Create ``VAR_DIR/secret_key`` (mode 0600) once, so every worker and restart of a
    ``make run`` deployment signs sessions with the same key.

    :returns: the file's path.
    """
    path = var_dir / "secret_key"
    if not path.exists():
        var_dir.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_hex(32))
    return path


def keep_secret_for_workers(app: Flask) -> Path | None:
    """Store a session secret in ``VAR_DIR`` when none was set or stored (``geo311 setup``), so
    the gunicorn workers started next share it; an operator's ``GEO311_SECRET_KEY`` is left alone.

    :returns: the stored file, or None when a key was configured.
    """
    if not app.config.get("SECRET_KEY_EPHEMERAL"):
        return None
    return ensure_stored_secret(Path(app.config["VAR_DIR"]))


def _stored_secret(var_dir: Path) -> str | None:
    path = var_dir / "secret_key"
    try:
        return path.read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


def csrf_token() -> str:
    """This session's CSRF token (created on first use)."""
    token = session.get(_CSRF_KEY)
    if not token:
        token = session[_CSRF_KEY] = secrets.token_urlsafe(32)
    return str(token)


@blueprint.get("/login")
def login_form() -> Response:
    """The staff sign-in form (or who is signed in, with a sign-out button)."""
    return _page(next_path=_safe_next(request.args.get("next")))


@blueprint.post("/login")
def login_submit() -> BaseResponse:
    """Check name and password (the CSRF token was checked before), start the session."""
    from geo311.audit import record_event
    from geo311.db import get_engine

    name = (request.form.get("name") or "").strip()
    password = request.form.get("password") or ""
    next_path = _safe_next(request.form.get("next"))
    with get_engine().begin() as conn:
        principal = check_password(conn, name, password) if name and password else None
        if principal is not None:
            record_event(principal, "login", target=name, detail={"method": "session"},
                         conn=conn)
    if principal is None:
        record_event(None, "login", outcome="failed", target=name[:64],
                     detail={"method": "session"})
        return _page(next_path=next_path, error="Wrong name or password.", status=401)
    session.clear()  # a new session and a new CSRF token: no fixation across the login
    session[_USER_KEY] = principal.user_id
    response = redirect(next_path, code=303)
    _set_csrf_cookie(response, csrf_token())
    return response


@blueprint.post("/logout")
def logout() -> BaseResponse:
    """End the session (CSRF-checked like every session write)."""
    session.clear()
    response = redirect("/login", code=303)
    response.delete_cookie(CSRF_COOKIE)
    return response


# ---------------------------------------------------------------- private helpers
def _session_caller() -> None:
    """Before each request: a session caller becomes ``g.principal``; session writes need CSRF."""
    if bearer_token() is not None:
        return  # API clients authenticate each call; the session plays no part
    user_id = session.get(_USER_KEY)
    principal = _find_user(user_id) if user_id is not None else None
    if user_id is not None and principal is None:
        session.clear()  # the account was deactivated or removed
    if principal is not None:
        g.principal = principal
    if request.method in _WRITE_METHODS and (
            principal is not None or request.endpoint == "sessions.login_submit"):
        _check_csrf()


def _check_csrf() -> None:
    expected = session.get(_CSRF_KEY)
    sent = request.headers.get(CSRF_HEADER) or (
        request.form.get(CSRF_FIELD) if request.mimetype in (
            "application/x-www-form-urlencoded", "multipart/form-data") else None)
    if not expected or not sent or not hmac.compare_digest(str(expected), sent):
        raise Forbidden(f"missing or wrong CSRF token (send the form field {CSRF_FIELD} or "
                        f"the header {CSRF_HEADER})")


def _find_user(user_id: Any) -> Principal | None:
    from geo311.db import get_engine
    from geo311.models import StaffUser

    if not isinstance(user_id, int):
        return None
    with get_engine().connect() as conn:
        row = conn.execute(select(StaffUser.id, StaffUser.name, StaffUser.role,
                                  StaffUser.department, StaffUser.council_district)
                           .where(StaffUser.id == user_id, StaffUser.active.is_(True))
                           ).one_or_none()
    return Principal(*row) if row else None


def sign_in_page(*, next_path: str, error: str | None = None, status: int = 200) -> Response:
    """The sign-in page (or, when signed in, who is and a sign-out button) with ``error``.

    Pages that need another role answer with it (status 403): the signed-in person reads why,
    and is not sent to a "Continue" link that leads back to the same refusal.
    """
    return _page(next_path=next_path, error=error, status=status)


def _page(*, next_path: str, error: str | None = None, status: int = 200) -> Response:
    principal = g.get("principal")
    token = csrf_token()
    html = render_template("login.html", csrf_field=CSRF_FIELD, csrf_token=token,
                           next_path=next_path, error=error, principal=principal)
    response = Response(html, status=status, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    if principal is not None:
        _set_csrf_cookie(response, token)
    return response


def _set_csrf_cookie(response: BaseResponse, token: str) -> None:
    config = current_app.config
    response.set_cookie(CSRF_COOKIE, token, httponly=False, samesite="Lax",
                        secure=bool(config.get("SESSION_COOKIE_SECURE")), path="/")


def _safe_next(value: str | None) -> str:
    """Only a path on this site (never ``//host`` or a URL), else the dispatcher page."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return _DEFAULT_NEXT
    return value

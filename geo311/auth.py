"""Staff accounts and API tokens: passwords (scrypt), bearer tokens, roles and department scope.

A token is random (``secrets.token_urlsafe(32)``), shown once, and stored as its SHA-256 (enough
for a high-entropy secret). Each token carries the role and department it was issued for, so a
token can be narrower than its user. Staff endpoints are wrapped in :func:`require_role`; the
resolved caller is on ``g.principal``. Refusals are audited (see :mod:`geo311.audit`).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar

from flask import g, request
from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Connection
from werkzeug.security import check_password_hash, generate_password_hash

from geo311.apikeys import hash_token
from geo311.errors import BadRequest, Forbidden, NotFound, Unauthorized
from geo311.models import STAFF_ROLES, ApiToken, Department, StaffUser

__all__ = [
    "STAFF_TOKEN_PREFIX",
    "DEPARTMENT_ROLES",
    "Principal",
    "StaffUserInfo",
    "create_user",
    "list_users",
    "issue_token",
    "revoke_user_tokens",
    "check_password",
    "find_principal",
    "bearer_token",
    "current_principal",
    "require_role",
    "check_department",
]

#: Staff tokens start with this, so a leaked one is recognisable (Open311 keys use ``g311_``).
STAFF_TOKEN_PREFIX = "g311s_"
#: Roles whose writes are limited to their own department.
DEPARTMENT_ROLES = ("crew", "dept_admin")
_SHOWN_PREFIX_LEN = 12
_DUMMY_HASH = generate_password_hash("not-a-password", method="scrypt")

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Principal:
    """Who is calling: the user and the scope of the token used."""

    user_id: int
    name: str
    role: str
    department: str | None
    council_district: str | None
    token_id: int | None = None


@dataclass(frozen=True)
class StaffUserInfo:
    """A staff account as listed (never the password hash)."""

    id: int
    name: str
    role: str
    department: str | None
    council_district: str | None
    active: bool
    active_tokens: int


def create_user(conn: Connection, name: str, role: str, *, department: str | None = None,
                council_district: str | None = None, password: str | None = None) -> int:
    """Create a staff account.

    :param conn: a connection in a transaction (the caller commits).
    :param name: unique login name.
    :param role: one of :data:`geo311.models.STAFF_ROLES`.
    :param department: department code (required for ``crew`` and ``dept_admin``).
    :param council_district: council district number (required for ``council``).
    :param password: optional; stored as an scrypt hash.
    :returns: the new user's id.
    :raises BadRequest: for a bad role, missing scope, unknown department or a taken name.
    """
    name = name.strip()
    if not name:
        raise BadRequest("a user needs a name")
    if role not in STAFF_ROLES:
        raise BadRequest(f"role must be one of {', '.join(STAFF_ROLES)}")
    if role in DEPARTMENT_ROLES and not department:
        raise BadRequest(f"role {role} needs --department")
    if role == "council" and not council_district:
        raise BadRequest("role council needs --district")
    if department and conn.execute(
            select(Department.code).where(Department.code == department)).first() is None:
        raise BadRequest(f"unknown department {department!r}")
    if conn.execute(select(StaffUser.id).where(StaffUser.name == name)).first() is not None:
        raise BadRequest(f"user {name!r} already exists")
    return conn.execute(insert(StaffUser).values(
        name=name, role=role, department=department, council_district=council_district,
        password_hash=generate_password_hash(password, method="scrypt") if password else None,
    ).returning(StaffUser.id)).scalar_one()


def list_users(conn: Connection) -> list[StaffUserInfo]:
    """Every account with its count of unrevoked tokens, by name."""
    tokens = (select(func.count()).where(ApiToken.user_id == StaffUser.id,
                                         ApiToken.revoked_at.is_(None)).scalar_subquery())
    rows = conn.execute(select(StaffUser.id, StaffUser.name, StaffUser.role, StaffUser.department,
                               StaffUser.council_district, StaffUser.active, tokens)
                        .order_by(StaffUser.name))
    return [StaffUserInfo(*row) for row in rows]


def issue_token(conn: Connection, user_id: int, *, role: str | None = None,
                department: str | None = None) -> str:
    """Issue a token for a user, scoped to the user's role and department unless narrowed.

    :param role: a narrower role for this token (default: the user's).
    :param department: a department for this token (default: the user's).
    :returns: the token, which is not stored and cannot be shown again.
    :raises NotFound: for an unknown user.
    """
    user = conn.execute(select(StaffUser).where(StaffUser.id == user_id)).one_or_none()
    if user is None:
        raise NotFound(f"no user with id {user_id}")
    token = STAFF_TOKEN_PREFIX + secrets.token_urlsafe(32)
    conn.execute(insert(ApiToken).values(
        user_id=user_id, prefix=token[:_SHOWN_PREFIX_LEN], token_hash=hash_token(token),
        role=role or user.role, department=department or user.department))
    return token


def revoke_user_tokens(conn: Connection, name: str) -> int:
    """Revoke every active token of the user called ``name``.

    :returns: how many tokens were revoked.
    :raises NotFound: for an unknown user.
    """
    user_id = conn.execute(select(StaffUser.id).where(StaffUser.name == name)).scalar()
    if user_id is None:
        raise NotFound(f"no user named {name!r}")
    result = conn.execute(update(ApiToken)
                          .where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
                          .values(revoked_at=func.now()))
    return result.rowcount


def check_password(conn: Connection, name: str, password: str) -> Principal | None:
    """The principal for a correct name and password of an active user, else ``None``.

    An unknown name still costs one scrypt check, so timing does not reveal which names exist.
    """
    user = conn.execute(select(StaffUser).where(StaffUser.name == name,
                                                StaffUser.active.is_(True))).one_or_none()
    if user is None or not user.password_hash:
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not check_password_hash(user.password_hash, password):
        return None
    return Principal(user.id, user.name, user.role, user.department, user.council_district)


def find_principal(conn: Connection, token: str) -> Principal | None:
    """The principal of an unrevoked token of an active user, else ``None``."""
    row = conn.execute(
        select(StaffUser.id, StaffUser.name, ApiToken.role, ApiToken.department,
               StaffUser.council_district, ApiToken.id)
        .join(StaffUser, StaffUser.id == ApiToken.user_id)
        .where(ApiToken.token_hash == hash_token(token), ApiToken.revoked_at.is_(None),
               StaffUser.active.is_(True))
    ).one_or_none()
    return Principal(*row) if row else None


def bearer_token() -> str | None:
    """The token of this request's ``Authorization: Bearer ...`` header, if any."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def current_principal() -> Principal | None:
    """Resolve (once per request) the bearer token to a principal; ``None`` for anonymous.

    :raises Unauthorized: for a token that is unknown or revoked (the failure is audited).
    """
    if "principal" in g:
        return g.principal
    from geo311.audit import record_event
    from geo311.db import get_engine

    token = bearer_token()
    principal = None
    if token is not None:
        with get_engine().connect() as conn:
            principal = find_principal(conn, token)
        if principal is None:
            record_event(None, "login", outcome="failed", target=token[:_SHOWN_PREFIX_LEN],
                         detail={"method": "token", "path": request.path})
            raise Unauthorized("invalid or revoked token")
    g.principal = principal
    return principal


def require_role(*roles: str) -> Callable[[F], F]:
    """Decorate a view: 401 without a valid token, 403 (audited) for a role not in ``roles``."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            principal = current_principal()
            if principal is None:
                raise Unauthorized("this endpoint needs a staff token (Authorization: Bearer)",
                                   headers={"WWW-Authenticate": "Bearer"})
            if principal.role not in roles:
                _refuse(principal, f"role {principal.role} may not do this")
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator


def check_department(principal: Principal, department: str | None, *,
                     council_areas: list[dict[str, Any]] | None = None) -> None:
    """Refuse (403, audited) a department-scoped caller outside its department.

    :param principal: the caller.
    :param department: the department of the request being touched.
    :param council_areas: the request's areas; when given, a council caller must share its CD.
    :raises Forbidden: when the caller's scope does not cover the request.
    """
    if principal.role in DEPARTMENT_ROLES and principal.department != department:
        _refuse(principal, f"this request belongs to department {department or 'none'}")
    if principal.role == "council" and council_areas is not None:
        districts = {str(a.get("code")) for a in council_areas if a.get("type") == "CD"}
        if principal.council_district not in districts:
            _refuse(principal, "this request is outside your council district")


def _refuse(principal: Principal, message: str) -> None:
    from geo311.audit import record_event

    record_event(principal, request.endpoint or request.path, outcome="denied",
                 target=request.path, detail={"method": request.method, "why": message})
    raise Forbidden(message)

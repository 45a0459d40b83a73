"""Open311 API keys: create, list, revoke (hashed at rest) and check, plus keys from settings.

A key is a random token shown once at creation; the database keeps only its SHA-256 (enough for
a high-entropy token: nobody can guess one to match a leaked hash) and a short prefix to tell
keys apart. Deployments that inject secrets by environment list keys in ``OPEN311_API_KEYS``
(comma separated); those are compared in constant time and never stored.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Connection

from geo311.errors import NotFound
from geo311.models import ApiKey

__all__ = [
    "TOKEN_PREFIX",
    "ApiKeyInfo",
    "ApiCaller",
    "create_api_key",
    "list_api_keys",
    "revoke_api_key",
    "check_api_key",
    "configured_keys",
    "hash_token",
    "apikeys_group",
]

#: Every generated token starts with this, so a leaked one is easy to recognise in logs.
TOKEN_PREFIX = "g311_"
_SHOWN_PREFIX_LEN = 12


@dataclass(frozen=True)
class ApiKeyInfo:
    """A stored key as listed: never the token itself."""

    id: int
    name: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        """True until the key is revoked."""
        return self.revoked_at is None


@dataclass(frozen=True)
class ApiCaller:
    """Who a valid key belongs to: a stored key (``key_id``) or one from the setting."""

    name: str
    key_id: int | None = None
    source: str = "database"


def hash_token(token: str) -> str:
    """The SHA-256 hex digest stored for a token.

    >>> hash_token("abc")[:16]
    'ba7816bf8f01cfea'
    """
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_api_key(conn: Connection, name: str) -> tuple[ApiKeyInfo, str]:
    """Create a key named ``name``.

    :param conn: a connection inside a transaction (the caller commits).
    :param name: who the key is for, e.g. an app or a partner.
    :returns: the stored key and the token, which is not stored and cannot be shown again.
    :raises ValueError: for an empty name.
    """
    name = name.strip()
    if not name:
        raise ValueError("an API key needs a name")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = conn.execute(
        insert(ApiKey)
        .values(name=name, prefix=token[:_SHOWN_PREFIX_LEN], key_hash=hash_token(token))
        .returning(ApiKey.id, ApiKey.name, ApiKey.prefix, ApiKey.created_at, ApiKey.revoked_at)
    ).one()
    return ApiKeyInfo(*row), token


def list_api_keys(conn: Connection, *, include_revoked: bool = True) -> list[ApiKeyInfo]:
    """Every stored key, oldest first.

    :param include_revoked: False to list only active keys.
    """
    query = select(ApiKey.id, ApiKey.name, ApiKey.prefix, ApiKey.created_at, ApiKey.revoked_at)
    if not include_revoked:
        query = query.where(ApiKey.revoked_at.is_(None))
    return [ApiKeyInfo(*row) for row in conn.execute(query.order_by(ApiKey.id))]


def revoke_api_key(conn: Connection, key_id: int) -> ApiKeyInfo:
    """Revoke a key; revoking twice keeps the first revocation time.

    :raises NotFound: when no key has that id.
    """
    conn.execute(
        update(ApiKey)
        .where(ApiKey.id == key_id, ApiKey.revoked_at.is_(None))
        .values(revoked_at=func.now())
    )
    row = conn.execute(
        select(ApiKey.id, ApiKey.name, ApiKey.prefix, ApiKey.created_at, ApiKey.revoked_at)
        .where(ApiKey.id == key_id)
    ).one_or_none()
    if row is None:
        raise NotFound(f"no API key with id {key_id}")
    return ApiKeyInfo(*row)


def configured_keys(setting: object) -> tuple[str, ...]:
    """Parse ``OPEN311_API_KEYS``: a comma-separated string (or a list from JSON config).

    ``from_prefixed_env`` parses values as JSON when it can, so an all-digit key arrives as an
    int: it is turned back into text.

    >>> configured_keys(" k1, ,k2 ")
    ('k1', 'k2')
    >>> configured_keys(12345)
    ('12345',)
    """
    if setting is None or setting == "" or isinstance(setting, bool):
        return ()
    if isinstance(setting, list | tuple):
        items = [str(s) for s in setting]
    else:
        items = str(setting).split(",")
    return tuple(s.strip() for s in items if s.strip())


def check_api_key(conn: Connection, token: str | None, setting: object = None) -> ApiCaller | None:
    """Find who ``token`` belongs to.

    :param conn: a database connection.
    :param token: the ``api_key`` sent by the client.
    :param setting: the ``OPEN311_API_KEYS`` value; defaults to the current app's.
    :returns: the caller, or ``None`` for a missing, unknown or revoked key.
    """
    if not token or not token.strip():
        return None
    token = token.strip()
    if setting is None:
        setting = current_app.config.get("OPEN311_API_KEYS", "")
    matched = None
    for index, key in enumerate(configured_keys(setting)):
        # compare against every key so timing does not reveal which one matched
        if hmac.compare_digest(key.encode("utf-8"), token.encode("utf-8")):
            matched = index
    if matched is not None:
        return ApiCaller(name=f"setting key #{matched + 1}", source="setting")
    row = conn.execute(
        select(ApiKey.id, ApiKey.name).where(
            ApiKey.key_hash == hash_token(token), ApiKey.revoked_at.is_(None)
        )
    ).one_or_none()
    return ApiCaller(name=row.name, key_id=row.id) if row else None


# ---------------------------------------------------------------- CLI
@click.group("apikeys")
def apikeys_group() -> None:
    """Manage Open311 API keys (needed to POST requests)."""


@apikeys_group.command("create")
@click.argument("name")
@with_appcontext
def apikeys_create(name: str) -> None:
    """Create a key for NAME and print it (on the last line; it is shown only this once)."""
    from geo311.db import get_engine

    try:
        with get_engine().begin() as conn:
            info, token = create_api_key(conn, name)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"created API key {info.id} for {info.name!r}; store it now, it is not shown again:")
    click.echo(token)


@apikeys_group.command("list")
@with_appcontext
def apikeys_list() -> None:
    """List stored keys (id, prefix, name, created, revoked) and count the setting's keys."""
    from geo311.db import get_engine

    with get_engine().connect() as conn:
        keys = list_api_keys(conn)
    for key in keys:
        state = f"revoked {key.revoked_at:%Y-%m-%d %H:%M}" if key.revoked_at else "active"
        created = f"created {key.created_at:%Y-%m-%d %H:%M}"
        click.echo(f"{key.id}\t{key.prefix}...\t{key.name}\t{created}\t{state}")
    if not keys:
        click.echo("no stored API keys")
    extra = len(configured_keys(current_app.config.get("OPEN311_API_KEYS", "")))
    if extra:
        click.echo(f"plus {extra} key(s) from the OPEN311_API_KEYS setting")


@apikeys_group.command("revoke")
@click.argument("key_id", type=int)
@with_appcontext
def apikeys_revoke(key_id: int) -> None:
    """Revoke the stored key KEY_ID (see `geo311 apikeys list`)."""
    from geo311.db import get_engine

    try:
        with get_engine().begin() as conn:
            info = revoke_api_key(conn, key_id)
    except NotFound as exc:
        raise click.ClickException(exc.message) from None
    click.echo(f"revoked API key {info.id} ({info.name})")

"""``geo311 users``: add staff accounts (printing a token), list them, revoke their tokens."""

from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext

from geo311.auth import create_user, issue_token, list_users, revoke_user_tokens
from geo311.errors import BadRequest, NotFound
from geo311.models import STAFF_ROLES

__all__ = ["users_group"]


@click.group("users")
def users_group() -> None:
    """Manage staff accounts and their API tokens."""


@users_group.command("add")
@click.argument("name")
@click.option("--role", required=True, type=click.Choice(STAFF_ROLES), help="The staff role.")
@click.option("--department", default=None, help="Department code (crew, dept_admin).")
@click.option("--district", default=None, help="Council district number (council).")
@click.option("--password-stdin", is_flag=True, help="Read a login password from stdin.")
@with_appcontext
def users_add(name: str, role: str, department: str | None, district: str | None,
              password_stdin: bool) -> None:
    """Add user NAME and print a new API token on the last line (shown only this once)."""
    from geo311.audit import record_event
    from geo311.db import get_engine

    password = sys.stdin.readline().rstrip("\r\n") if password_stdin else None
    if password_stdin and not password:
        raise click.ClickException("empty password on stdin")
    try:
        with get_engine().begin() as conn:
            user_id = create_user(conn, name, role, department=department,
                                  council_district=district, password=password)
            token = issue_token(conn, user_id)
            record_event(None, "user.add", target=name, conn=conn,
                         detail={"role": role, "department": department, "via": "cli"})
    except BadRequest as exc:
        raise click.ClickException(exc.message) from None
    scope = f" of {department}" if department else (f" for CD {district}" if district else "")
    click.echo(f"added {role} {name}{scope}; API token (store it now, it is not shown again):")
    click.echo(token)


@users_group.command("list")
@with_appcontext
def users_list() -> None:
    """List accounts: name, role, department, district, active tokens."""
    from geo311.db import get_engine

    with get_engine().connect() as conn:
        users = list_users(conn)
    for user in users:
        state = "" if user.active else "\tdisabled"
        click.echo(f"{user.name}\t{user.role}\t{user.department or '-'}\t"
                   f"{user.council_district or '-'}\t{user.active_tokens} token(s){state}")
    if not users:
        click.echo("no users")


@users_group.command("revoke")
@click.argument("name")
@with_appcontext
def users_revoke(name: str) -> None:
    """Revoke every API token of user NAME."""
    from geo311.audit import record_event
    from geo311.db import get_engine

    try:
        with get_engine().begin() as conn:
            count = revoke_user_tokens(conn, name)
            record_event(None, "user.revoke", target=name, conn=conn,
                         detail={"tokens": count, "via": "cli"})
    except NotFound as exc:
        raise click.ClickException(exc.message) from None
    click.echo(f"revoked {count} token(s) of {name}")

"""`linli staff …`: console accounts from the command line — above all the first admin.

    linli staff add --username wangfang --role admin --community main
    linli staff add --username liu --role grid_worker --community main --grid 第一网格
    linli staff passwd --username wangfang

The password is read from LINLI_STAFF_PASSWORD when set (scripts), otherwise asked for twice
without echo; it is never a command-line argument (those end up in shell history and `ps`).
"""

from __future__ import annotations

import asyncio
import os

import click
from sqlalchemy import select

from bot.config import Settings
from storage.staff_models import ROLES

PASSWORD_ENV = "LINLI_STAFF_PASSWORD"


@click.group()
def staff() -> None:
    """Staff accounts of the web console."""


def _config_option(function):
    from bot.cli import config_option
    return config_option(function)


@staff.command("add")
@_config_option
@click.option("--username", required=True)
@click.option("--name", "display_name", default="", help="Name shown in the console (default: the username).")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--community", "communities", multiple=True, required=True,
              help="Community slug; street staff may name several (the first is home).")
@click.option("--grid", "grids", multiple=True, help="Grid name (grid workers; repeat for several).")
def add(config_path: str | None, username: str, display_name: str, role: str, communities: tuple[str, ...],
        grids: tuple[str, ...]) -> None:
    """Create an account (the first admin, for instance)."""
    from bot.cli import _settings
    from storage.staff import passwords

    settings = _settings(config_path)
    password = _new_password(username)
    password_hash = passwords.hash_password(password)
    account_id = asyncio.run(_add(settings, username=username, display_name=display_name, role=role,
                                  slugs=list(communities), grid_names=list(grids), password_hash=password_hash))
    click.echo(f"created staff account {username.strip().lower()} ({role}), id {account_id}")


@staff.command("passwd")
@_config_option
@click.option("--username", required=True)
def passwd(config_path: str | None, username: str) -> None:
    """Set a new password (ends the account's sessions)."""
    from bot.cli import _settings
    from storage.staff import passwords

    settings = _settings(config_path)
    password_hash = passwords.hash_password(_new_password(username))
    asyncio.run(_passwd(settings, username, password_hash))
    click.echo(f"password of {username} changed; its sessions were ended")


@staff.command("list")
@_config_option
def list_accounts(config_path: str | None) -> None:
    """The accounts, with role and home community."""
    from bot.cli import _settings

    for line in asyncio.run(_list(_settings(config_path))):
        click.echo(line)


def _new_password(username: str) -> str:
    from bot.texts.console import ACCOUNT_ERRORS
    from storage.staff import passwords

    password = os.environ.get(PASSWORD_ENV)
    if password is None:
        password = click.prompt("password", hide_input=True, confirmation_prompt=True)
    problem = passwords.weakness(password, username)
    if problem:
        raise click.ClickException(f"{problem}: {ACCOUNT_ERRORS[problem]}")
    return password


async def _add(settings: Settings, *, username: str, display_name: str, role: str, slugs: list[str],
               grid_names: list[str], password_hash: str) -> int:
    from bot.services import utcnow
    from storage import communities
    from storage.db import Database
    from storage.models import Grid
    from storage.staff import accounts

    known = {c.slug: c.name for c in settings.communities}
    for slug in slugs:
        if slug not in known:
            raise click.ClickException(f"community {slug!r} is not in the config's [[communities]]")
    db = Database(settings.database.url)
    try:
        async with db.sessions.begin() as session:
            ids = await communities.ensure(session, [(slug, known[slug]) for slug in slugs])
            home = ids[slugs[0]]
            grid_ids = []
            for name in grid_names:
                grid = await session.scalar(select(Grid).where(Grid.community_id == home, Grid.name == name))
                if grid is None:
                    raise click.ClickException(f"community {slugs[0]!r} has no grid named {name!r}")
                grid_ids.append(grid.id)
            try:
                account = await accounts.create(session, username=username, display_name=display_name,
                                                password_hash=password_hash, role=role, community_id=home,
                                                now=utcnow(), grid_ids=grid_ids,
                                                more_community_ids=[ids[s] for s in slugs[1:]])
            except accounts.AccountError as exc:
                raise click.ClickException(str(exc)) from None
            return account.id
    finally:
        await db.dispose()


async def _passwd(settings: Settings, username: str, password_hash: str) -> None:
    from bot.services import utcnow
    from storage.db import Database
    from storage.staff import accounts, sessions

    db = Database(settings.database.url)
    try:
        async with db.sessions.begin() as session:
            account = await accounts.by_username(session, username)
            if account is None:
                raise click.ClickException(f"no staff account {username!r}")
            account.password_hash, account.password_changed_at = password_hash, utcnow()
            await sessions.end_all_for(session, account.id)
    finally:
        await db.dispose()


async def _list(settings: Settings) -> list[str]:
    from storage.db import Database
    from storage.models import Community
    from storage.staff_models import StaffAccount

    db = Database(settings.database.url)
    try:
        async with db.sessions() as session:
            rows = await session.execute(select(StaffAccount, Community.slug)
                                         .join(Community, Community.id == StaffAccount.community_id)
                                         .order_by(StaffAccount.username))
            return [f"{a.username}\t{a.role}\t{slug}\t{'active' if a.active else 'disabled'}" for a, slug in rows.all()]
    finally:
        await db.dispose()

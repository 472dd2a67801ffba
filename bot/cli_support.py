"""What the staff-side commands (`linli members …`, `linli points …`) share: the options, and
running one piece of work in a transaction on a community's database."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone
from typing import Awaitable, Callable

import click
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from storage import communities
from storage.db import Database

Work = Callable[[AsyncSession, int, datetime, Settings], Awaitable[str]]

config_option = click.option("--config", "config_path", type=click.Path(dir_okay=False), default=None,
                             help="TOML settings file (default: $LINLI_CONFIG or ./config.toml).")
community_option = click.option("--community", default=None, help="Community slug (default: the first).")


def run_in_community(config_path: str | None, community: str | None, work: Work, *,
                     refusals: tuple[type[Exception], ...] = (LookupError, ValueError),
                     explain: Callable[[Exception], str] = str) -> None:
    """Run the work in one transaction on the community's database and print what it says; a
    refusal (unknown name, bad value, business rule) becomes a readable error, not a traceback."""
    from bot.cli import _settings

    settings = _settings(config_path)
    chosen = next((c for c in settings.communities if community in (None, c.slug)), None)
    if chosen is None:
        raise click.BadParameter(f"no community {community!r} in the config", param_hint="--community")

    async def main() -> str:
        db = Database(settings.database.url)
        try:
            async with db.sessions.begin() as session:
                ids = await communities.ensure(session, [(chosen.slug, chosen.name)])
                return await work(session, ids[chosen.slug], datetime.now(timezone.utc), settings)
        finally:
            await db.dispose()

    try:
        click.echo(asyncio.run(main()))
    except refusals as exc:
        raise click.ClickException(explain(exc)) from None

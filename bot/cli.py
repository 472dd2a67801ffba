"""The `linli` command."""

from __future__ import annotations

import asyncio
import logging
import os
import sys

import click

from bot.config import ConfigError, Settings, load_settings

DEFAULT_CONFIG = "config.toml"


def _settings(config_path: str | None) -> Settings:
    path = config_path or os.environ.get("LINLI_CONFIG") or DEFAULT_CONFIG
    try:
        return load_settings(path)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


def _settings_for_running(config_path: str | None) -> Settings:
    """Settings, logging, and a schema that matches the code — before a long-running process starts."""
    from bot.logs import setup_logging
    from storage.migrate import check_current

    settings = _settings(config_path)
    setup_logging(settings.log)
    try:
        check_current(settings.database.url)
    except RuntimeError as exc:
        raise click.ClickException(str(exc)) from None
    return settings


config_option = click.option("--config", "config_path", type=click.Path(dir_okay=False), default=None,
                             help="TOML settings file (default: $LINLI_CONFIG or ./config.toml).")


@click.group()
def main() -> None:
    """Linli 邻里 — the community's WeChat Official Account bot."""


@main.command()
@config_option
@click.option("--host", default=None, help="Override server.host.")
@click.option("--port", type=int, default=None, help="Override server.port.")
@click.option("--no-scheduler", is_flag=True, help="Leave the jobs to a separate `linli scheduler` process.")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True,
              help="Server processes sharing the port (SO_REUSEPORT, Linux), supervised by this one; "
                   "the scheduler runs in worker 0 (see bot/supervisor.py).")
@click.option("--max-failed-starts", type=click.IntRange(min=1), default=5, show_default=True,
              help="With --workers: exit 1 once a worker has died before listening this many times in a row.")
@click.option("--worker-index", type=int, default=None, hidden=True)  # set by the supervisor for its workers
def serve(config_path: str | None, host: str | None, port: int | None, no_scheduler: bool, workers: int,
          max_failed_starts: int, worker_index: int | None) -> None:
    """Run the message server (with the scheduler)."""
    from bot import supervisor

    settings = _settings_for_running(config_path)
    host, port = host or settings.server.host, port or settings.server.port
    if workers > 1:
        command = supervisor.worker_command(config_path=config_path, host=host, port=port,
                                            scheduler=not no_scheduler)
        sys.exit(supervisor.supervise(command, workers, supervisor.Policy(max_failed_starts=max_failed_starts)))
    from aiohttp import web

    from bot import heap
    from bot.app import create_app

    app = create_app(settings, scheduler=not no_scheduler)
    app.on_startup.append(heap.settle)  # last: once everything long-lived is built
    if worker_index is not None:
        supervisor.run_worker(app, host=host, port=port, index=worker_index)
        return
    web.run_app(app, host=host, port=port, print=lambda msg: logging.getLogger("linli").info(msg))


@main.command()
@config_option
def scheduler(config_path: str | None) -> None:
    """Run only the scheduler (reminders, 督办, housekeeping) as a process of its own."""
    from bot.scheduler import run_standalone

    settings = _settings_for_running(config_path)
    asyncio.run(run_standalone(settings))


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@config_option
@click.option("--revision", default="head", show_default=True)
def db_upgrade(config_path: str | None, revision: str) -> None:
    """Apply Alembic migrations."""
    from storage.migrate import upgrade

    settings = _settings(config_path)
    upgrade(settings.database.url, revision)
    click.echo(f"database at {revision}")


@main.command()
@click.option("--port", type=int, default=8080, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--data-dir", default="var/demo", show_default=True, type=click.Path(file_okay=False))
def demo(port: int, host: str, data_dir: str) -> None:
    """Run everything locally: SQLite, demo data, a fake WeChat API and the resident simulator."""
    from bot.demo import run_demo

    run_demo(host=host, port=port, data_dir=data_dir)


@main.command()
@config_option
@click.option("--url", default=None, help="Server base URL (default: from the config).")
@click.option("--account", default=None, help="Account name (default: the first).")
@click.option("--openid", default="o_demo_terminal", show_default=True)
def chat(config_path: str | None, url: str | None, account: str | None, openid: str) -> None:
    """Chat with the server in a terminal, as a resident through WeChat."""
    from bot.chat_cli import run_chat

    settings = _settings(config_path)
    asyncio.run(run_chat(settings, url=url, account_name=account, openid=openid))


@main.group()
def wechat() -> None:
    """The WeChat platform side."""


@wechat.command("menu")
@config_option
@click.option("--account", default=None, help="Account name (default: all).")
def wechat_menu(config_path: str | None, account: str | None) -> None:
    """Create the account's custom menu from the config."""
    settings = _settings(config_path)
    names = [account] if account else [a.name for a in settings.accounts]
    for name, result in asyncio.run(_push_menus(settings, names)).items():
        click.echo(f"{name}: {result}")


async def _push_menus(settings: Settings, names: list[str]) -> dict[str, object]:
    import aiohttp

    from bot.wechat.menu import push_menu

    async with aiohttp.ClientSession() as http:
        return {name: await push_menu(settings, name, http) for name in names}


def _mount_nlu() -> None:
    try:
        from nlp.cli import nlu
    except ImportError as exc:  # pragma: no cover - nlp is part of the package
        click.echo(f"nlu commands unavailable: {exc}", err=True)
        return
    main.add_command(nlu)


_mount_nlu()
from bot.report_cli import report  # noqa: E402  (`linli report`: the three rates)
main.add_command(report)
from bot.staff_cli import staff  # noqa: E402  (`linli staff add|passwd|list`: console accounts)
main.add_command(staff)
from bot.points_cli import points  # noqa: E402  (`linli points`: activities, the mall, adjustments)
main.add_command(points)
from bot.members_cli import members  # noqa: E402  (`linli members`: roles, binding codes, care households)
main.add_command(members)

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

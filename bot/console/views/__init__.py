"""Console views, one module per area; ``add_routes`` registers them all."""

from __future__ import annotations

from aiohttp import web


def add_routes(console: web.Application) -> None:
    from bot.console.views import accounts, content, dashboard, manage, members, points, threads, tickets

    for area in (tickets, threads, dashboard, manage, content, points, members, accounts):
        area.add_routes(console.router)

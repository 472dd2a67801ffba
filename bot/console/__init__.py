"""The staff console: an aiohttp sub-app mounted at /console (server-rendered Jinja2 pages with
a little htmx and plain JS, all served from ./static — no CDN, no build step).

Views live in bot/console/views/, one module per area; access rules in access.py; logging in,
sessions and CSRF in auth.py. The console shares the main app's Services (database, clock,
settings) through ``request.config_dict``.
"""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from bot.config import Settings
from bot.console import auth, live, render
from bot.console.view import PREFIX

STATIC = Path(__file__).with_name("static")


def create_console(settings: Settings) -> web.Application:
    console = web.Application(middlewares=[auth.headers, auth.errors, auth.guard])
    render.setup(console)
    live.setup(console)
    console.router.add_static("/static/", STATIC, name="static", append_version=False)
    console.router.add_get("/", _home)
    console.router.add_get("/login", auth.login_page)
    console.router.add_post("/login", auth.login)
    console.router.add_post("/logout", auth.logout)
    console.router.add_post("/community", auth.switch_community)
    from bot.console.views import add_routes
    add_routes(console)
    return console


def add_console(app: web.Application, settings: Settings) -> None:
    """Mount the console on the main app (called by bot.app.create_app)."""
    if settings.console.enabled:
        app.add_subapp(PREFIX, create_console(settings))


async def _home(request: web.Request) -> web.StreamResponse:
    raise web.HTTPSeeOther(PREFIX + "/tickets")

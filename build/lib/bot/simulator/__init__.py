"""The resident simulator: a phone-style chat page at /simulator for the demo and for staff training.

The page never talks to the dispatcher directly. The server plays WeChat: it signs and encrypts
each message and posts it over real HTTP to its own /wechat/<account> endpoint, so what one sees
here is exactly what a resident would get. Later replies (customer-service messages) are read
back from the fake WeChat API. Mounted only when settings.server.simulator is true.
"""

from __future__ import annotations

from pathlib import Path
from typing import AsyncIterator

import aiohttp
from aiohttp import web

from bot.simulator import views

STATIC = Path(__file__).with_name("static")


def add_simulator(app: web.Application) -> None:
    """Add the page, its static files and its small JSON API to the app."""
    app.cleanup_ctx.append(_http_session)
    app.router.add_get("/simulator", _page)
    app.router.add_get("/simulator/", _page)
    app.router.add_static("/simulator/static/", STATIC, name="simulator_static")
    app.router.add_get("/simulator/media/sample.jpg", views.sample_image)
    app.router.add_get("/simulator/api/config", views.config)
    app.router.add_get("/simulator/api/residents", views.residents)
    app.router.add_post("/simulator/api/send", views.send)
    app.router.add_get("/simulator/api/inbox", views.inbox)


async def _http_session(app: web.Application) -> AsyncIterator[None]:
    session = aiohttp.ClientSession()
    app[views.HTTP] = session
    yield
    await session.close()


async def _page(_request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})

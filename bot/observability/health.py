"""Liveness and readiness.

/healthz (bot/app.py) answers as long as the event loop runs: a supervisor restarts the process
when it does not. /readyz answers 200 only when this worker can do its job — start-up finished (database
reachable, NLU loaded, endpoint built) and the database answers a trivial query within
observability.db_timeout_seconds now — so a load balancer sends messages elsewhere meanwhile.
Restarting a worker because the database is down would not help, which is why the two differ.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from aiohttp import web

from bot import keys
from storage import gauges


@dataclass
class Readiness:
    started: bool = False
    stopping: bool = False

    async def on_startup(self, app: web.Application) -> None:
        """Appended last to on_startup, so it runs after every resource is up."""
        self.started = True

    async def on_shutdown(self, app: web.Application) -> None:
        self.stopping = True


READINESS = web.AppKey("readiness", Readiness)


async def readyz(request: web.Request) -> web.Response:
    reason = await problem(request.app)
    if reason is not None:
        return web.json_response({"status": "unavailable", "reason": reason}, status=503)
    return web.json_response({"status": "ready"})


async def problem(app: web.Application) -> str | None:
    """Why this worker should not get traffic now, or None."""
    readiness = app[READINESS]
    if readiness.stopping:
        return "shutting down"
    if not readiness.started:
        return "starting"
    services = app.get(keys.SERVICES)
    if services is None or services.nlu is None:
        return "nlu not loaded"
    if app.get(keys.ENDPOINT) is None:
        return "wechat endpoint not ready"
    return await _database_problem(services, app[keys.SETTINGS].observability.db_timeout_seconds)


async def _database_problem(services, timeout: float) -> str | None:
    try:
        async with asyncio.timeout(timeout):
            async with services.db.sessions() as session:
                await gauges.ping(session)
    except TimeoutError:
        return f"database did not answer within {timeout:g} s"
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready", with its kind as the reason
        return f"database error: {type(exc).__name__}"
    return None

"""The /metrics handler: prometheus_client's own aiohttp handler (text or OpenMetrics, as the
scraper asks) over ``metrics.registry``, after refreshing the database gauges."""

from __future__ import annotations

from aiohttp import web
from prometheus_client.aiohttp import make_aiohttp_handler

from bot import keys
from bot.config import Settings
from bot.observability.db_gauges import DatabaseGauges
from bot.observability.metrics import registry


def metrics_handler(settings: Settings):
    database = DatabaseGauges(settings.observability)
    serve = make_aiohttp_handler(registry(database))

    async def handler(request: web.Request) -> web.Response:
        await database.refresh(request.app[keys.SERVICES])
        return await serve(request)
    return handler

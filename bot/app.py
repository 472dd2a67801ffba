"""The app factory: one aiohttp application, one cleanup context per resource (aiohttp's pattern)."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import AsyncIterator, Callable

import aiohttp
from aiohttp import web
from sqlalchemy.orm import configure_mappers

from bot import keys
from bot.config import Settings
from bot.console import add_console
from bot.dispatcher.dispatcher import Dispatcher
from bot.dispatcher.router import Router
from bot.observability import health, metrics
from bot.services import Services, utcnow
from bot.spool import Spool, spool_directory
from bot.wechat.endpoint import WeChatEndpoint
from storage import communities
from storage.db import Database

log = logging.getLogger("linli.app")


def create_app(settings: Settings, *, nlu=None, clock: Callable = utcnow, scheduler: bool = True,
               outbox_worker: bool = True, router: Router | None = None) -> web.Application:
    """nlu: an engine to use instead of loading one (tests share one across apps);
    router: handlers to use instead of the product's (tests add slow or failing ones)."""
    app = web.Application(client_max_size=settings.server.max_body_bytes)
    app[keys.SETTINGS] = settings
    app.cleanup_ctx.append(_services(settings, nlu, clock))
    app.cleanup_ctx.append(_heartbeat)
    app.cleanup_ctx.append(_wechat_apis)
    if outbox_worker:
        app.cleanup_ctx.append(_outbox_worker)
    if scheduler:
        app.cleanup_ctx.append(_scheduler)
    app.cleanup_ctx.append(_endpoint(router))
    add_wechat_routes(app, settings)
    app.router.add_get("/healthz", _healthz)
    add_console(app, settings)  # the staff console at /console (its own cleanup rides on the sub-app)
    if settings.server.simulator:
        from bot.simulator import add_simulator
        add_simulator(app)
    add_observability(app, settings)  # last: readiness is set once everything above has started
    return app


def _services(settings: Settings, nlu, clock):
    async def context(app: web.Application) -> AsyncIterator[None]:
        db = Database(settings.database.url, echo=settings.database.echo, pool_size=settings.database.pool_size)
        configure_mappers()  # now, not on the first message that needs the ORM (~0.1 s)
        async with db.sessions.begin() as session:
            ids = await communities.ensure(session, [(c.slug, c.name) for c in settings.communities])
        await db.warm_up()
        engine = nlu if nlu is not None else await asyncio.to_thread(_load_nlu, settings)
        services = Services(settings=settings, db=db, nlu=engine, community_ids=ids, clock=clock)
        services.spool = Spool(spool_directory(settings), services.worker_id)
        app[keys.SERVICES] = services
        yield
        await db.dispose()
    return context


def _load_nlu(settings: Settings):
    from nlp import load_engine

    return load_engine(threshold=settings.nlu.threshold)


async def _heartbeat(app: web.Application) -> AsyncIterator[None]:
    """Tell other processes this one is alive, so they can finish what it claimed if it dies."""
    from bot.heartbeat import Heartbeat

    heartbeat = Heartbeat(app[keys.SERVICES])
    await heartbeat.start()
    yield
    await heartbeat.stop()


async def _wechat_apis(app: web.Application) -> AsyncIterator[None]:
    from bot.wechat.api import WeChatApi
    from bot.wechat.token import TokenManager

    services, settings = app[keys.SERVICES], app[keys.SETTINGS]
    http = aiohttp.ClientSession()
    apis = {}
    for account in settings.accounts:
        tokens = TokenManager(services.db, http, base_url=settings.wechat.base_url, appid=account.appid,
                              secret=account.secret, margin_seconds=settings.wechat.token_refresh_margin_seconds,
                              clock=services.clock, timeout=settings.wechat.timeout_seconds)
        apis[account.name] = WeChatApi(http, base_url=settings.wechat.base_url, tokens=tokens,
                                       timeout=settings.wechat.timeout_seconds)
    app[keys.APIS] = apis
    yield
    await http.close()


async def _outbox_worker(app: web.Application) -> AsyncIterator[None]:
    from bot.outbox_worker import OutboxWorker

    services = app[keys.SERVICES]
    worker = OutboxWorker(services.db, services.settings, app[keys.APIS], clock=services.clock)
    app[keys.OUTBOX_WORKER] = worker
    services.wake_outbox = worker.wake
    task = asyncio.create_task(worker.run())
    yield
    await worker.stop()
    await asyncio.gather(task, return_exceptions=True)


async def _scheduler(app: web.Application) -> AsyncIterator[None]:
    from bot.scheduler import build_scheduler

    services = app[keys.SERVICES]
    scheduler = build_scheduler(services, wake_outbox=lambda: services.wake_outbox())
    scheduler.start()
    yield
    scheduler.shutdown(wait=False)


def _endpoint(router: Router | None):
    async def context(app: web.Application) -> AsyncIterator[None]:
        from handlers import build_router

        services = app[keys.SERVICES]
        dispatcher = Dispatcher(services, router or build_router())
        endpoint = WeChatEndpoint(services, dispatcher)
        app[keys.DISPATCHER] = dispatcher
        app[keys.ENDPOINT] = endpoint
        replayer = asyncio.create_task(_replay_spool(services, dispatcher))
        yield
        replayer.cancel()
        await asyncio.gather(replayer, return_exceptions=True)
        await endpoint.drain()
    return context


async def _replay_spool(services: Services, dispatcher: Dispatcher) -> None:
    """Messages kept on disk while the database was down (by this or a dead process) run as soon
    as it answers again; their replies go out as customer-service messages."""
    while True:
        if services.spool.pending():
            try:
                handled = await services.spool.replay(dispatcher.replay)
            except Exception:
                log.exception("replaying the spool failed; trying again later")
                handled = 0
            if handled:
                log.info("replayed %d spooled messages", handled)
                services.wake_outbox()
        await asyncio.sleep(services.settings.server.spool_retry_seconds)


def add_wechat_routes(app: web.Application, settings: Settings) -> None:
    """/wechat/<account> for each account in the config: a plain path is found by one lookup,
    where a pattern is matched by a regular expression on every message. Routes are added
    before start-up; they find the endpoint in app state at request time."""
    for account in settings.accounts:
        app.router.add_get(f"/wechat/{account.name}", _verifier(account.name))
        app.router.add_post(f"/wechat/{account.name}", _receiver(account.name))


def _verifier(account: str):
    async def verify(request: web.Request) -> web.StreamResponse:
        return await request.app[keys.ENDPOINT].verify(request, account)
    return verify


def _receiver(account: str):
    async def receive(request: web.Request) -> web.StreamResponse:
        started = time.perf_counter()
        response = await request.app[keys.ENDPOINT].receive(request, account)
        metrics.REPLY_LATENCY.observe(time.perf_counter() - started)  # refused requests (403/400) raise: not replies
        return response
    return receive


async def _healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def add_observability(app: web.Application, settings: Settings) -> None:
    """/readyz and /metrics (bot/observability); for Prometheus and the load balancer, not for
    the internet: proxy only /wechat/ and /console/."""
    from bot.observability.exposition import metrics_handler

    readiness = app[health.READINESS] = health.Readiness()
    app.router.add_get("/readyz", health.readyz)
    if settings.observability.metrics:
        app.router.add_get("/metrics", metrics_handler(settings))
    app.on_startup.append(readiness.on_startup)
    app.on_shutdown.append(readiness.on_shutdown)

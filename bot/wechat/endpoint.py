"""The HTTP door WeChat knocks on: /wechat/<account>.

Order matters: nothing is read from or written to the database before the signature is good.
The reply must be back within WeChat's 5 seconds; a handler that is late keeps running and its
answer goes out later through the outbox as a customer-service message.
"""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web

from bot.dispatcher.dispatcher import Dispatcher, Outcome
from bot.observability import metrics
from bot.services import Services
from bot.wechat.codec import AccountCodec, MalformedMessage, Query, SignatureError, parse_event, render_reply

log = logging.getLogger("linli.endpoint")

SUCCESS = "success"


class WeChatEndpoint:
    def __init__(self, services: Services, dispatcher: Dispatcher) -> None:
        self.services = services
        self.dispatcher = dispatcher
        window = services.settings.server.timestamp_window_seconds
        self.codecs = {a.name: AccountCodec(a, timestamp_window=window) for a in services.settings.accounts}
        self.deadline = services.settings.server.reply_deadline_seconds
        self.background: set[asyncio.Task] = set()

    async def verify(self, request: web.Request, account: str) -> web.Response:
        codec = self.codecs[account]
        try:
            echostr = codec.verify_url(Query.from_mapping(request.query))
        except SignatureError as exc:
            log.warning("GET verification refused: %s", exc)
            raise web.HTTPForbidden(text="forbidden")
        return web.Response(text=echostr)

    async def receive(self, request: web.Request, account: str) -> web.Response:
        started = asyncio.get_running_loop().time()
        codec = self.codecs[account]
        query = Query.from_mapping(request.query)
        body = await request.read()  # client_max_size turns an oversize body into 413
        try:
            xml, key = codec.open_with_key(query, body)
            event = parse_event(xml, codec.account.name)
        except SignatureError as exc:
            log.warning("POST refused (%s) from %s", exc, request.remote)
            raise web.HTTPForbidden(text="forbidden")
        except MalformedMessage as exc:
            log.warning("malformed message refused: %s", exc)
            raise web.HTTPBadRequest(text="bad request")
        budget = self.deadline - (asyncio.get_running_loop().time() - started)
        outcome = await self._within_deadline(event, budget, started)
        if outcome is None or outcome.reply is None:
            return _success()
        xml = codec.seal(render_reply(outcome.reply, event), query, key)
        return web.Response(text=xml, content_type="application/xml")

    async def _within_deadline(self, event, budget: float, started: float) -> Outcome | None:
        task = asyncio.create_task(self.dispatcher.process(event, budget_seconds=max(budget - 0.05, 0.0)))
        if not await _done_within(task, max(budget, 0.0)):
            log.warning("deadline missed for %s; the reply will go through the outbox", event.dedup_key)
            metrics.DEADLINE_MISSES.inc()
            self._finish_late(task, started)
            return None
        outcome = task.result()
        await self._record(outcome, late=False)
        return outcome

    def _finish_late(self, task: asyncio.Task, started: float) -> None:
        async def deliver() -> None:
            outcome = await task
            log.warning("late reply to %s ready %.1f s after arrival", outcome.event.dedup_key,
                        asyncio.get_running_loop().time() - started)  # how late, to tell a stall from a slow handler
            await self._record(outcome, late=True)
        self._keep(asyncio.create_task(deliver()))

    async def _record(self, outcome: Outcome, *, late: bool) -> None:
        try:
            await self.dispatcher.record(outcome, late=late)
        except Exception:
            log.exception("could not record the reply to %s", outcome.event.dedup_key)

    def _keep(self, task: asyncio.Task) -> None:
        self.background.add(task)
        task.add_done_callback(self.background.discard)

    async def drain(self, timeout: float = 30.0) -> None:
        """Let late replies finish before shutdown, so none is lost."""
        if self.background:
            await asyncio.wait(list(self.background), timeout=timeout)


async def _done_within(task: asyncio.Task, seconds: float) -> bool:
    """Whether the task finished in time; it runs on either way (asyncio.wait_for over a shield
    does the same with two more futures and their callbacks, on every message)."""
    waiter = asyncio.get_running_loop().create_future()

    def wake(_=None) -> None:
        if not waiter.done():
            waiter.set_result(None)
    timer = asyncio.get_running_loop().call_later(seconds, wake)
    task.add_done_callback(wake)
    try:
        await waiter
    finally:
        timer.cancel()
        task.remove_done_callback(wake)
    return task.done()


def _success() -> web.Response:
    return web.Response(text=SUCCESS, content_type="text/plain")

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
from bot.wechat.deadlines import Deadlines

log = logging.getLogger("linli.endpoint")

SUCCESS = "success"
TASK_NAME = "linli-message"  # a name of our own: asyncio formats "Task-<n>" for every unnamed task


class WeChatEndpoint:
    def __init__(self, services: Services, dispatcher: Dispatcher) -> None:
        self.services = services
        self.dispatcher = dispatcher
        window = services.settings.server.timestamp_window_seconds
        self.codecs = {a.name: AccountCodec(a, timestamp_window=window) for a in services.settings.accounts}
        self.deadline = services.settings.server.reply_deadline_seconds
        self.deadlines = Deadlines()
        self.background: set[asyncio.Task] = set()  # handlers that missed their deadline, until recorded

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
        """The outcome if the handler is done within the budget; None if not — it then goes on,
        and its reply is recorded for the outbox when ready."""
        loop = asyncio.get_running_loop()
        answer = loop.create_future()
        task = loop.create_task(self._handle(event, max(budget - 0.05, 0.0), answer, started), name=TASK_NAME)
        self.deadlines.watch(answer, loop.time() + max(budget, 0.0))
        try:
            outcome = await answer
        except asyncio.CancelledError:
            self._keep(task)  # the request is gone (shutdown): the handler still finishes and is recorded
            raise
        if outcome is None:
            log.warning("deadline missed for %s; the reply will go through the outbox", event.dedup_key)
            metrics.DEADLINE_MISSES.inc()
            self._keep(task)
            return None
        await self._record(outcome, late=False)
        return outcome

    async def _handle(self, event, budget: float, answer: asyncio.Future, started: float) -> None:
        """Run the dispatcher and hand the outcome to the waiting request — or, when the request
        has stopped waiting (deadline missed, request cancelled), record it as a late reply."""
        try:
            outcome = await self.dispatcher.process(event, budget_seconds=budget)
        except Exception as exc:  # the errors middleware leaves nothing but its own bugs to get here
            if not answer.done():
                answer.set_exception(exc)  # the request raises it, as if it had run the handler itself
            else:
                log.exception("late handling of %s failed", event.dedup_key)
            return
        except BaseException:
            answer.cancel()  # cancelled (shutdown): so is the request, if it still waits
            raise
        if not answer.done():
            answer.set_result(outcome)
            return
        log.warning("late reply to %s ready %.1f s after arrival", event.dedup_key,
                    asyncio.get_running_loop().time() - started)  # how late, to tell a stall from a slow handler
        await self._record(outcome, late=True)

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


def _success() -> web.Response:
    return web.Response(text=SUCCESS, content_type="text/plain")

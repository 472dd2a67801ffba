"""Server-sent events for a thread page: new messages (in and out) and delivery changes, live.

The stream polls the message log (cheap indexed reads: community, openid, id > last) rather
than listening in-process, so it sees messages handled by any server process. Each message goes
out as an SSE ``message`` event whose data is the thread line rendered by the same escaped
template as the page; its id is the message-log id, so a browser that reconnects (EventSource
sends Last-Event-ID) continues where it left off. Streams end after ``live_max_seconds``
(the browser reconnects), when the client goes away, or when the server shuts down.
"""

from __future__ import annotations

import asyncio
import json
import logging

import aiohttp_jinja2
from aiohttp import web

from bot.console import view as cw
from bot.texts import console as texts
from storage.staff import replies, threads

log = logging.getLogger("linli.console")

STOPPING = web.AppKey("console_live_stopping", asyncio.Event)


def setup(console: web.Application) -> None:
    """Open streams must not hold up a shutdown: they are told to end."""
    console[STOPPING] = asyncio.Event()

    async def stop_streams(_app: web.Application) -> None:
        console[STOPPING].set()
    console.on_shutdown.append(stop_streams)


async def stream(request: web.Request) -> web.StreamResponse:
    from bot.console.views.threads import resident_of

    services = cw.services(request)
    settings = services.settings.console
    async with services.db.sessions() as session:
        resident = await resident_of(session, request)
        conversation = await threads.conversation_of(session, resident.id)
    last_id = max(cw.int_or_none(request.query.get("after")) or 0,
                  cw.int_or_none(request.headers.get("Last-Event-ID")) or 0)
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream; charset=utf-8",
                                           "Cache-Control": "no-store", "X-Accel-Buffering": "no"})
    await response.prepare(request)
    watch = _Watch(request, resident, last_id, bool(conversation and conversation.handoff))
    stopping = request.app[STOPPING]
    loop = asyncio.get_running_loop()
    until = loop.time() + settings.live_max_seconds
    try:
        await response.write(f"retry: {int(settings.live_poll_seconds * 1000) + 1000}\n\n".encode())
        while loop.time() < until and not stopping.is_set():
            for chunk in await watch.poll():
                await response.write(chunk.encode("utf-8"))
            try:
                await asyncio.wait_for(stopping.wait(), settings.live_poll_seconds)
            except TimeoutError:
                pass
    except ConnectionResetError:
        log.debug("live stream for resident %s ended by the client", resident.id)
    except Exception:  # the headers are sent: end the stream (the browser reconnects), no error page
        log.exception("live stream for resident %s failed", resident.id)
    return response


class _Watch:
    """What the page has seen: the last message id, the delivery states it shows, the hand-off flag."""

    def __init__(self, request: web.Request, resident, last_id: int, escalated: bool) -> None:
        self.request = request
        self.resident = resident
        self.last_id = last_id
        self.escalated = escalated
        self.pending: dict[int, tuple[int, str]] = {}  # outbox id → (message id, status shown)

    async def poll(self) -> list[str]:
        services = cw.services(self.request)
        async with services.db.sessions() as session:
            new = await replies.lines(session, community_id=self.resident.community_id, openid=self.resident.openid,
                                      after_id=self.last_id)
            changed = await replies.delivery_states(session, list(self.pending))
            conversation = await threads.conversation_of(session, self.resident.id)
        chunks = [self._message(line) for line in new]
        chunks += self._deliveries(changed)
        still = bool(conversation and conversation.handoff)
        if self.escalated and not still:
            chunks.append("event: closed\ndata: {}\n\n")
        self.escalated = still
        return chunks

    def _message(self, line: replies.Line) -> str:
        message = line.message
        self.last_id = max(self.last_id, message.id)
        if message.outbox_id and line.delivery in ("pending", "sending"):
            self.pending[message.outbox_id] = (message.id, line.delivery)
        html = aiohttp_jinja2.render_string("_lines.html", self.request, {"lines": [line]})
        data = "".join(f"data: {part}\n" for part in html.strip().splitlines())
        return f"id: {message.id}\nevent: message\n{data}\n"

    def _deliveries(self, states: dict[int, tuple[str, str | None]]) -> list[str]:
        chunks = []
        for outbox_id, (status, _error) in states.items():
            message_id, shown = self.pending[outbox_id]
            if status == shown:
                continue
            payload = {"id": message_id, "status": status, "text": texts.DELIVERY_NAMES.get(status, status)}
            chunks.append(f"event: delivery\ndata: {json.dumps(payload, ensure_ascii=False)}\n\n")
            if status in ("pending", "sending"):
                self.pending[outbox_id] = (message_id, status)
            else:
                del self.pending[outbox_id]
        return chunks

"""The dispatcher: runs an event through the middleware chain to a handler, then records how the
reply went out (passively in the HTTP response, or later through the outbox)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bot.dispatcher import middlewares as mw
from bot.dispatcher.context import Context
from bot.dispatcher.router import Router
from bot.events import IncomingEvent
from bot.replies import Image, Reply, reply_summary, reply_to_dict
from bot.services import Services
from storage import dedup, message_log, outbox

log = logging.getLogger("linli.dispatcher")


@dataclass(frozen=True, slots=True)
class Outcome:
    event: IncomingEvent
    reply: Reply | None
    duplicate: bool
    community_id: int


class Dispatcher:
    def __init__(self, services: Services, router: Router) -> None:
        self.services = services
        self.router = router
        self.dedup = mw.Dedup()
        self.ordering = mw.ResidentOrdering()
        self._run = mw.chain([mw.errors, self.dedup, self.ordering, mw.db_session, mw.resident_and_dialog,
                              mw.understanding], self._route)

    async def process(self, event: IncomingEvent, *, budget_seconds: float | None = None) -> Outcome:
        community_id = self.services.community_id_for(event.account)
        ctx = Context(event=event, services=self.services, community_id=community_id, now=self.services.clock())
        if budget_seconds is not None:
            ctx.extras["budget_seconds"] = budget_seconds
        reply = await self._run(ctx)
        return Outcome(event, reply, ctx.duplicate, community_id)

    async def _route(self, ctx: Context) -> Reply | None:
        handler = self.router.resolve(ctx)
        if handler is None:
            log.info("no handler for %s/%s intent=%s", ctx.event.kind, ctx.event.event, ctx.intent)
            return None
        return await handler(ctx)

    async def record(self, outcome: Outcome, *, late: bool) -> None:
        """Mark the delivery done and log the reply; a late reply is queued as a customer-service message."""
        if outcome.duplicate:
            return
        event, reply = outcome.event, outcome.reply
        delivery = "none" if reply is None else ("outbox" if late else "passive")
        now = self.services.clock()
        try:
            async with self.services.db.sessions.begin() as session:
                outbox_id = None
                if delivery == "outbox":
                    outbox_id = await outbox.enqueue(session, community_id=outcome.community_id,
                                                     account=event.account, openid=event.openid,
                                                     now=now, **_outbox_message(reply))
                if reply is not None:
                    await message_log.log_outbound(
                        session, community_id=outcome.community_id, openid=event.openid, now=now,
                        msg_type="image" if isinstance(reply, Image) else "text", content=reply_summary(reply),
                        delivery="customer_service" if late else "passive", outbox_id=outbox_id)
                await dedup.finish(session, account=event.account, key=event.dedup_key, delivery=delivery,
                                   reply=reply_to_dict(reply) if delivery == "passive" else None, now=now)
        finally:
            self.dedup.settle(event.account, event.dedup_key, delivery, reply)
        if delivery == "outbox":
            self.services.wake_outbox()


def _outbox_message(reply: Reply) -> dict:
    if isinstance(reply, Image):
        return {"kind": "image", "payload": {"media_id": reply.media_id}}
    return {"kind": "text", "payload": {"content": reply.content}}

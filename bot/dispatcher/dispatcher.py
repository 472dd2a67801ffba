"""The dispatcher: runs an event through the middleware chain to a handler, then records how the
reply went out (passively in the HTTP response, or later through the outbox)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Callable

from bot.dispatcher import middlewares as mw
from bot.dispatcher.context import Context
from bot.dispatcher.router import Router
from bot.events import IncomingEvent
from bot.observability import metrics
from bot.replies import Image, Reply, reply_summary, reply_to_dict
from bot.services import Services
from bot.spool import event_from_dict, record_from_dict, record_to_dict, store_unavailable
from storage import admission
from storage.group_commit import GroupCommit

log = logging.getLogger("linli.dispatcher")


@dataclass(frozen=True, slots=True)
class Outcome:
    event: IncomingEvent
    reply: Reply | None
    duplicate: bool
    community_id: int
    changed_rows: list[Any] = field(default_factory=list)  # saved with the reply record
    release: Callable[[], None] = lambda: None  # the resident's ordering lock, freed once recorded
    spooled: bool = False  # the database was down: nothing to record now (bot/spool.py)
    turn_of: int | None = None  # the resident whose turn to give back when recorded (storage.turns)


class Dispatcher:
    def __init__(self, services: Services, router: Router) -> None:
        self.services = services
        self.router = router
        self.commits: GroupCommit = GroupCommit(lambda items: admission.write_batch(services.db, items))
        self.ordering = mw.ResidentOrdering()
        self._run = mw.chain([mw.errors, self.ordering, mw.Admit(self.commits), mw.handler_session,
                              mw.understanding], self._route)

    async def process(self, event: IncomingEvent, *, budget_seconds: float | None = None,
                      replaying: bool = False) -> Outcome:
        """Handle the event; the caller must pass the outcome to `record` (which frees the resident)."""
        community_id = self.services.community_id_for(event.account)
        ctx = Context(event=event, services=self.services, community_id=community_id, now=self.services.clock())
        if budget_seconds is not None:
            ctx.extras["budget_seconds"] = budget_seconds
        ctx.extras["replaying"] = replaying
        try:
            reply = await self._run(ctx)
        except BaseException:
            ctx.release()
            raise
        metrics.observe_message(ctx)
        return Outcome(event, reply, ctx.duplicate, community_id, ctx.changed_rows(), ctx.release, ctx.spooled,
                       ctx.turn_of)

    async def _route(self, ctx: Context) -> Reply | None:
        handler = self.router.resolve(ctx)
        if handler is None:
            log.info("no handler for %s/%s intent=%s", ctx.event.kind, ctx.event.event, ctx.intent)
            return None
        return await handler(ctx)

    async def record(self, outcome: Outcome, *, late: bool, replaying: bool = False) -> None:
        """Mark the delivery done and log the reply; a late reply is queued as a customer-service message."""
        try:
            if outcome.duplicate or outcome.spooled:
                return
            record = _record_of(outcome, late=late, now=self.services.clock(), worker=self.services.worker_id)
            try:
                await self.commits.submit(record)
            except Exception as exc:
                if replaying or self.services.spool is None or not store_unavailable(exc):
                    raise
                self.services.spool.put("record", record_to_dict(record))
                log.warning("database unreachable: the record of %s is spooled", record.key)
                return
        finally:
            outcome.release()
        if record.outbox_message is not None:
            self.services.wake_outbox()

    async def replay(self, entry: dict[str, Any]) -> None:
        """Handle one spooled entry now that the database answers again (bot/spool.py); raises if
        it still does not, so the entry stays spooled."""
        if entry["kind"] == "record":
            await self.commits.submit(record_from_dict(entry))
            return
        outcome = await self.process(event_from_dict(entry["event"]), replaying=True)
        await self.record(outcome, late=True, replaying=True)  # the resident was told "稍后回复"


def _record_of(outcome: Outcome, *, late: bool, now, worker: str) -> admission.Record:
    event, reply = outcome.event, outcome.reply
    delivery = "none" if reply is None else ("outbox" if late else "passive")
    log_row = None
    if reply is not None:
        log_row = {"msg_type": "image" if isinstance(reply, Image) else "text", "content": reply_summary(reply),
                   "delivery": "customer_service" if late else "passive"}
    return admission.Record(
        community_id=outcome.community_id, account=event.account, key=event.dedup_key, openid=event.openid,
        now=now, delivery=delivery, reply=reply_to_dict(reply) if delivery == "passive" else None, log=log_row,
        outbox_message=_outbox_message(reply) if delivery == "outbox" else None,
        changed_rows=outcome.changed_rows, resident_id=outcome.turn_of, worker=worker if outcome.turn_of else None)


def _outbox_message(reply: Reply) -> dict:
    if isinstance(reply, Image):
        return {"kind": "image", "payload": {"media_id": reply.media_id}}
    return {"kind": "text", "payload": {"content": reply.content}}

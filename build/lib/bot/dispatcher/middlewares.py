"""The middleware chain, outermost first. Each is a few lines and does one thing.

    errors → dedup → per-resident ordering → DB session → resident & dialog → NLU → router

- errors: nothing a handler does may reach WeChat as a 500; the resident gets an apology.
- dedup: the first delivery of a MsgId (or event key) claims it in the database together with
  the inbound log row; a retry waits for the first attempt's answer instead of running again.
- ordering: one resident's messages are handled one at a time, in arrival order.
- session: one transaction per event; committed only here (handlers never commit).
- resident & dialog: the resident row (created on first contact) and their conversation state.
- NLU: what the text means (or which menu button was pressed).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Awaitable, Callable

from sqlalchemy import text

from bot import texts
from bot.dispatcher.context import Context, Dialog
from bot.dispatcher.locks import KeyedLocks
from bot.replies import Reply, Text, reply_from_dict
from storage import conversations, dedup, message_log, residents
from storage.sql import is_postgres

log = logging.getLogger("linli.dispatcher")

Next = Callable[[Context], Awaitable[Reply | None]]
Middleware = Callable[[Context, Next], Awaitable[Reply | None]]


async def errors(ctx: Context, call_next: Next) -> Reply | None:
    try:
        return await call_next(ctx)
    except Exception:
        log.exception("handler failed for %s %s", ctx.event.account, ctx.event.dedup_key)
        return Text(texts.APOLOGY)


@dataclass
class Dedup:
    """Claims each delivery once; retries wait for the first attempt's recorded reply."""

    inflight: dict[tuple[str, str], asyncio.Future] = field(default_factory=dict)
    poll_seconds: float = 0.05

    async def __call__(self, ctx: Context, call_next: Next) -> Reply | None:
        event, db = ctx.event, ctx.services.db
        async with db.sessions.begin() as session:
            first = await dedup.claim(session, community_id=ctx.community_id, account=event.account,
                                      key=event.dedup_key, now=ctx.now)
            if first:
                await message_log.log_inbound(session, community_id=ctx.community_id, openid=event.openid,
                                              now=ctx.now, fields=event.log_fields())
        if not first and not await self._adopt_stale(ctx):
            ctx.duplicate = True
            return await self._answer_of_first_attempt(ctx)
        self.inflight[(event.account, event.dedup_key)] = asyncio.get_running_loop().create_future()
        return await call_next(ctx)

    async def _adopt_stale(self, ctx: Context) -> bool:
        lease = timedelta(seconds=ctx.settings.dedup.running_lease_seconds)
        async with ctx.services.db.sessions.begin() as session:
            adopted = await dedup.take_over_stale(session, account=ctx.event.account, key=ctx.event.dedup_key,
                                                  now=ctx.now, lease=lease)
        if adopted:
            log.warning("adopting %s: its first attempt never finished", ctx.event.dedup_key)
        return adopted

    async def _answer_of_first_attempt(self, ctx: Context) -> Reply | None:
        """Wait (within this request's deadline) for the first attempt; never run the handler."""
        budget = ctx.extras.get("budget_seconds", ctx.settings.server.reply_deadline_seconds)
        local = self.inflight.get((ctx.event.account, ctx.event.dedup_key))
        if local is not None:
            try:
                delivery, reply = await asyncio.wait_for(asyncio.shield(local), budget)
            except asyncio.TimeoutError:
                return None
            return reply if delivery == "passive" else None
        return await self._poll_database(ctx, budget)

    async def _poll_database(self, ctx: Context, budget: float) -> Reply | None:
        loop = asyncio.get_running_loop()
        until = loop.time() + budget
        while loop.time() < until:
            async with ctx.services.db.sessions() as session:
                seen = await dedup.seen(session, account=ctx.event.account, key=ctx.event.dedup_key)
            if seen and seen.status == "done":
                return reply_from_dict(seen.reply) if seen.delivery == "passive" else None
            await asyncio.sleep(self.poll_seconds)
        return None

    def settle(self, account: str, key: str, delivery: str, reply: Reply | None) -> None:
        future = self.inflight.pop((account, key), None)
        if future is not None and not future.done():
            future.set_result((delivery, reply))


@dataclass
class ResidentOrdering:
    locks: KeyedLocks = field(default_factory=KeyedLocks)

    async def __call__(self, ctx: Context, call_next: Next) -> Reply | None:
        async with self.locks.hold((ctx.event.account, ctx.event.openid)):
            return await call_next(ctx)


async def db_session(ctx: Context, call_next: Next) -> Reply | None:
    async with ctx.services.db.sessions() as session, session.begin():
        if is_postgres(session):  # the in-process lock cannot order across processes
            await session.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                                  {"key": _lock_key(ctx.event.account, ctx.event.openid)})
        ctx.session = session
        try:
            return await call_next(ctx)
        finally:
            ctx.session = None


async def resident_and_dialog(ctx: Context, call_next: Next) -> Reply | None:
    assert ctx.session is not None
    event = ctx.event
    inbound = not event.is_event or event.event in ("subscribe", "scan", "click")
    resident = await residents.touch(ctx.session, community_id=ctx.community_id, openid=event.openid,
                                     now=ctx.now, inbound=inbound)
    row = await conversations.load(ctx.session, community_id=ctx.community_id, resident_id=resident.id)
    ctx.resident = resident
    ctx.dialog = Dialog(row, ctx.now, timedelta(minutes=ctx.settings.dialog.conversation_ttl_minutes))
    reply = await call_next(ctx)
    if row.id is None and ctx.dialog.changed:
        ctx.session.add(row)
    return reply


@dataclass(frozen=True)
class MenuIntent:
    """A menu click says what the resident wants without any guessing."""

    intent: str
    score: float = 1.0
    confident: bool = True
    slots: dict[str, Any] = field(default_factory=dict)
    alternatives: tuple = ()
    normalized: str = ""


MENU_INTENT_PREFIX = "intent:"


CLARIFY_STATE = "clarify"


async def understanding(ctx: Context, call_next: Next) -> Reply | None:
    event = ctx.event
    if ctx.dialog is not None and ctx.dialog.state == CLARIFY_STATE:
        _resolve_clarification(ctx)
    if ctx.nlu is None and event.kind in ("text", "voice") and ctx.text:
        ctx.nlu = ctx.services.nlu.understand(ctx.text, now=ctx.now)
    elif event.event == "click" and (event.event_key or "").startswith(MENU_INTENT_PREFIX):
        ctx.nlu = MenuIntent(intent=event.event_key[len(MENU_INTENT_PREFIX):])
    return await call_next(ctx)


def _resolve_clarification(ctx: Context) -> None:
    """A digit after "您是想：1… 2…" picks that intent for the sentence the resident said first."""
    data = ctx.dialog.data
    ctx.dialog.finish()
    options, answer = data.get("options", []), ctx.text.strip().rstrip("。.")
    if not (answer.isdigit() and 1 <= int(answer) <= len(options)):
        return
    original = data.get("text", "")
    understood = ctx.services.nlu.understand(original, now=ctx.now)
    ctx.nlu = MenuIntent(intent=options[int(answer) - 1], slots=dict(understood.slots),
                         normalized=understood.normalized)
    ctx.extras["clarified_text"] = original


def _lock_key(account: str, openid: str) -> int:
    digest = hashlib.blake2b(f"{account}:{openid}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def chain(middlewares: list[Middleware], endpoint: Next) -> Next:
    """Compose so the first middleware is the outermost."""
    call = endpoint
    for middleware in reversed(middlewares):
        call = _bind(middleware, call)
    return call


def _bind(middleware: Middleware, call_next: Next) -> Next:
    async def bound(ctx: Context) -> Reply | None:
        return await middleware(ctx, call_next)
    return bound

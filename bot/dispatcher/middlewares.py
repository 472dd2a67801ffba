"""The middleware chain, outermost first. Each is a few lines and does one thing.

    errors → per-resident ordering → admission → handler session → NLU → router

- errors: nothing a handler does may reach WeChat as a 500; the resident gets an apology.
- ordering: one resident's messages are handled one at a time, in arrival order. The lock is
  held from admission until the reply is recorded (Dispatcher.record releases it), so the next
  message sees the dialog as the previous one left it, and a retry of a message still being
  handled in this process waits for its recorded answer.
- admission: claims the delivery key together with the inbound log row, finds or creates the
  resident and loads their conversation — in one transaction shared with other messages
  (storage.group_commit). A delivery whose key is taken never runs again: it answers with the
  first attempt's recorded reply (polling if that attempt runs in another process), or adopts it
  if that attempt died (its lease ran out).
- handler session: a handler that calls `ctx.db()` gets its own transaction, committed here with
  the resident's and dialog's changes; otherwise those changes are saved with the reply record.
- NLU: what the text means (or which menu button was pressed).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Awaitable, Callable

from bot import texts
from bot.dispatcher.context import Context, Dialog
from bot.dispatcher.locks import KeyedLocks
from bot.replies import Reply, Text, reply_from_dict
from storage import dedup
from storage.admission import Admission, Arrival
from storage.dedup import Seen
from storage.group_commit import GroupCommit
from storage.models import Conversation

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
class ResidentOrdering:
    locks: KeyedLocks = field(default_factory=KeyedLocks)

    async def __call__(self, ctx: Context, call_next: Next) -> Reply | None:
        ctx.release = await self.locks.acquire((ctx.event.account, ctx.event.openid))
        return await call_next(ctx)


@dataclass
class Admit:
    commits: GroupCommit
    poll_seconds: float = 0.05

    async def __call__(self, ctx: Context, call_next: Next) -> Reply | None:
        event = ctx.event
        admission: Admission = await self.commits.submit(Arrival(
            community_id=ctx.community_id, account=event.account, key=event.dedup_key, openid=event.openid,
            now=ctx.now, log_fields=event.log_fields(), opens_window=_opens_window(ctx)))
        ctx.resident = admission.resident
        conversation = admission.conversation or Conversation(
            community_id=ctx.community_id, resident_id=admission.resident.id, data={}, handoff=False,
            misunderstood=0)
        ctx.dialog = Dialog(conversation, ctx.now, timedelta(minutes=ctx.settings.dialog.conversation_ttl_minutes))
        if not admission.first and not await self._adopt_stale(ctx, admission.earlier):
            ctx.duplicate = True
            return await self._answer_of_first_attempt(ctx, admission.earlier)
        return await call_next(ctx)

    async def _adopt_stale(self, ctx: Context, earlier: Seen | None) -> bool:
        lease = timedelta(seconds=ctx.settings.dedup.running_lease_seconds)
        if earlier is None or earlier.status != "running" or earlier.started_at >= ctx.now - lease:
            return False
        async with ctx.services.db.sessions.begin() as session:
            adopted = await dedup.take_over_stale(session, account=ctx.event.account, key=ctx.event.dedup_key,
                                                  now=ctx.now, lease=lease)
        if adopted:
            log.warning("adopting %s: its first attempt never finished", ctx.event.dedup_key)
        return adopted

    async def _answer_of_first_attempt(self, ctx: Context, earlier: Seen | None) -> Reply | None:
        """The first attempt's recorded reply; if it is still running elsewhere, wait within the budget."""
        loop = asyncio.get_running_loop()
        until = loop.time() + ctx.extras.get("budget_seconds", ctx.settings.server.reply_deadline_seconds)
        while earlier is not None and earlier.status != "done" and loop.time() < until:
            await asyncio.sleep(self.poll_seconds)
            async with ctx.services.db.sessions() as session:
                earlier = await dedup.seen(session, account=ctx.event.account, key=ctx.event.dedup_key)
        if earlier is not None and earlier.status == "done" and earlier.delivery == "passive":
            return reply_from_dict(earlier.reply)
        return None


def _opens_window(ctx: Context) -> bool:
    """A message from the resident opens WeChat's 48-hour window for customer-service messages."""
    return not ctx.event.is_event or ctx.event.event in ("subscribe", "scan", "click")


async def handler_session(ctx: Context, call_next: Next) -> Reply | None:
    try:
        reply = await call_next(ctx)
    except BaseException:
        await ctx.close_db(commit=False)
        raise
    await ctx.close_db(commit=True)
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

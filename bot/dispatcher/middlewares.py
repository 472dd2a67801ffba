"""The middleware chain, outermost first. Each is a few lines and does one thing.

    errors → per-resident ordering → admission → handler session → NLU → router

- errors: nothing a handler does may reach WeChat as a 500; the resident gets an apology.
  (While the spool is being replayed, "database unreachable" passes through instead.)
- ordering: one resident's messages are handled one at a time, in arrival order. The lock is
  held from admission until the reply is recorded (Dispatcher.record releases it), so the next
  message sees the dialog as the previous one left it, and a retry of a message still being
  handled in this process waits for its recorded answer.
- admission: claims the delivery key together with the inbound log row, finds or creates the
  resident and loads their conversation — in one transaction shared with other messages
  (storage.group_commit). A delivery whose key is taken never runs again: it answers with the
  first attempt's recorded reply (polling if that attempt runs in another process), or adopts it
  if that attempt died — its process stopped beating (storage.workers) or its lease ran out.
  If the database cannot be reached, the message goes to the spool (bot/spool.py) and the
  resident is told it arrived; it runs when the database is back.
- handler session: a handler that calls `ctx.db()` gets its own transaction, committed here with
  the resident's and dialog's changes; otherwise those changes are saved with the reply record.
- NLU: what the text means (or which menu button was pressed).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import timedelta
from functools import lru_cache, partial
from typing import Any, Awaitable, Callable

from bot import texts
from bot.dispatcher.context import Context, Dialog
from bot.dispatcher.locks import KeyedLocks
from bot.replies import Reply, Text, reply_from_dict
from bot.spool import event_to_dict, store_unavailable
from storage import dedup, dialogs, turns
from storage.admission import Admission, Arrival
from storage.dedup import Seen
from storage.group_commit import GroupCommit
from storage.models import Conversation

log = logging.getLogger("linli.dispatcher")

MAX_TURN_POLL_SECONDS = 0.4

Next = Callable[[Context], Awaitable[Reply | None]]
Middleware = Callable[[Context, Next], Awaitable[Reply | None]]


async def errors(ctx: Context, call_next: Next) -> Reply | None:
    try:
        return await call_next(ctx)
    except Exception as exc:
        if ctx.extras.get("replaying") and store_unavailable(exc):
            raise  # replaying the spool: the message stays there until the database is back
        log.exception("handler failed for %s %s", ctx.event.account, ctx.event.dedup_key)
        return Text(texts.APOLOGY)


def _may_spool(ctx: Context) -> bool:
    return ctx.services.spool is not None and not ctx.extras.get("replaying")


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
        try:
            lease, silent = _turn_terms(ctx)
            admission: Admission = await self.commits.submit(Arrival(
                community_id=ctx.community_id, account=event.account, key=event.dedup_key, openid=event.openid,
                now=ctx.now, log_fields=event.log_fields(), opens_window=_opens_window(ctx),
                media=event.kind in ("image", "location"),
                worker=ctx.services.worker_id, turn_lease=lease, silent_after=silent))
        except Exception as exc:
            if not (_may_spool(ctx) and store_unavailable(exc)):
                raise
            return _spool(ctx, exc)
        ctx.resident = admission.resident
        self._set_dialog(ctx, admission.conversation)
        if admission.first:
            if admission.has_turn:
                ctx.turn_of = admission.resident.id
            else:
                await self._wait_for_turn(ctx)
            return await call_next(ctx)
        return await self._retry(ctx, admission.earlier, call_next)

    @staticmethod
    def _set_dialog(ctx: Context, conversation: Conversation | None) -> None:
        conversation = conversation or dialogs.new_row(ctx.community_id, ctx.resident.id)
        ctx.dialog = Dialog(conversation, ctx.now, _seconds(60 * ctx.settings.dialog.conversation_ttl_minutes))

    async def _wait_for_turn(self, ctx: Context) -> None:
        """Another process is handling one of this resident's messages: wait until it is done, then
        start from the resident and dialog as it left them."""
        lease, silent = _turn_terms(ctx)
        key = (ctx.community_id, ctx.event.openid)
        pause = self.poll_seconds
        while True:
            async with ctx.services.db.sessions.begin() as session:
                if await turns.take(session, keys=[key], worker=ctx.services.worker_id, now=ctx.services.clock(),
                                    lease=lease, silent_after=silent):
                    ctx.resident, conversation = await turns.reload(session, ctx.resident.id)
                    break
            await asyncio.sleep(pause)
            pause = min(pause * 2, MAX_TURN_POLL_SECONDS)  # many waiting must not crowd the database out
        self._set_dialog(ctx, conversation)
        ctx.turn_of = ctx.resident.id

    async def _retry(self, ctx: Context, earlier: Seen | None, call_next: Next) -> Reply | None:
        """A retry answers with the first attempt's reply, waiting for it within the budget; if
        that attempt's process died (it stopped beating, or the lease ran out) it takes over."""
        loop = asyncio.get_running_loop()
        until = loop.time() + ctx.extras.get("budget_seconds", ctx.settings.server.reply_deadline_seconds)
        while earlier is not None and earlier.status != "done":
            if await self._adopt_orphan(ctx, earlier):
                await self._wait_for_turn(ctx)  # a turn the dead process held is free: it went silent
                return await call_next(ctx)
            if loop.time() >= until:
                break
            await asyncio.sleep(self.poll_seconds)
            async with ctx.services.db.sessions() as session:
                earlier = await dedup.seen(session, account=ctx.event.account, key=ctx.event.dedup_key)
        ctx.duplicate = True
        if earlier is not None and earlier.status == "done" and earlier.delivery == "passive":
            return reply_from_dict(earlier.reply)
        return None

    async def _adopt_orphan(self, ctx: Context, earlier: Seen) -> bool:
        config = ctx.settings.dedup
        lease, silent = _seconds(config.running_lease_seconds), _seconds(config.worker_silent_seconds)
        now = ctx.services.clock()
        if not earlier.orphaned(now, lease=lease, silent_after=silent):
            return False
        async with ctx.services.db.sessions.begin() as session:
            adopted = await dedup.take_over(session, account=ctx.event.account, key=ctx.event.dedup_key, now=now,
                                            lease=lease, silent_after=silent, worker=ctx.services.worker_id)
        if adopted:
            log.warning("adopting %s: the process running its first attempt went silent", ctx.event.dedup_key)
        return adopted


def _spool(ctx: Context, exc: BaseException) -> Reply:
    """The database is unreachable: keep the message on disk and tell the resident we have it."""
    ctx.services.spool.put("event", {"event": event_to_dict(ctx.event), "at": ctx.now})
    ctx.spooled = True
    log.warning("database unreachable (%s): %s spooled", type(exc).__name__, ctx.event.dedup_key)
    return Text(texts.RECEIVED_WHILE_DOWN)


def _turn_terms(ctx: Context) -> tuple[timedelta, timedelta]:
    """How long a resident's turn lasts at most, and when its holder counts as dead."""
    config = ctx.settings.dedup
    return _seconds(config.turn_lease_seconds), _seconds(config.worker_silent_seconds)


@lru_cache(maxsize=16)
def _seconds(value: float) -> timedelta:
    """A setting's timedelta, made once: timedelta(seconds=...) parses its keywords on every call."""
    return timedelta(seconds=value)


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
    """Compose so the first middleware is the outermost (partial, not a wrapper coroutine: one
    frame per layer instead of two, on every message)."""
    call = endpoint
    for middleware in reversed(middlewares):
        call = partial(middleware, call_next=call)
    return call

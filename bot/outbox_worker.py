"""The outbox worker: sends queued WeChat messages with retries, backoff and template fallback.

Every outbound message is an ``outbox`` row first (written in the same transaction as the work
that produced it); this worker claims due rows in a short transaction, sends them outside any
transaction, then records the outcome in another short transaction. Any number of workers, in
any number of processes, may run on one database: the claim is atomic (``UPDATE … RETURNING``;
``FOR UPDATE SKIP LOCKED`` on PostgreSQL) and only the oldest unsent row of each resident is
claimable, so one resident's messages arrive in order.

Delivery is at-least-once, not exactly-once: WeChat's send APIs have no idempotency key, so if
the process dies after WeChat accepted a message but before the row is marked 'sent', the row's
lease expires and it is sent again. The window is one HTTP round-trip plus one small UPDATE.

Outcomes:

- success → 'sent' (a template delivery also sets message_log.delivery = 'template');
- WeChat unreachable, errcode -1 (busy), quota or token errors, or no token to be had (wrong
  secret, server IP not whitelisted: an operator fixes that) → 'pending' again after an
  exponential backoff, 'failed' after ``max_attempts``;
- 45015/45047 (the 48-hour customer-service window has closed, or its quota is used up) → the
  row becomes the template for its ``notice_kind`` — the community's from the console, else the
  account's from the config — and is sent at once; without one → 'failed' with the reason recorded;
- 43004/43019 (not subscribed / blocked) and any other errcode → 'failed' at once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, Callable

from bot.config import Settings, TemplateSettings
from bot.observability import metrics
from bot.wechat.api import WeChatApi
from bot.wechat.http import TokenFetchError, WeChatApiError, WeChatUnavailable
from storage import outbox
from storage.db import Database
from storage.models import utcnow
from storage.outbox import Claimed
from storage.staff import templates as notice_templates

log = logging.getLogger("linli.outbox")

RETRYABLE = frozenset({-1, 40001, 40014, 42001, 45009, 45011})  # busy, token trouble, quotas
WINDOW_CLOSED = frozenset({45015, 45047})  # outside 48 h / customer-service quota used up
CUSTOMER_SERVICE = frozenset({"text", "image"})
UNREACHABLE_RESIDENT = frozenset({43004, 43019})  # not subscribed / blocked us


class _Malformed(Exception):
    """The row cannot be sent as written (unknown kind, missing payload key): never retried."""


class OutboxWorker:
    """Claims and sends due outbox rows for the accounts it has API clients for."""

    def __init__(self, db: Database, settings: Settings, apis: Mapping[str, WeChatApi], *,
                 clock: Callable[[], datetime] = utcnow, concurrency: int = 10) -> None:
        self._db = db
        self._settings = settings
        self._config = settings.outbox
        self._apis = apis
        self._clock = clock
        self._limit = asyncio.Semaphore(concurrency)
        self._wakeup = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task | None = None

    # ---- control -----------------------------------------------------------------------------

    def wake(self) -> None:
        """Call after committing an enqueue so the message goes out now, not at the next poll."""
        self._wakeup.set()

    async def run(self) -> None:
        """Drain, sleep until woken / the next row is due / the poll interval, repeat; never dies."""
        self._task = asyncio.current_task()
        while not self._stopping:
            try:
                await self.drain()
            except Exception:
                log.exception("outbox worker: pass failed; trying again after the poll interval")
            if not self._stopping:
                await self._sleep()

    async def stop(self, timeout: float = 10.0) -> None:
        """Let the current batch finish, then end ``run()`` (cancelled after ``timeout``)."""
        self._stopping = True
        self._wakeup.set()
        task, self._task = self._task, None
        if task is None or task.done() or task is asyncio.current_task():
            return
        try:
            await asyncio.wait_for(asyncio.shield(task), timeout)
        except asyncio.TimeoutError:
            task.cancel()

    async def drain(self) -> int:
        """Process batches until nothing is due; returns how many rows were attempted."""
        total = 0
        while True:
            count = await self.process_batch()
            if count == 0:
                break
            total += count
        return total

    async def process_batch(self) -> int:
        claimed = await self._claim()
        if claimed:
            await asyncio.gather(*(self._deliver(row) for row in claimed))
        return len(claimed)

    # ---- one pass ----------------------------------------------------------------------------

    async def _claim(self) -> list[Claimed]:
        now = self._clock()
        lease = now + timedelta(seconds=self._config.claim_lease_seconds)
        async with self._db.sessions.begin() as session:
            return await outbox.claim_due(session, now=now, lease_until=lease, limit=self._config.batch_size,
                                          accounts=list(self._apis))

    async def _sleep(self) -> None:
        timeout = self._config.poll_interval_seconds
        try:
            async with self._db.sessions() as session:
                due = await outbox.next_due_at(session, accounts=list(self._apis))
            if due is not None:
                timeout = min(timeout, max(0.0, (due - self._clock()).total_seconds()))
        except Exception:
            log.exception("outbox worker: could not read the next due time")
        try:
            await asyncio.wait_for(self._wakeup.wait(), timeout)
        except asyncio.TimeoutError:
            pass
        self._wakeup.clear()

    async def _deliver(self, row: Claimed) -> None:
        async with self._limit:
            try:
                await self._attempt(row)
            except Exception:
                # Recording failed (e.g. the database is down): the lease expires and the row is
                # claimed again later.
                log.exception("outbox %s: could not record the outcome", row.id)

    async def _attempt(self, row: Claimed) -> None:
        if row.attempts > self._config.max_attempts:
            await self._mark(outbox.mark_failed, row, error="lease expired on the last attempt")
            return
        if not self._time_to_send(row):
            await self._mark(outbox.release, row)
            return
        try:
            await self._send(row)
        except WeChatApiError as exc:
            await self._on_api_error(row, exc)
        except WeChatUnavailable as exc:
            await self._retry_or_fail(row, str(exc))
        except _Malformed as exc:
            await self._mark(outbox.mark_failed, row, error=str(exc))
        except Exception as exc:
            log.exception("outbox %s: unexpected error while sending", row.id)
            await self._retry_or_fail(row, f"{type(exc).__name__}: {exc}")
        else:
            await self._mark(outbox.mark_sent, row, now=self._clock())
            log.info("outbox %s: sent %s for account %s", row.id, row.kind, row.account)

    def _time_to_send(self, row: Claimed) -> bool:
        """A row that waited in a long batch (an overloaded process) may be near the end of its
        lease; sent now, another worker could claim and send it again before this one records it.
        Only send while a whole API call (token refresh included) still fits inside the lease."""
        if row.claimed_until is None:
            return True
        margin = timedelta(seconds=3 * self._settings.wechat.timeout_seconds)
        return self._clock() + margin < row.claimed_until

    async def _send(self, row: Claimed) -> dict[str, Any]:
        api, openid, payload = self._apis[row.account], row.openid, row.payload
        try:
            if row.kind == "text":
                return await api.send_text(openid, payload["content"])
            if row.kind == "image":
                return await api.send_image(openid, payload["media_id"])
            if row.kind == "template":
                return await api.send_template(openid, payload["template_id"], payload.get("data") or {},
                                               payload.get("url") or "")
            if row.kind == "subscribe":
                return await api.send_subscribe(openid, payload["template_id"], payload.get("data") or {},
                                                payload.get("page") or "")
        except KeyError as exc:
            raise _Malformed(f"payload of a {row.kind} message lacks {exc.args[0]!r}") from None
        raise _Malformed(f"unknown outbox kind {row.kind!r}")

    # ---- outcomes ----------------------------------------------------------------------------

    async def _on_api_error(self, row: Claimed, exc: WeChatApiError) -> None:
        if exc.errcode in WINDOW_CLOSED and row.kind in CUSTOMER_SERVICE:
            converted = await self._fall_back_to_template(row, exc)
            if converted is not None:
                await self._attempt(converted)
            return
        if exc.errcode in RETRYABLE or isinstance(exc, TokenFetchError):
            await self._retry_or_fail(row, f"errcode {exc.errcode}: {exc.errmsg}")
            return
        reason = "resident unsubscribed or blocked the account" if exc.errcode in UNREACHABLE_RESIDENT else ""
        error = f"errcode {exc.errcode}: {exc.errmsg}" + (f" ({reason})" if reason else "")
        log.warning("outbox %s: failed, %s", row.id, error)
        await self._mark(outbox.mark_failed, row, error=error)

    async def _fall_back_to_template(self, row: Claimed, exc: WeChatApiError) -> Claimed | None:
        template = await self._template_for(row)
        if template is None:
            error = f"outside 48-hour window and no template for {row.notice_kind} (errcode {exc.errcode})"
            log.warning("outbox %s: failed, %s", row.id, error)
            await self._mark(outbox.mark_failed, row, error=error)
            return None
        payload = template_payload(template, row.payload, original_kind=row.kind)
        async with self._db.sessions.begin() as session:
            if not await outbox.convert(session, row, kind="template", payload=payload):
                return None  # our claim was lost (lease expired); the new holder carries on
        log.info("outbox %s: 48-hour window closed, sending template %s instead", row.id, template.template_id)
        return replace(row, kind="template", payload=payload)

    async def _template_for(self, row: Claimed) -> TemplateSettings | None:
        """The community's template from the console (storage.staff.templates), else the
        account's from the config."""
        async with self._db.sessions() as session:
            stored = await notice_templates.for_notice(session, community_id=row.community_id,
                                                       notice_kind=row.notice_kind)
        if stored is not None:
            return stored
        account = self._settings.account(row.account)
        return account.templates.get(row.notice_kind) if account else None

    async def _retry_or_fail(self, row: Claimed, error: str) -> None:
        if row.attempts >= self._config.max_attempts:
            log.warning("outbox %s: giving up after %s attempts: %s", row.id, row.attempts, error)
            await self._mark(outbox.mark_failed, row, error=f"gave up after {row.attempts} attempts: {error}")
            return
        delay = backoff_seconds(row.attempts, self._config.base_backoff_seconds, self._config.max_backoff_seconds)
        log.info("outbox %s: attempt %s failed (%s); retrying in %.1fs", row.id, row.attempts, error, delay)
        await self._mark(outbox.mark_retry, row, next_attempt_at=self._clock() + timedelta(seconds=delay),
                         error=error)

    async def _mark(self, mark, row: Claimed, **values: Any) -> None:
        async with self._db.sessions.begin() as session:
            if not await mark(session, row, **values):
                log.warning("outbox %s: claim lost before the outcome was recorded", row.id)
        metrics.observe_outbox(row.kind, mark.__name__)


def backoff_seconds(attempts: int, base: float, maximum: float) -> float:
    """Exponential and deterministic: base, 2·base, 4·base, … capped at maximum."""
    return min(base * 2 ** max(attempts - 1, 0), maximum)


def template_payload(template: TemplateSettings, payload: dict[str, Any], *, original_kind: str) -> dict[str, Any]:
    """Fill a template's fields from the notice payload (template field → payload key)."""
    data = {field: {"value": str(payload.get(key, ""))} for field, key in template.fields.items()}
    return {"template_id": template.template_id, "data": data, "url": payload.get("url") or template.url,
            "fallback_from": {"kind": original_kind, "payload": payload}}

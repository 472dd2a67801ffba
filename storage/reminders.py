"""Reminders: messages due at a time, sent exactly once through the outbox by any scheduler.

A reminder is a row with a due time and a unique idempotency key (scheduling it twice is a
no-op). A scheduler sends due rows in batches, each in one transaction (bot/reminder_jobs.py):

1. take — ``lock_due`` selects the earliest due pending rows: on PostgreSQL ``FOR UPDATE SKIP
   LOCKED``, so two schedulers take disjoint rows at once; on SQLite every write transaction
   begins IMMEDIATE (storage/db.py), so the second scheduler waits for the first to commit.
2. settle — every outcome is written under a guard (still 'pending' — the rows are ours until
   the commit), and outbox rows are inserted only for the rows marked 'sent', in the same
   transaction: marking 'sent' and queueing the message commit together or not at all. A crash
   before the commit leaves everything as it was.

When preparing a batch fails, the batch is instead claimed in a transaction of its own —
``claim_due``: one ``UPDATE … WHERE id IN (SELECT … SKIP LOCKED) RETURNING`` that marks the rows
'claimed' under a random token with a lease (``claimed_until``) — and settled one reminder at a
time under the guard ``claim_token = ours AND status = 'claimed'``, so one bad reminder delays
nobody. A scheduler that dies holding claims leaves them until the lease runs out
(``release_stale``); then another sends them — once, because the dead one queued nothing.

Work that must not wait for the next tick (督办, storage/members/supervision.py) schedules its rows
and takes them at once by key (``lock_keys``), then settles them the same way.

Quiet hours (local Asia/Shanghai minutes, per row) are applied twice: when scheduling (a due time
inside them moves to their end) and when settling (a row caught up after downtime in the middle
of the night is held until morning). Rows past ``expires_at`` are not sent at all.
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, timezone
from typing import Any, Iterable

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from nlp.timephrase import SHANGHAI
from storage.member_models import Reminder
from storage.models import MessageLog, OutboxMessage
from storage.sql import is_postgres, upsert_insert

LOCAL = SHANGHAI
UNFINISHED = ("pending", "claimed")
FINISHED = ("sent", "cancelled", "expired", "skipped", "failed")
OUTBOX_KEY_PREFIX = "rm:"


# ---- quiet hours ------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class QuietHours:
    """A nightly window in local minutes of the day; ``start > end`` wraps past midnight."""

    start: int
    end: int

    @classmethod
    def parse(cls, start: str | None, end: str | None) -> "QuietHours | None":
        """"22:00", "08:00" → the window; equal or missing times mean no quiet hours."""
        if not start or not end or start == end:
            return None
        return cls(_minutes(start), _minutes(end))

    @classmethod
    def of(cls, start: int | None, end: int | None) -> "QuietHours | None":
        return None if start is None or end is None or start == end else cls(start, end)

    def covers(self, moment: datetime) -> bool:
        local = moment.astimezone(LOCAL)
        minute = local.hour * 60 + local.minute
        if self.start < self.end:
            return self.start <= minute < self.end
        return minute >= self.start or minute < self.end

    def release(self, moment: datetime) -> datetime:
        """The moment itself outside the window, else the window's end (UTC)."""
        if not self.covers(moment):
            return moment
        local = moment.astimezone(LOCAL)
        day = local.date()
        if self.start > self.end and local.hour * 60 + local.minute >= self.start:
            day += timedelta(days=1)
        end = datetime.combine(day, time(self.end // 60, self.end % 60), LOCAL)
        return end.astimezone(timezone.utc)


def _minutes(clock: str) -> int:
    hour, minute = clock.split(":")
    return int(hour) * 60 + int(minute)


def hold(moment: datetime, quiet: QuietHours | None) -> datetime:
    return quiet.release(moment) if quiet else moment


# ---- scheduling and stopping ------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Due:
    """A reminder to schedule; ``key`` makes scheduling it again a no-op."""

    community_id: int
    kind: str
    subject: str
    account: str
    openid: str
    due_at: datetime
    key: str
    payload: dict[str, Any]
    resident_id: int | None = None
    quiet: QuietHours | None = None
    expires_at: datetime | None = None

    def row(self, now: datetime) -> dict[str, Any]:
        return dict(community_id=self.community_id, kind=self.kind, subject=self.subject, account=self.account,
                    openid=self.openid, resident_id=self.resident_id, due_at=hold(self.due_at, self.quiet),
                    expires_at=self.expires_at, quiet_start=self.quiet.start if self.quiet else None,
                    quiet_end=self.quiet.end if self.quiet else None, status="pending", attempts=0,
                    idempotency_key=self.key, payload=self.payload, created_at=now)


async def schedule(session: AsyncSession, reminders: Iterable[Due], *, now: datetime, revive: bool = False) -> int:
    """Insert the reminders not scheduled before (by key); returns how many are new.

    ``revive``: a key whose row was cancelled (never sent) is scheduled again with the new time and
    text — a visit handed A → B → A must reach A again. Sent, expired or pending rows are kept as
    they are, so reviving never sends anything twice."""
    rows = [reminder.row(now) for reminder in reminders]
    if not rows:
        return 0
    table = Reminder.__table__
    statement = upsert_insert(session, table)
    if revive:
        fresh = ("kind", "subject", "account", "openid", "resident_id", "due_at", "expires_at", "quiet_start",
                 "quiet_end", "status", "attempts", "payload", "created_at")
        statement = statement.on_conflict_do_update(
            index_elements=["idempotency_key"], set_={**{c: statement.excluded[c] for c in fresh},
                                                      "last_error": None, "claim_token": None, "claimed_until": None},
            where=table.c.status == "cancelled")
    else:
        statement = statement.on_conflict_do_nothing(index_elements=["idempotency_key"])
    return len((await session.execute(statement.returning(table.c.id), rows)).all())


async def cancel(session: AsyncSession, *, community_id: int, reason: str, subjects: Iterable[str] | None = None,
                 resident_id: int | None = None, openid: str | None = None,
                 kinds: Iterable[str] | None = None) -> int:
    """Stop unsent reminders matching every filter given (at least one); a claimed one in flight
    is stopped too, since its settle is guarded by status = 'claimed'."""
    r = Reminder
    where = [r.community_id == community_id, r.status.in_(UNFINISHED)]
    if subjects is not None:
        where.append(r.subject.in_(list(subjects)))
    if resident_id is not None:
        where.append(r.resident_id == resident_id)
    if openid is not None:
        where.append(r.openid == openid)
    if kinds is not None:
        where.append(r.kind.in_(list(kinds)))
    if len(where) == 2:
        raise ValueError("cancel needs a filter")
    result = await session.execute(update(r).where(*where)
                                   .values(status="cancelled", last_error=reason[:500], claim_token=None,
                                           claimed_until=None)
                                   .execution_options(synchronize_session=False))
    return result.rowcount


# ---- the scheduler's side ---------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Claimed:
    """A claimed reminder, detached from any session."""

    id: int
    community_id: int
    kind: str
    subject: str
    account: str
    openid: str
    resident_id: int | None
    due_at: datetime
    expires_at: datetime | None
    quiet: QuietHours | None
    attempts: int
    idempotency_key: str
    payload: dict[str, Any]
    token: str | None  # None: taken with a row lock for the current transaction (lock_due)


_CLAIMED_COLUMNS = (Reminder.id, Reminder.community_id, Reminder.kind, Reminder.subject, Reminder.account,
                    Reminder.openid, Reminder.resident_id, Reminder.due_at, Reminder.expires_at,
                    Reminder.quiet_start, Reminder.quiet_end, Reminder.attempts, Reminder.idempotency_key,
                    Reminder.payload)


async def release_stale(session: AsyncSession, *, now: datetime) -> int:
    """Claims whose lease ran out (their scheduler died) become pending again."""
    r = Reminder
    result = await session.execute(update(r).where(r.status == "claimed", r.claimed_until < now)
                                   .values(status="pending", claim_token=None, claimed_until=None)
                                   .execution_options(synchronize_session=False))
    return result.rowcount


async def lock_due(session: AsyncSession, *, now: datetime, limit: int) -> list[Claimed]:
    """Take up to ``limit`` due pending reminders, earliest first, for this transaction."""
    r = Reminder
    query = (select(*_CLAIMED_COLUMNS).where(r.status == "pending", r.due_at <= now).order_by(r.due_at, r.id)
             .limit(limit))
    if is_postgres(session):
        query = query.with_for_update(skip_locked=True)
    return _claimed((await session.execute(query)).all(), token=None)


async def lock_keys(session: AsyncSession, keys: Iterable[str], *, now: datetime) -> list[Claimed]:
    """Take the due pending reminders with these keys for this transaction (sending what was just
    scheduled without waiting for a tick; rows another scheduler holds are left to it)."""
    r = Reminder
    query = (select(*_CLAIMED_COLUMNS).where(r.idempotency_key.in_(list(keys)), r.status == "pending", r.due_at <= now)
             .order_by(r.due_at, r.id))
    if is_postgres(session):
        query = query.with_for_update(skip_locked=True)
    return _claimed((await session.execute(query)).all(), token=None)


def _claimed(rows, token: str | None) -> list[Claimed]:
    return [Claimed(id_, community, kind, subject, account, openid, resident, due, expires,
                    QuietHours.of(quiet_start, quiet_end), attempts, key, payload, token)
            for (id_, community, kind, subject, account, openid, resident, due, expires, quiet_start, quiet_end,
                 attempts, key, payload) in rows]


async def claim_due(session: AsyncSession, *, now: datetime, lease_until: datetime, limit: int) -> list[Claimed]:
    """Claim up to ``limit`` due pending reminders, earliest first, beyond this transaction (a lease)."""
    r = Reminder
    token = secrets.token_hex(16)
    pick = select(r.id).where(r.status == "pending", r.due_at <= now).order_by(r.due_at, r.id).limit(limit)
    if is_postgres(session):
        pick = pick.with_for_update(skip_locked=True)
    statement = (update(r).where(r.id.in_(pick.scalar_subquery()))
                 .values(status="claimed", claimed_until=lease_until, claim_token=token, attempts=r.attempts + 1)
                 .returning(*_CLAIMED_COLUMNS).execution_options(synchronize_session=False))
    claimed = _claimed((await session.execute(statement)).all(), token)
    return sorted(claimed, key=lambda c: (c.due_at, c.id))


@dataclass(frozen=True, slots=True)
class Message:
    """What a reminder becomes in the outbox."""

    kind: str  # text | template
    payload: dict[str, Any]
    notice_kind: str
    content: str  # for the message log


@dataclass
class Outcomes:
    """How each claimed reminder of one batch ends; filled by the job, written by ``settle``."""

    send: dict[int, Message] = field(default_factory=dict)
    defer: dict[int, datetime] = field(default_factory=dict)  # quiet hours: pending again until then
    drop: dict[int, tuple[str, str]] = field(default_factory=dict)  # id → (status, reason)


async def settle(session: AsyncSession, batch: list[Claimed], outcomes: Outcomes, *, now: datetime) -> list[int]:
    """Write a batch's outcomes; returns the ids sent now (queued into the outbox in this transaction)."""
    if not batch:
        return []
    token = batch[0].token
    by_id = {claimed.id: claimed for claimed in batch}
    sent = await _guarded(session, token, list(outcomes.send), status="sent", sent_at=now, last_error=None)
    await _enqueue(session, [by_id[i] for i in sent], outcomes.send, now=now)
    for status_reason, ids in _grouped(outcomes.drop).items():
        await _guarded(session, token, ids, status=status_reason[0], last_error=status_reason[1][:500])
    for until, ids in _grouped(outcomes.defer).items():  # a hold for quiet hours is no attempt
        await _guarded(session, token, ids, status="pending", due_at=until,
                       attempts=Reminder.attempts - (0 if token is None else 1))
    return sent


async def retry_later(session: AsyncSession, claimed: Claimed, *, error: str, retry_at: datetime,
                      max_attempts: int) -> str:
    """A reminder that could not be prepared: pending again later, or failed for good."""
    status = "failed" if claimed.attempts >= max_attempts else "pending"
    await _guarded(session, claimed.token, [claimed.id], status=status, due_at=retry_at, last_error=error[:500])
    return status


async def purge(session: AsyncSession, *, older_than: datetime) -> int:
    """Finished reminders are kept a while for staff to look at, then deleted."""
    result = await session.execute(delete(Reminder).where(Reminder.status.in_(FINISHED),
                                                          Reminder.due_at < older_than)
                                   .execution_options(synchronize_session=False))
    return result.rowcount


async def _guarded(session: AsyncSession, token: str | None, ids: list[int], **values: Any) -> list[int]:
    """Update the rows we hold; those someone else took over (or cancelled) are left alone."""
    if not ids:
        return []
    r = Reminder
    held = (r.status == "pending",) if token is None else (r.claim_token == token, r.status == "claimed")
    statement = (update(r).where(r.id.in_(ids), *held)
                 .values(claim_token=None, claimed_until=None, **values).returning(r.id)
                 .execution_options(synchronize_session=False))
    return list((await session.execute(statement)).scalars())


def _grouped(mapping: dict[int, Any]) -> dict[Any, list[int]]:
    groups: dict[Any, list[int]] = defaultdict(list)
    for reminder_id, value in mapping.items():
        groups[value].append(reminder_id)
    return groups


async def _enqueue(session: AsyncSession, reminders: list[Claimed], messages: dict[int, Message], *,
                   now: datetime) -> None:
    """One outbox row and one message-log row per reminder, in bulk."""
    if not reminders:
        return
    rows = [dict(community_id=c.community_id, account=c.account, openid=c.openid, kind=messages[c.id].kind,
                 notice_kind=messages[c.id].notice_kind, payload=messages[c.id].payload, status="pending",
                 attempts=0, next_attempt_at=now, created_at=now, idempotency_key=OUTBOX_KEY_PREFIX + c.idempotency_key)
            for c in reminders]
    outbox = OutboxMessage.__table__  # Core inserts: the ORM's bulk path costs more than the SQL here
    statement = (upsert_insert(session, outbox).on_conflict_do_nothing(index_elements=["idempotency_key"])
                 .returning(outbox.c.id, outbox.c.idempotency_key))
    queued = {key: outbox_id for outbox_id, key in (await session.execute(statement, rows)).all()}
    logs = [dict(community_id=c.community_id, openid=c.openid, direction="out", msg_type="text",
                 content=messages[c.id].content, created_at=now, outbox_id=queued[key],
                 delivery="template" if messages[c.id].kind == "template" else "customer_service")
            for c in reminders if (key := OUTBOX_KEY_PREFIX + c.idempotency_key) in queued]
    if logs:
        await session.execute(insert(MessageLog.__table__), logs)

"""The outbox: every outbound WeChat message is a row first, then sent by the outbox worker."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.models import MessageLog, OutboxMessage
from storage.sql import is_postgres, upsert_insert


QUEUED = "outbox_queued"


def queued_anything(session: AsyncSession) -> bool:
    return bool(session.info.get(QUEUED))


async def enqueue(session: AsyncSession, *, community_id: int, account: str, openid: str, kind: str,
                  payload: dict[str, Any], now: datetime, notice_kind: str = "reply",
                  idempotency_key: str | None = None) -> int | None:
    """Queue one message; with an idempotency key a second enqueue is a no-op (returns None).

    Marks the session (``queued_anything``), so whoever commits it knows to wake the sender."""
    session.info[QUEUED] = True
    values = dict(community_id=community_id, account=account, openid=openid, kind=kind, payload=payload,
                  notice_kind=notice_kind, idempotency_key=idempotency_key, status="pending",
                  attempts=0, next_attempt_at=now, created_at=now)
    if idempotency_key is None:
        statement = insert(OutboxMessage).values(**values).returning(OutboxMessage.id)
    else:
        statement = (upsert_insert(session, OutboxMessage).values(**values)
                     .on_conflict_do_nothing(index_elements=["idempotency_key"]).returning(OutboxMessage.id))
    return (await session.execute(statement)).scalar()


async def cancel_pending(session: AsyncSession, *, account: str, openid: str) -> int:
    """Unsubscribe stops everything not yet sent to that resident."""
    result = await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.account == account, OutboxMessage.openid == openid,
               OutboxMessage.status == "pending")
        .values(status="cancelled", last_error="resident unsubscribed"))
    return result.rowcount


# ---- the worker's side: claim due rows, then record how each send went ----------------------
#
# A claim is one short UPDATE … RETURNING. It takes only the oldest unsent row of each
# (account, openid), so one resident's messages go out in order while different residents'
# messages go out in parallel; a row whose sender died mid-way ('sending' with an expired lease)
# counts as due again. Every mark is guarded by (id, status='sending', attempts) so a worker
# whose lease ran out and was re-claimed by another cannot overwrite the newer claim's result.

UNSENT = ("pending", "sending")


@dataclass(frozen=True, slots=True)
class Claimed:
    """A claimed outbox row, detached from any session (sending happens outside transactions)."""

    id: int
    community_id: int
    account: str
    openid: str
    kind: str
    notice_kind: str
    payload: dict[str, Any]
    attempts: int
    claimed_until: datetime | None = None  # the claim's lease: past it another worker may send the row too


def _due(now: datetime):
    o = OutboxMessage
    return or_(and_(o.status == "pending", o.next_attempt_at <= now),
               and_(o.status == "sending", o.claimed_until < now))


async def claim_due(session: AsyncSession, *, now: datetime, lease_until: datetime, limit: int,
                    accounts: Collection[str] | None = None) -> list[Claimed]:
    """Mark up to ``limit`` due rows 'sending' (attempts += 1) and return them, oldest first."""
    o = OutboxMessage
    older = aliased(OutboxMessage)
    blocked = (select(older.id).where(older.account == o.account, older.openid == o.openid,
                                      older.id < o.id, older.status.in_(UNSENT)).exists())
    pick = select(o.id).where(_due(now), ~blocked).order_by(o.id).limit(limit)
    if accounts is not None:
        pick = pick.where(o.account.in_(list(accounts)))
    if is_postgres(session):
        pick = pick.with_for_update(skip_locked=True, of=o)
    statement = (update(o).where(o.id.in_(pick.scalar_subquery()))
                 .values(status="sending", claimed_until=lease_until, attempts=o.attempts + 1)
                 .returning(o.id, o.community_id, o.account, o.openid, o.kind, o.notice_kind, o.payload,
                            o.attempts, o.claimed_until)
                 .execution_options(synchronize_session=False))
    rows = (await session.execute(statement)).all()
    return sorted((Claimed(*row) for row in rows), key=lambda claimed: claimed.id)


def _held(claimed: Claimed):
    o = OutboxMessage
    return and_(o.id == claimed.id, o.status == "sending", o.attempts == claimed.attempts)


async def release(session: AsyncSession, claimed: Claimed) -> bool:
    """Give an unsent claim back (due at once, the attempt not counted): its lease is too close to
    running out for a send to finish inside it."""
    o = OutboxMessage
    result = await session.execute(update(o).where(_held(claimed))
                                   .values(status="pending", claimed_until=None, attempts=o.attempts - 1))
    return result.rowcount == 1


async def mark_sent(session: AsyncSession, claimed: Claimed, *, now: datetime) -> bool:
    """Record a successful send; a template delivery is also noted in the message log."""
    result = await session.execute(
        update(OutboxMessage).where(_held(claimed))
        .values(status="sent", sent_at=now, claimed_until=None, last_error=None)
        .execution_options(synchronize_session=False))
    if result.rowcount == 1 and claimed.kind == "template":
        await session.execute(update(MessageLog).where(MessageLog.outbox_id == claimed.id)
                              .values(delivery="template").execution_options(synchronize_session=False))
    return result.rowcount == 1


async def mark_retry(session: AsyncSession, claimed: Claimed, *, next_attempt_at: datetime, error: str) -> bool:
    result = await session.execute(
        update(OutboxMessage).where(_held(claimed))
        .values(status="pending", next_attempt_at=next_attempt_at, claimed_until=None, last_error=error[:500])
        .execution_options(synchronize_session=False))
    return result.rowcount == 1


async def mark_failed(session: AsyncSession, claimed: Claimed, *, error: str) -> bool:
    result = await session.execute(
        update(OutboxMessage).where(_held(claimed))
        .values(status="failed", claimed_until=None, last_error=error[:500])
        .execution_options(synchronize_session=False))
    return result.rowcount == 1


async def convert(session: AsyncSession, claimed: Claimed, *, kind: str, payload: dict[str, Any]) -> bool:
    """Switch a claimed row to another kind (a template when the 48-hour window has closed),
    so a retry after a crash or error resends it in its new form."""
    result = await session.execute(
        update(OutboxMessage).where(_held(claimed)).values(kind=kind, payload=payload)
        .execution_options(synchronize_session=False))
    return result.rowcount == 1


async def next_due_at(session: AsyncSession, *, accounts: Collection[str] | None = None) -> datetime | None:
    """When the earliest pending row becomes due (so the worker can sleep exactly that long)."""
    o = OutboxMessage
    query = select(func.min(o.next_attempt_at)).where(o.status == "pending")
    if accounts is not None:
        query = query.where(o.account.in_(list(accounts)))
    return (await session.execute(query)).scalar()

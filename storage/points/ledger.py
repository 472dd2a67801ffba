"""The points ledger: append-only entries, each applied exactly once, and the cached balance.

Two ways money moves, both safe when transactions run concurrently (PostgreSQL) without a
read-then-write anywhere:

- credit (awards, refunds, positive adjustments): the entry is inserted first with
  ON CONFLICT (community_id, source_key) DO NOTHING; only if it went in does the balance move.
  A second attempt with the same cause waits for the first to commit and then does nothing.
- debit (redemptions, negative adjustments): one conditional UPDATE takes the points only if the
  balance covers them; only then is the entry written, so a balance never goes below zero.

Ranks are by ``earned`` (awards and adjustments), so spending points does not cost a resident
their place on the leaderboard.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.points import audit
from storage.points_models import PointsAccount, PointsEntry
from storage.sql import upsert_insert

AWARD, ADJUSTMENT, REDEMPTION, REFUND = "award", "adjustment", "redemption", "refund"
EARNING_KINDS = (AWARD, ADJUSTMENT)


class InsufficientPoints(Exception):
    """The balance does not cover a debit; nothing was changed."""


@dataclass(frozen=True, slots=True)
class Balance:
    balance: int
    earned: int


async def ensure_account(session: AsyncSession, *, community_id: int, resident_id: int, now: datetime) -> None:
    statement = (upsert_insert(session, PointsAccount)
                 .values(community_id=community_id, resident_id=resident_id, balance=0, earned=0,
                         leaderboard_opt_out=False, updated_at=now)
                 .on_conflict_do_nothing(index_elements=["resident_id"]))
    await session.execute(statement)


async def credit(session: AsyncSession, *, community_id: int, resident_id: int, amount: int, kind: str,
                 reason: str, source_key: str, now: datetime, created_by: str | None = None) -> int | None:
    """Add points once per source key; returns the new entry's id, or None if the key was used."""
    if amount <= 0:
        raise ValueError("a credit must be positive")
    await ensure_account(session, community_id=community_id, resident_id=resident_id, now=now)
    statement = (upsert_insert(session, PointsEntry)
                 .values(community_id=community_id, resident_id=resident_id, delta=amount, kind=kind,
                         reason=reason[:200], source_key=source_key, created_by=created_by, created_at=now)
                 .on_conflict_do_nothing(index_elements=["community_id", "source_key"])
                 .returning(PointsEntry.id))
    entry_id = (await session.execute(statement)).scalar()
    if entry_id is not None:
        await _move(session, resident_id, amount, earned=amount if kind in EARNING_KINDS else 0, now=now)
    return entry_id


async def debit(session: AsyncSession, *, community_id: int, resident_id: int, amount: int, kind: str,
                reason: str, source_key: str, now: datetime, created_by: str | None = None) -> int:
    """Take points if the balance covers them (else InsufficientPoints); returns the entry's id.

    The source key must be new (callers derive it from a fresh order or adjustment)."""
    if amount <= 0:
        raise ValueError("a debit must be positive")
    await ensure_account(session, community_id=community_id, resident_id=resident_id, now=now)
    moved = await _move(session, resident_id, -amount, earned=-amount if kind in EARNING_KINDS else 0, now=now,
                        require=amount)
    if moved is None:
        raise InsufficientPoints(amount)
    statement = (insert(PointsEntry)
                 .values(community_id=community_id, resident_id=resident_id, delta=-amount, kind=kind,
                         reason=reason[:200], source_key=source_key, created_by=created_by, created_at=now)
                 .returning(PointsEntry.id))
    return (await session.execute(statement)).scalar_one()


async def _move(session: AsyncSession, resident_id: int, delta: int, *, earned: int, now: datetime,
                require: int = 0) -> int | None:
    """Shift the cached balance in one statement; with ``require`` only if the balance covers it."""
    account = PointsAccount
    statement = (update(account).where(account.resident_id == resident_id)
                 .values(balance=account.balance + delta, earned=account.earned + earned, updated_at=now)
                 .returning(account.balance)
                 .execution_options(synchronize_session=False))
    if require:
        statement = statement.where(account.balance >= require)
    return (await session.execute(statement)).scalar()


async def award(session: AsyncSession, *, community_id: int, resident_id: int, points: int, reason: str,
                source_key: str, now: datetime) -> int | None:
    """Points for something the resident did; a repeated source key is ignored (returns None)."""
    return await credit(session, community_id=community_id, resident_id=resident_id, amount=points, kind=AWARD,
                        reason=reason, source_key=source_key, now=now)


RULES = ("verified_report", "mediation", "volunteer_hour")


async def award_by_rule(session: AsyncSession, points_settings, *, rule: str, community_id: int, resident_id: int,
                        reason: str, source_key: str, now: datetime, units: int = 1) -> int | None:
    """Award what the configured rule gives (``[points] per_<rule>``), e.g. a verified report."""
    if rule not in RULES:
        raise ValueError(f"unknown points rule {rule!r}; known: {', '.join(RULES)}")
    points = getattr(points_settings, f"per_{rule}") * units
    if points <= 0:
        return None
    return await award(session, community_id=community_id, resident_id=resident_id, points=points,
                       reason=reason, source_key=source_key, now=now)


async def adjust(session: AsyncSession, *, community_id: int, resident_id: int, delta: int, reason: str,
                 actor: str, now: datetime) -> int:
    """A staff correction with a reason, written to the audit trail; cannot overdraw a balance."""
    if not reason.strip() or not actor.strip():
        raise ValueError("an adjustment needs a reason and the staff member's name")
    if delta == 0:
        raise ValueError("an adjustment must change the balance")
    common = dict(community_id=community_id, resident_id=resident_id, kind=ADJUSTMENT, reason=reason,
                  source_key=f"adjust:{uuid.uuid4().hex}", now=now, created_by=actor)
    if delta > 0:
        entry_id = await credit(session, amount=delta, **common)
    else:
        entry_id = await debit(session, amount=-delta, **common)
    await audit.record(session, community_id=community_id, actor=actor, action="adjust", reason=reason,
                       entry_id=entry_id, now=now, resident_id=resident_id, delta=delta)
    return entry_id


async def balance(session: AsyncSession, resident_id: int) -> Balance:
    row = (await session.execute(select(PointsAccount.balance, PointsAccount.earned)
                                 .where(PointsAccount.resident_id == resident_id))).first()
    return Balance(*row) if row else Balance(0, 0)


@dataclass(frozen=True, slots=True)
class Line:
    """A ledger entry as a resident sees it, with the balance right after it."""

    entry: PointsEntry
    balance_after: int


async def history(session: AsyncSession, resident_id: int, *, limit: int,
                  before_id: int | None = None) -> tuple[list[Line], bool]:
    """Newest first, one page; keyset-paged so entries added meanwhile do not shift pages.
    Returns the lines and whether older entries remain."""
    query = select(PointsEntry).where(PointsEntry.resident_id == resident_id)
    if before_id is not None:
        query = query.where(PointsEntry.id < before_id)
    rows = list((await session.scalars(query.order_by(PointsEntry.id.desc()).limit(limit + 1))).all())
    page, more = rows[:limit], len(rows) > limit
    if not page:
        return [], False
    newer = await session.scalar(select(func.coalesce(func.sum(PointsEntry.delta), 0))
                                 .where(PointsEntry.resident_id == resident_id, PointsEntry.id > page[0].id))
    running = (await balance(session, resident_id)).balance - newer
    lines = []
    for entry in page:
        lines.append(Line(entry, running))
        running -= entry.delta
    return lines, more


async def inconsistencies(session: AsyncSession, community_id: int) -> list[tuple[int, Balance, Balance]]:
    """Residents whose cached balance or earnings differ from their ledger (should be none)."""
    earned = func.sum(PointsEntry.delta).filter(PointsEntry.kind.in_(EARNING_KINDS))
    sums = (select(PointsEntry.resident_id, func.sum(PointsEntry.delta).label("balance"),
                   func.coalesce(earned, 0).label("earned"))
            .where(PointsEntry.community_id == community_id).group_by(PointsEntry.resident_id).subquery())
    rows = await session.execute(
        select(PointsAccount.resident_id, PointsAccount.balance, PointsAccount.earned,
               func.coalesce(sums.c.balance, 0), func.coalesce(sums.c.earned, 0))
        .outerjoin(sums, sums.c.resident_id == PointsAccount.resident_id)
        .where(PointsAccount.community_id == community_id))
    return [(resident_id, Balance(b, e), Balance(lb, le)) for resident_id, b, e, lb, le in rows.all()
            if (b, e) != (lb, le)]

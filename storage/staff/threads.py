"""Escalated threads (转人工): residents whose conversation is with staff, and taking them over.

The hand-off itself is the conversation's ``handoff`` flag (handlers/handoff.py). A thread stays
on the staff list while the flag is set — also after the bot's silence timeout, which is only
applied when the resident writes again — so a request made at night is still there in the
morning. ``handoff_at`` stays the moment the resident asked (the list's order); taking the
thread and answering it renew ``handoff_active_at``, so the silence timeout counts from them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Building, Conversation, MessageLog, Resident
from storage.sql import upsert_insert
from storage.staff_models import ThreadClaim


@dataclass(frozen=True)
class Escalated:
    resident: Resident
    conversation: Conversation
    claim: ThreadClaim | None
    last_in: MessageLog | None  # the resident's latest message


def _in_reach(query, grid_ids: frozenset[int] | None):
    if grid_ids is None:
        return query
    in_grids = select(Building.id).where(Building.grid_id.in_(list(grid_ids)))
    return query.where(Resident.building_id.in_(in_grids))


async def escalated(session: AsyncSession, *, community_id: int, grid_ids: frozenset[int] | None) -> list[Escalated]:
    """Threads handed to staff, longest waiting first."""
    query = (select(Conversation, Resident, ThreadClaim)
             .join(Resident, Resident.id == Conversation.resident_id)
             .outerjoin(ThreadClaim, ThreadClaim.resident_id == Resident.id)
             .where(Conversation.community_id == community_id, Conversation.handoff.is_(True))
             .order_by(Conversation.handoff_at, Conversation.id))
    rows = (await session.execute(_in_reach(query, grid_ids))).all()
    last = await _last_inbound(session, community_id, [r.openid for _, r, _ in rows])
    return [Escalated(r, c, claim, last.get(r.openid)) for c, r, claim in rows]


async def _last_inbound(session: AsyncSession, community_id: int, openids: list[str]) -> dict[str, MessageLog]:
    if not openids:
        return {}
    latest = (select(func.max(MessageLog.id)).where(MessageLog.community_id == community_id,
                                                    MessageLog.openid.in_(openids), MessageLog.direction == "in")
              .group_by(MessageLog.openid))
    rows = await session.scalars(select(MessageLog).where(MessageLog.id.in_(latest)))
    return {m.openid: m for m in rows}


async def resident_in_reach(session: AsyncSession, *, resident_id: int, community_ids: frozenset[int],
                            grid_ids: frozenset[int] | None) -> Resident | None:
    query = select(Resident).where(Resident.id == resident_id, Resident.community_id.in_(list(community_ids)))
    return await session.scalar(_in_reach(query, grid_ids))


async def conversation_of(session: AsyncSession, resident_id: int) -> Conversation | None:
    return await session.scalar(select(Conversation).where(Conversation.resident_id == resident_id))


async def claim_of(session: AsyncSession, resident_id: int) -> ThreadClaim | None:
    return await session.scalar(select(ThreadClaim).where(ThreadClaim.resident_id == resident_id))


async def take(session: AsyncSession, *, resident: Resident, staff_id: int, staff_name: str, now: datetime) -> None:
    """Take over the thread (the latest to take it holds it); the silence timeout starts again."""
    conversation = await conversation_of(session, resident.id)
    if conversation is not None:
        conversation.handoff_active_at = now
    statement = upsert_insert(session, ThreadClaim).values(community_id=resident.community_id, resident_id=resident.id,
                                                           staff_id=staff_id, staff_name=staff_name, claimed_at=now)
    await session.execute(statement.on_conflict_do_update(
        index_elements=["resident_id"], set_={"staff_id": staff_id, "staff_name": staff_name, "claimed_at": now}))


async def answered(session: AsyncSession, conversation: Conversation, *, now: datetime) -> None:
    """A staff answer keeps the thread with staff: the silence timeout starts again."""
    conversation.handoff_active_at = now
    await session.flush()


async def close(session: AsyncSession, *, resident: Resident, now: datetime) -> bool:
    """Hand the resident back to the bot; False if the thread was not with staff."""
    conversation = await conversation_of(session, resident.id)
    await session.execute(delete(ThreadClaim).where(ThreadClaim.resident_id == resident.id))
    if conversation is None or not conversation.handoff:
        return False
    conversation.handoff = False
    conversation.updated_at = now
    await session.flush()
    return True

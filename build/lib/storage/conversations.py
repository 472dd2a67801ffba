"""Conversation rows: one per resident, holding the dialog step, its data and the hand-off flag."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Conversation


async def load(session: AsyncSession, *, community_id: int, resident_id: int) -> Conversation:
    """The resident's conversation; a new one is only added to the session (inserted on first change)."""
    conversation = await session.scalar(select(Conversation).where(Conversation.resident_id == resident_id))
    if conversation is None:
        conversation = Conversation(community_id=community_id, resident_id=resident_id, data={}, handoff=False,
                                    misunderstood=0)
    return conversation

"""Conversation rows: one per resident, holding the dialog step, its data and the hand-off flag."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Conversation
from storage.sql import upsert_insert


async def get_or_create(session: AsyncSession, *, community_id: int, resident_id: int) -> Conversation:
    conversation = await session.scalar(select(Conversation).where(Conversation.resident_id == resident_id))
    if conversation is None:
        await session.execute(upsert_insert(session, Conversation)
                              .values(community_id=community_id, resident_id=resident_id, data={})
                              .on_conflict_do_nothing(index_elements=["resident_id"]))
        conversation = await session.scalar(select(Conversation).where(Conversation.resident_id == resident_id))
    assert conversation is not None
    return conversation

"""FAQ entries per community."""

from __future__ import annotations

from datetime import datetime
from typing import Iterable

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import FaqEntry
from storage.sql import upsert_insert


async def version(session: AsyncSession, community_id: int) -> tuple[int, datetime | None]:
    """Changes whenever an entry is added, removed or edited: the cache key of the search index."""
    row = (await session.execute(select(func.count(), func.max(FaqEntry.updated_at))
                                 .where(FaqEntry.community_id == community_id, FaqEntry.enabled))).one()
    return int(row[0]), row[1]


async def enabled_entries(session: AsyncSession, community_id: int) -> list[FaqEntry]:
    rows = await session.scalars(select(FaqEntry).where(FaqEntry.community_id == community_id, FaqEntry.enabled)
                                 .order_by(FaqEntry.id))
    return list(rows.all())


async def add_missing(session: AsyncSession, community_id: int, entries: Iterable[dict]) -> None:
    """Insert entries whose question is not there yet (seeding is idempotent)."""
    for entry in entries:
        await session.execute(upsert_insert(session, FaqEntry)
                              .values(community_id=community_id, question=entry["question"],
                                      answer=entry["answer"], keywords=list(entry.get("keywords", [])),
                                      enabled=True)
                              .on_conflict_do_nothing(index_elements=["community_id", "question"]))

"""The resources list (资源清单): what residents can do and when they are free, for staff to match
with needs. One entry per resident; skills accumulate, a newly said free time replaces the old.

The search text and the query are both normalised (nlp.normalize: simplified characters,
half-width, lower case), so "電器" finds "电器" whichever of the two was traditional."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from nlp.normalize import normalize
from storage.models import Resident
from storage.points_models import ResourceEntry


async def register(session: AsyncSession, *, community_id: int, resident_id: int, skills: list[str],
                   availability: list[str], said: str, now: datetime) -> ResourceEntry:
    entry = await session.scalar(select(ResourceEntry).where(ResourceEntry.resident_id == resident_id))
    if entry is None:
        entry = ResourceEntry(community_id=community_id, resident_id=resident_id, skills=[], availability=[])
        session.add(entry)
    entry.skills = list(dict.fromkeys([*(entry.skills or []), *skills]))
    entry.availability = list(availability) or list(entry.availability or [])
    entry.said = said[:500]
    entry.search_text = " ".join(normalize(part) for part in [*entry.skills, *entry.availability, said])[:1000]
    entry.updated_at = now
    await session.flush()
    return entry


async def of_resident(session: AsyncSession, resident_id: int) -> ResourceEntry | None:
    return await session.scalar(select(ResourceEntry).where(ResourceEntry.resident_id == resident_id))


async def search(session: AsyncSession, community_id: int, query: str = "",
                 limit: int = 50) -> list[tuple[ResourceEntry, Resident]]:
    """Entries containing every word of the query (e.g. "电器 周末"), most recently updated first."""
    statement = (select(ResourceEntry, Resident).join(Resident, Resident.id == ResourceEntry.resident_id)
                 .where(ResourceEntry.community_id == community_id))
    for word in filter(None, (normalize(word) for word in query.split())):
        statement = statement.where(ResourceEntry.search_text.contains(word, autoescape=True))
    rows = await session.execute(statement.order_by(ResourceEntry.updated_at.desc(), ResourceEntry.id.desc())
                                 .limit(limit))
    return list(rows.all())

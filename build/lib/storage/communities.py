"""Communities named in config are made sure to exist at start-up; their ids are cached."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Community
from storage.sql import upsert_insert


async def ensure(session: AsyncSession, communities: list[tuple[str, str]]) -> dict[str, int]:
    """Insert missing (slug, name) pairs; return slug → id for all of them."""
    for slug, name in communities:
        await session.execute(upsert_insert(session, Community).values(slug=slug, name=name)
                              .on_conflict_do_nothing(index_elements=["slug"]))
    rows = await session.execute(select(Community.slug, Community.id)
                                 .where(Community.slug.in_([slug for slug, _ in communities])))
    return {slug: id_ for slug, id_ in rows.all()}

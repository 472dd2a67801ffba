"""A resident's turn: one of their messages at a time, across all server processes.

Within a process an asyncio lock orders a resident's messages (bot/dispatcher/middlewares.py);
across processes the resident's row says which process is handling one of their messages
(busy_worker) and until when (busy_until). A message takes the turn when admitted and gives it
back when its reply is recorded, so the next message — which may have landed on another
worker — sees the dialog as the previous one left it. A turn held by a process that went silent
(killed) or past its lease is free, so nothing waits on the dead.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Iterable

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Conversation, Resident, ServerWorker


def free_for(worker: str, now: datetime, silent_after: timedelta):
    """The condition under which `worker` may take a resident's turn."""
    silent = select(ServerWorker.id).where(ServerWorker.seen_at < now - silent_after)
    return or_(Resident.busy_worker.is_(None), Resident.busy_worker == worker, Resident.busy_until < now,
               Resident.busy_worker.in_(silent))


async def take(session: AsyncSession, *, keys: Iterable[tuple[int, str]], worker: str, now: datetime,
               lease: timedelta, silent_after: timedelta) -> set[tuple[int, str]]:
    """Take the turns of these (community_id, openid) residents that are free; returns those taken."""
    keys = list(keys)
    if not keys:
        return set()
    whose = or_(*(and_(Resident.community_id == community, Resident.openid == openid) for community, openid in keys))
    result = await session.execute(
        update(Resident).where(whose, free_for(worker, now, silent_after))
        .values(busy_worker=worker, busy_until=now + lease)
        .returning(Resident.community_id, Resident.openid)
        .execution_options(synchronize_session=False))
    return {(row.community_id, row.openid) for row in result}


async def give_back(session: AsyncSession, *, resident_ids: Iterable[int], worker: str) -> None:
    ids = list(resident_ids)
    if ids:
        await session.execute(update(Resident).where(Resident.id.in_(ids), Resident.busy_worker == worker)
                              .values(busy_worker=None, busy_until=None)
                              .execution_options(synchronize_session=False))


async def reload(session: AsyncSession, resident_id: int) -> tuple[Resident, Conversation | None]:
    """The resident and dialog as the previous turn left them."""
    row = (await session.execute(select(Resident, Conversation)
                                 .outerjoin(Conversation, Conversation.resident_id == Resident.id)
                                 .where(Resident.id == resident_id))).one()
    return row[0], row[1]

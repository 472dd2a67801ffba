"""storage/writes.py: telling a handler's transaction that only read from one that wrote, so a
read-only one can end with a rollback and leave the resident's and dialog's changes to the reply
record (bot/dispatcher/context.py)."""

from __future__ import annotations

from sqlalchemy import select, update

from storage import communities, writes
from storage.models import Community, Resident


async def _resident(db) -> int:
    async with db.sessions.begin() as session:
        community = (await communities.ensure(session, [("test", "测试社区")]))["test"]
        resident = Resident(community_id=community, openid="o_w", roles=[], subscribed=True)
        session.add(resident)
        await session.flush()
        return resident.id


async def test_reading_is_not_writing(db):
    resident_id = await _resident(db)
    async with db.sessions() as session:
        await session.scalar(select(Resident).where(Resident.id == resident_id))
        await session.scalars(select(Community))
        assert not writes.wrote_anything(session)


async def test_a_change_to_a_row_the_caller_saves_itself_is_not_the_sessions_write(db):
    resident_id = await _resident(db)
    async with db.sessions() as session:
        resident = await session.get(Resident, resident_id)
        resident.name = "王大爷"
        assert not writes.wrote_anything(session, besides=[resident])
        assert writes.wrote_anything(session)


async def test_new_rows_statements_and_flushes_are_writes(db):
    resident_id = await _resident(db)
    async with db.sessions() as session:
        session.add(Resident(community_id=(await session.get(Resident, resident_id)).community_id, openid="o_new",
                             roles=[], subscribed=True))
        assert writes.wrote_anything(session)
    async with db.sessions() as session:
        await session.execute(update(Resident).where(Resident.id == resident_id).values(name="李阿姨"))
        assert writes.wrote_anything(session)
    async with db.sessions() as session:
        resident = await session.get(Resident, resident_id)
        resident.name = "张师傅"
        await session.scalars(select(Community))  # autoflush: the change is on its way to the database
        assert not session.dirty and writes.wrote_anything(session, besides=[resident])

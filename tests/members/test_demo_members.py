"""The demo seed's care households: seeded once however often the seed runs, and given their
first visit (and its reminder) by the scheduler's first tick."""

from __future__ import annotations

from sqlalchemy import select

from bot import reminder_jobs
from bot.config import validate
from bot.demo_data import COMMUNITY_NAME, COMMUNITY_SLUG, seed
from bot.members_demo import CARE_HOUSEHOLDS
from bot.services import Services
from storage.member_models import CareHousehold, Reminder, Visit
from tests.members.conftest import member_settings


async def test_the_demo_care_households_are_seeded_once_and_scheduled_by_the_first_tick(db, db_url, clock):
    for _ in range(2):
        async with db.sessions.begin() as session:
            community_id = await seed(session)
    data = member_settings(db_url).model_dump()
    data["communities"] = [{"slug": COMMUNITY_SLUG, "name": COMMUNITY_NAME}]
    data["accounts"][0]["community"] = COMMUNITY_SLUG
    data["tickets"]["teams"] = {}
    services = Services(settings=validate(data), db=db, nlu=None, community_ids={COMMUNITY_SLUG: community_id},
                        clock=clock)
    await reminder_jobs.tick(services)
    async with db.sessions() as session:
        names = list(await session.scalars(select(CareHousehold.name).order_by(CareHousehold.id)))
        visits = list(await session.scalars(select(Visit.status)))
        reminded = set(await session.scalars(select(Reminder.openid).where(Reminder.kind == "visit_due")))
    assert names == [name for name, *_ in CARE_HOUSEHOLDS]
    assert visits == ["open", "open"]
    assert reminded == {"o_demo_zhang", "o_demo_wang"}

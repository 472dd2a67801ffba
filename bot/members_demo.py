"""Demo member-household data: two care households (重点户) with visit schedules (约访), so a
newcomer chatting as 张建国 (o_demo_zhang) can say "我的任务" and "走访 4栋201 老人身体不错".

Idempotent like the rest of bot/demo_data: households are found by name. Only the households and
schedules are written here (the seed has no settings); the scheduler's first tick makes each
schedule's first visit and its reminders, as it does for any schedule without one.
"""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.member_models import CareHousehold, VisitSchedule
from storage.models import Building, Resident
from storage.reminders import LOCAL

# name, category, building, unit, room, visited by, recurrence
CARE_HOUSEHOLDS = (
    ("孙奶奶", "elderly_alone", "4栋", "1", "201", "o_demo_zhang", "weekly"),
    ("赵大爷", "dibao", "5栋", "2", "302", "o_demo_wang", "monthly"),
)
DELIVERY_HOUR = 9


async def seed(session: AsyncSession, community_id: int, now: datetime | None = None) -> None:
    now = now or datetime.now(timezone.utc)
    have = set(await session.scalars(select(CareHousehold.name).where(CareHousehold.community_id == community_id)))
    buildings = dict((await session.execute(select(Building.name, Building.id)
                                            .where(Building.community_id == community_id))).all())
    residents = dict((await session.execute(select(Resident.openid, Resident.id)
                                            .where(Resident.community_id == community_id))).all())
    for name, category, building, unit, room, visitor, every in CARE_HOUSEHOLDS:
        if name in have:
            continue
        household = CareHousehold(community_id=community_id, name=name, category=category,
                                  building_id=buildings.get(building), unit=unit, room=room,
                                  member_resident_id=residents.get(visitor), active=True, created_at=now)
        session.add(household)
        await session.flush()
        session.add(VisitSchedule(community_id=community_id, care_household_id=household.id, recurrence=every,
                                  anchor=now.astimezone(LOCAL).date(), delivery_hour=DELIVERY_HOUR, active=True,
                                  created_at=now))

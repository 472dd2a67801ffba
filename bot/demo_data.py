"""Demo data: one community with grids, buildings and a handful of residents.

Kept in one module so the demo, the tests and a curious reader all see the same neighbourhood.
Every write is an upsert by a natural key (slug, grid name, building name, openid), so seeding
twice — or after residents have chatted — changes nothing that is already there.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import nlp

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import members_demo, points_demo
from storage import communities, faq
from storage.models import Building, Grid, Resident
from storage.sql import upsert_insert
from storage.tickets import link_grid_worker, link_member_household

COMMUNITY_SLUG = "demo"
COMMUNITY_NAME = "襄阳市樊城区示范社区"

# grid name → buildings in it
GRIDS: dict[str, list[str]] = {
    "第一网格": ["1栋", "2栋", "3栋", "4栋"],
    "第二网格": ["5栋", "6栋", "7栋", "8栋"],
    "第三网格": ["9栋", "10栋", "11栋", "12栋"],
}


@dataclass(frozen=True)
class DemoResident:
    openid: str
    name: str
    phone: str
    building: str
    unit: int
    room: str
    roles: tuple[str, ...] = ()


# Phone numbers are made up (138-0710-xxxx; 0710 is Xiangyang's area code).
RESIDENTS: tuple[DemoResident, ...] = (
    DemoResident("o_demo_zhang", "张建国", "13807100001", "3栋", 2, "502", ("member_household",)),
    DemoResident("o_demo_li", "李秀英", "13807100002", "3栋", 1, "301"),
    DemoResident("o_demo_wang", "王志强", "13807100003", "6栋", 1, "602", ("member_household",)),
    DemoResident("o_demo_liu", "刘芳", "13807100004", "1栋", 1, "101", ("grid_worker",)),
    DemoResident("o_demo_chen", "陈桂兰", "13807100005", "7栋", 3, "201"),
    DemoResident("o_demo_yang", "杨磊", "13807100006", "9栋", 2, "1203"),
    DemoResident("o_demo_zhao", "赵敏", "13807100007", "11栋", 1, "402"),
    DemoResident("o_demo_huang", "黄伟", "13807100008", "12栋", 2, "803"),
)

# Beyond the building / grid they live in: what member households look after and grid workers work.
MEMBER_HOUSEHOLD_BUILDINGS: dict[str, tuple[str, ...]] = {"o_demo_zhang": ("4栋",), "o_demo_wang": ("5栋",)}
GRID_WORKER_GRIDS: dict[str, tuple[str, ...]] = {"o_demo_liu": ("第二网格",)}


async def seed(session: AsyncSession, *, slug: str = COMMUNITY_SLUG, name: str = COMMUNITY_NAME) -> int:
    """Create or refresh the demo neighbourhood; returns the community id. The caller commits."""
    community_id = (await communities.ensure(session, [(slug, name)]))[slug]
    grid_ids = await _grids(session, community_id)
    building_ids = await _buildings(session, community_id, grid_ids)
    await _residents(session, community_id, building_ids)
    await _ticket_links(session, community_id, grid_ids, building_ids)
    await faq.add_missing(session, community_id, demo_faq())
    await points_demo.seed(session, community_id)  # mall items, activities, a few points
    await members_demo.seed(session, community_id)  # care households with visit schedules (约访)
    return community_id


def demo_faq() -> list[dict]:
    """The FAQ shipped with the NLU package, as a community's starting point."""
    path = Path(nlp.__file__).with_name("data") / "faq_demo.json"
    return json.loads(path.read_text(encoding="utf-8"))


async def _grids(session: AsyncSession, community_id: int) -> dict[str, int]:
    for grid in GRIDS:
        await session.execute(upsert_insert(session, Grid).values(community_id=community_id, name=grid)
                              .on_conflict_do_nothing(index_elements=["community_id", "name"]))
    rows = await session.execute(select(Grid.name, Grid.id).where(Grid.community_id == community_id))
    return dict(rows.all())


async def _buildings(session: AsyncSession, community_id: int, grid_ids: dict[str, int]) -> dict[str, int]:
    for grid, buildings in GRIDS.items():
        for building in buildings:
            stmt = upsert_insert(session, Building).values(community_id=community_id, name=building,
                                                           grid_id=grid_ids[grid])
            await session.execute(stmt.on_conflict_do_update(index_elements=["community_id", "name"],
                                                             set_={"grid_id": stmt.excluded.grid_id}))
    rows = await session.execute(select(Building.name, Building.id).where(Building.community_id == community_id))
    return dict(rows.all())


async def _residents(session: AsyncSession, community_id: int, building_ids: dict[str, int]) -> None:
    """Profile fields are refreshed; chat state (subscribed, last message) is left alone."""
    for person in RESIDENTS:
        profile = {"name": person.name, "phone": person.phone, "building_id": building_ids[person.building],
                   "unit": person.unit, "room": person.room, "roles": list(person.roles)}
        stmt = upsert_insert(session, Resident).values(community_id=community_id, openid=person.openid,
                                                       subscribed=True, **profile)
        await session.execute(stmt.on_conflict_do_update(index_elements=["community_id", "openid"],
                                                         set_={key: stmt.excluded[key] for key in profile}))


async def _ticket_links(session: AsyncSession, community_id: int, grid_ids: dict[str, int],
                        building_ids: dict[str, int]) -> None:
    rows = await session.execute(select(Resident.openid, Resident.id).where(Resident.community_id == community_id))
    resident_ids = dict(rows.all())
    for openid, buildings in MEMBER_HOUSEHOLD_BUILDINGS.items():
        for building in buildings:
            await link_member_household(session, community_id=community_id, resident_id=resident_ids[openid],
                                        building_id=building_ids[building])
    for openid, grids in GRID_WORKER_GRIDS.items():
        for grid in grids:
            await link_grid_worker(session, community_id=community_id, resident_id=resident_ids[openid],
                                   grid_id=grid_ids[grid])

"""Reads the points pages need that storage.points does not offer: a community's open orders and
its activities, and finding a resident by phone or exact name. Changes go through storage.points."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Resident
from storage.points_models import Activity, MallItem, MallOrder


async def open_orders(session: AsyncSession, community_id: int) -> list[tuple[MallOrder, MallItem, Resident]]:
    rows = await session.execute(select(MallOrder, MallItem, Resident)
                                 .join(MallItem, MallItem.id == MallOrder.item_id)
                                 .join(Resident, Resident.id == MallOrder.resident_id)
                                 .where(MallOrder.community_id == community_id, MallOrder.status == "placed")
                                 .order_by(MallOrder.id))
    return list(rows.all())


async def activities(session: AsyncSession, community_id: int, limit: int = 50) -> list[Activity]:
    return list(await session.scalars(select(Activity).where(Activity.community_id == community_id)
                                      .order_by(Activity.starts_at.desc()).limit(limit)))


async def activity(session: AsyncSession, community_id: int, activity_id: int) -> Activity | None:
    return await session.scalar(select(Activity).where(Activity.id == activity_id,
                                                       Activity.community_id == community_id))


async def find_resident(session: AsyncSession, community_id: int, who: str) -> list[Resident]:
    """Residents whose phone or name is exactly ``who`` (staff type one of the two)."""
    who = who.strip()
    if not who:
        return []
    return list(await session.scalars(select(Resident).where(
        Resident.community_id == community_id, or_(Resident.phone == who, Resident.name == who))
        .order_by(Resident.id).limit(5)))

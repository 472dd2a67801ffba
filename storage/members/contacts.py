"""Who a member-household notice goes to and through which account.

The grid workers and staff are found the way ticket routing finds them (storage/tickets/routing.py),
so "the grid worker of 5栋" means the same person for a ticket and for a missed visit.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from storage.models import Building, Resident
from storage.tickets import routing


@dataclass(frozen=True)
class Contact:
    openid: str
    resident: Resident | None  # None: a staff openid from config that never wrote to us

    @property
    def resident_id(self) -> int | None:
        return self.resident.id if self.resident is not None else None


async def account_name(session: AsyncSession, community_id: int, settings: Settings) -> str:
    """The community's account (the first, if it has several: an openid belongs to one account)."""
    slug = await routing.community_slug(session, community_id)
    account = next((a for a in settings.accounts if a.community == slug), None)
    if account is None:
        raise LookupError(f"no account serves community {slug!r}")
    return account.name


async def grid_workers_of_building(session: AsyncSession, community_id: int,
                                   building_id: int | None) -> list[Contact]:
    if building_id is None:
        return []
    grid_id = await session.scalar(select(Building.grid_id).where(Building.id == building_id))
    return [Contact(r.openid, r) for r in await routing.grid_workers(session, community_id, grid_id)]


async def staff(session: AsyncSession, community_id: int, settings: Settings) -> list[Contact]:
    """Community staff who follow the account ([tickets.teams.<slug>] staff)."""
    return [Contact(r.openid, r.resident) for r in await routing.staff_team(session, community_id, "staff", settings)]


def unique(contacts: list[Contact]) -> list[Contact]:
    seen: dict[str, Contact] = {}
    for contact in contacts:
        seen.setdefault(contact.openid, contact)
    return list(seen.values())

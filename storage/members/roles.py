"""Roles and what they look after: member households (党员中心户) and grid workers (网格员).

A role is a word in ``residents.roles``; the buildings a member household looks after beyond the
one it lives in, and the grids a grid worker works beyond its own, are the ticket domain's link
tables (routing reads them too). Taking a role away also stops everything that was going to
reach that person because of it: their reminders, the tickets in their hands (up the chain to the
grid worker, on the event log), and the care households they visited are left without a visitor
(staff assign another; until then a missed visit still escalates).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, cast, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from storage import reminders
from storage.member_models import CareHousehold
from storage.models import Building, Resident
from storage.ticket_models import GridWorker, MemberHouseholdBuilding
from storage.tickets import link_grid_worker, link_member_household

MEMBER, GRID_WORKER = "member_household", "grid_worker"
ROLES = (MEMBER, GRID_WORKER)
# Reminder kinds that reach a person because of a role (storage/members/visits.py, bot/reminder_jobs.py).
ROLE_REMINDERS = {MEMBER: ("visit_due", "visit_again"), GRID_WORKER: ("visit_escalation",)}
DIGEST = "digest"
ANY_ROLE_REMINDERS = (DIGEST, "sup_alert")  # stopped once no role is left (storage/members/supervision.py)


def has_role(resident: Resident | None, role: str | None = None) -> bool:
    """The resident holds ``role`` (any of ours when None)."""
    held = resident.roles if resident is not None else None
    if not held:
        return False  # most residents: checked on every message by the member-task filters
    return role in held if role else any(r in held for r in ROLES)


async def grant(session: AsyncSession, *, resident: Resident, role: str, building_ids: list[int] = (),
                grid_ids: list[int] = ()) -> None:
    """Give the role and link its buildings (member household) or grids (grid worker); idempotent."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")
    if role not in (resident.roles or []):
        resident.roles = [*(resident.roles or []), role]
    for building_id in building_ids if role == MEMBER else ():
        await link_member_household(session, community_id=resident.community_id, resident_id=resident.id,
                                    building_id=building_id)
    for grid_id in grid_ids if role == GRID_WORKER else ():
        await link_grid_worker(session, community_id=resident.community_id, resident_id=resident.id, grid_id=grid_id)


async def revoke(session: AsyncSession, *, resident: Resident, role: str, now: datetime,
                 settings: Settings | None = None) -> int:
    """Take the role away with its links, reminders and visiting duties; returns reminders stopped.

    With ``settings`` (routing needs them) the person's active tickets of that role go up the
    chain at once; without, the next reminder tick does it (tasks.release_orphans), before any
    督办 could reach the person."""
    resident.roles = [r for r in (resident.roles or []) if r != role]
    if settings is not None:
        from storage.members import tasks  # tasks builds on roles

        await tasks.release(session, resident, role=role, now=now, settings=settings)
    if role == MEMBER:
        await session.execute(delete(MemberHouseholdBuilding).where(MemberHouseholdBuilding.resident_id == resident.id))
        await session.execute(update(CareHousehold).where(CareHousehold.member_resident_id == resident.id)
                              .values(member_resident_id=None))
    elif role == GRID_WORKER:
        await session.execute(delete(GridWorker).where(GridWorker.resident_id == resident.id))
    kinds = list(ROLE_REMINDERS.get(role, ()))
    if not has_role(resident):
        kinds += ANY_ROLE_REMINDERS
    return await reminders.cancel(session, community_id=resident.community_id, resident_id=resident.id, kinds=kinds,
                                  reason=f"role {role} removed")


async def building_ids_of(session: AsyncSession, resident: Resident) -> set[int]:
    """The buildings a member household looks after: where it lives and the linked ones."""
    linked = await session.scalars(select(MemberHouseholdBuilding.building_id)
                                   .where(MemberHouseholdBuilding.resident_id == resident.id))
    own = {resident.building_id} if resident.building_id is not None else set()
    return own | set(linked)


async def grid_ids_of(session: AsyncSession, resident: Resident) -> set[int]:
    """The grids a grid worker works: its own building's and the linked ones."""
    grids = set(await session.scalars(select(GridWorker.grid_id).where(GridWorker.resident_id == resident.id)))
    if resident.building_id is not None:
        own = await session.scalar(select(Building.grid_id).where(Building.id == resident.building_id))
        if own is not None:
            grids.add(own)
    return grids


async def holders(session: AsyncSession, *, community_id: int, role: str | None = None) -> list[Resident]:
    """Residents holding ``role`` (any of ours when None). Roles are a JSON list: its text is
    searched (the same SQL on SQLite and PostgreSQL), then each hit is checked for real."""
    wanted = [role] if role else list(ROLES)
    text = cast(Resident.roles, String)
    rows = await session.scalars(select(Resident).where(Resident.community_id == community_id,
                                                        or_(*(text.like(f'%"{r}"%') for r in wanted)))
                                 .order_by(Resident.id))
    return [r for r in rows if has_role(r, role)]


async def building_names(session: AsyncSession, building_ids: set[int] | list[int]) -> list[str]:
    if not building_ids:
        return []
    rows = await session.scalars(select(Building.name).where(Building.id.in_(list(building_ids)))
                                 .order_by(Building.id))
    return list(rows)

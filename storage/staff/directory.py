"""What the console's management pages read and change that no other domain module offers:
the resident directory, grids and buildings, FAQ entries. Thin queries, one community at a time.
(Roles and their buildings/grids go through storage.members.roles; tickets, points and the
members' work through their own modules.)"""

from __future__ import annotations

from sqlalchemy import String, cast, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Building, FaqEntry, Grid, Resident
from storage.staff import rows


async def residents(session: AsyncSession, *, community_id: int, q: str, role: str, offset: int,
                    limit: int) -> tuple[list[Resident], int]:
    where = [Resident.community_id == community_id]
    if q:
        # icontains: the same matches on PostgreSQL, whose LIKE minds case, as on SQLite.
        where.append(or_(Resident.name.icontains(q, autoescape=True), Resident.phone.contains(q, autoescape=True),
                         Resident.room.icontains(q, autoescape=True), Resident.openid == q))
    if role:
        where.append(cast(Resident.roles, String).contains(f'"{role}"'))
    total = await session.scalar(select(func.count()).select_from(Resident).where(*where)) or 0
    rows = await session.scalars(select(Resident).where(*where).order_by(Resident.id.desc()).offset(offset).limit(limit))
    return list(rows), total


async def resident(session: AsyncSession, *, community_id: int, resident_id: int) -> Resident | None:
    return await session.scalar(select(Resident).where(Resident.id == resident_id,
                                                       Resident.community_id == community_id))


async def grids_with_buildings(session: AsyncSession, community_id: int) -> list[tuple[Grid | None, list[Building]]]:
    """Every grid with its buildings, then the buildings in no grid (grid None)."""
    grids = list(await session.scalars(select(Grid).where(Grid.community_id == community_id).order_by(Grid.name)))
    buildings = list(await session.scalars(select(Building).where(Building.community_id == community_id)))
    buildings.sort(key=lambda b: (_natural(b.name)))
    out: list[tuple[Grid | None, list[Building]]] = [(g, [b for b in buildings if b.grid_id == g.id]) for g in grids]
    loose = [b for b in buildings if b.grid_id is None]
    if loose:
        out.append((None, loose))
    return out


def _natural(name: str) -> tuple:
    """"2栋" before "10栋"."""
    digits = "".join(ch for ch in name if ch.isdigit())
    return (name.rstrip("0123456789栋号楼"), int(digits) if digits else 0, name)


async def buildings(session: AsyncSession, community_id: int) -> list[Building]:
    rows = list(await session.scalars(select(Building).where(Building.community_id == community_id)))
    return sorted(rows, key=lambda b: _natural(b.name))


async def add_grid(session: AsyncSession, *, community_id: int, name: str) -> Grid:
    if await session.scalar(select(Grid).where(Grid.community_id == community_id, Grid.name == name)):
        raise ValueError("grid_exists")
    grid = Grid(community_id=community_id, name=name)
    session.add(grid)
    await session.flush()
    return grid


async def grid_of(session: AsyncSession, *, community_id: int, grid_id: int) -> Grid | None:
    return await session.scalar(select(Grid).where(Grid.id == grid_id, Grid.community_id == community_id))


async def rename_grid(session: AsyncSession, grid: Grid, name: str) -> None:
    """A new name; another grid of the community holding it raises ValueError."""
    clash = await session.scalar(select(Grid.id).where(Grid.community_id == grid.community_id, Grid.name == name,
                                                       Grid.id != grid.id))
    if clash is not None:
        raise ValueError("grid_exists")
    grid.name = name
    await session.flush()


async def grid_in_use(session: AsyncSession, grid: Grid) -> str | None:
    """What still points at the grid ("buildings", "staff", "grid_workers", "tickets"), else None.

    Deleting is only for a grid made by mistake: staff scopes and grid-worker links would go
    with it (cascade), tickets and buildings would silently lose their grid, so the page says
    what to move first — or to rename the grid instead."""
    from storage.staff_models import StaffScope
    from storage.ticket_models import GridWorker, Ticket

    for reason, model in (("buildings", Building), ("staff", StaffScope), ("grid_workers", GridWorker),
                          ("tickets", Ticket)):
        if await session.scalar(select(model.id).where(model.grid_id == grid.id).limit(1)) is not None:
            return reason
    return None


async def save_building(session: AsyncSession, *, community_id: int, name: str, grid_id: int | None) -> Building:
    """Add a building, or move the one with this name to another grid."""
    if grid_id is not None and await session.scalar(select(Grid.id).where(Grid.id == grid_id,
                                                                         Grid.community_id == community_id)) is None:
        raise ValueError("bad_grid")
    building = await session.scalar(select(Building).where(Building.community_id == community_id,
                                                           Building.name == name))
    if building is None:
        building = Building(community_id=community_id, name=name)
        session.add(building)
    building.grid_id = grid_id
    await session.flush()
    return building


async def faq_entries(session: AsyncSession, community_id: int) -> list[FaqEntry]:
    return list(await session.scalars(select(FaqEntry).where(FaqEntry.community_id == community_id)
                                      .order_by(FaqEntry.enabled.desc(), FaqEntry.question)))


async def save_faq(session: AsyncSession, *, community_id: int, question: str, answer: str, keywords: list[str],
                   enabled: bool, entry_id: int | None = None) -> FaqEntry:
    """Add or change an entry. The consult handler's index notices (storage.faq.version)."""
    entry = await rows.edit_or_new(session, FaqEntry, community_id=community_id, row_id=entry_id,
                              name_column=FaqEntry.question, name=question, taken="faq_exists")
    entry.question, entry.answer, entry.keywords, entry.enabled = question, answer, keywords, enabled
    await session.flush()
    return entry


async def delete_faq(session: AsyncSession, *, community_id: int, entry_id: int) -> bool:
    return await rows.remove(session, FaqEntry, community_id=community_id, row_id=entry_id)

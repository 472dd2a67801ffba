"""Leaderboards (亮积分, 比积分): ranks in the grid and the community, and the monthly board.

Ranks count points earned (awards and staff adjustments), not the balance, so redeeming points
never costs a resident their place. Ties share a rank. Residents who replied 退订排行 still have
a rank of their own but are left off the published board and do not get the monthly message.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta, tzinfo

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Building, Grid, Resident
from storage.points import ledger
from storage.points_models import PointsAccount, PointsEntry


@dataclass(frozen=True, slots=True)
class Rank:
    position: int | None  # None: nothing earned yet
    among: int  # residents with points in this scope


@dataclass(frozen=True, slots=True)
class Ranks:
    earned: int
    community: Rank
    grid_name: str | None
    grid: Rank | None


async def grid_of(session: AsyncSession, resident: Resident) -> tuple[int, str] | None:
    if resident.building_id is None:
        return None
    row = (await session.execute(select(Grid.id, Grid.name).join(Building, Building.grid_id == Grid.id)
                                 .where(Building.id == resident.building_id))).first()
    return (row[0], row[1]) if row else None


async def ranks(session: AsyncSession, resident: Resident) -> Ranks:
    """Where the resident stands by lifetime points, in the community and in their grid."""
    earned = (await ledger.balance(session, resident.id)).earned
    base = select(func.count()).select_from(PointsAccount).where(PointsAccount.community_id == resident.community_id)
    community = await _rank(session, base, earned)
    grid = await grid_of(session, resident)
    if grid is None:
        return Ranks(earned, community, None, None)
    in_grid = (base.join(Resident, Resident.id == PointsAccount.resident_id)
               .join(Building, Building.id == Resident.building_id).where(Building.grid_id == grid[0]))
    return Ranks(earned, community, grid[1], await _rank(session, in_grid, earned))


async def _rank(session: AsyncSession, scope, earned: int) -> Rank:
    among = await session.scalar(scope.where(PointsAccount.earned > 0))
    if earned <= 0:
        return Rank(None, among)
    ahead = await session.scalar(scope.where(PointsAccount.earned > earned))
    return Rank(ahead + 1, among)


@dataclass(frozen=True, slots=True)
class Standing:
    resident_id: int
    name: str | None
    building: str | None
    grid_id: int | None
    grid_name: str | None
    points: int
    opted_out: bool


@dataclass(frozen=True, slots=True)
class Board:
    """Points earned in one period, best first, with helpers for the published lists."""

    standings: list[Standing]

    def top(self, limit: int, grid_id: int | None = None) -> list[tuple[int, Standing]]:
        """(rank, standing) of those who did not opt out; ranks count everyone."""
        scope = [s for s in self.standings if grid_id is None or s.grid_id == grid_id]
        ranked = [(self._position(s, scope), s) for s in scope]
        return [(rank, s) for rank, s in ranked if not s.opted_out][:limit]

    def position_of(self, resident_id: int, grid_id: int | None = None) -> int | None:
        scope = [s for s in self.standings if grid_id is None or s.grid_id == grid_id]
        mine = next((s for s in scope if s.resident_id == resident_id), None)
        return None if mine is None else self._position(mine, scope)

    def points_of(self, resident_id: int) -> int:
        return next((s.points for s in self.standings if s.resident_id == resident_id), 0)

    @staticmethod
    def _position(standing: Standing, scope: list[Standing]) -> int:
        return 1 + sum(1 for other in scope if other.points > standing.points)


def month_of(moment: datetime, local: tzinfo) -> tuple[datetime, datetime]:
    """[start, end) of the calendar month (in local time) that contains moment."""
    start = datetime.combine(moment.astimezone(local).date().replace(day=1), time(0), local)
    end = datetime.combine((start + timedelta(days=32)).date().replace(day=1), time(0), local)
    return start, end


async def board(session: AsyncSession, community_id: int, start: datetime, end: datetime) -> Board:
    """Points earned in [start, end), per resident, best first."""
    earned = (select(PointsEntry.resident_id, func.sum(PointsEntry.delta).label("points"))
              .where(PointsEntry.community_id == community_id, PointsEntry.kind.in_(ledger.EARNING_KINDS),
                     PointsEntry.created_at >= start, PointsEntry.created_at < end)
              .group_by(PointsEntry.resident_id).subquery())
    rows = await session.execute(
        select(Resident.id, Resident.name, Building.name, Grid.id, Grid.name, earned.c.points,
               func.coalesce(PointsAccount.leaderboard_opt_out, False))
        .join(earned, earned.c.resident_id == Resident.id)
        .outerjoin(Building, Building.id == Resident.building_id)
        .outerjoin(Grid, Grid.id == Building.grid_id)
        .outerjoin(PointsAccount, PointsAccount.resident_id == Resident.id)
        .where(earned.c.points > 0)
        .order_by(earned.c.points.desc(), Resident.id))
    return Board([Standing(*row) for row in rows.all()])


async def set_opt_out(session: AsyncSession, *, community_id: int, resident_id: int, opted_out: bool,
                      now: datetime) -> None:
    await ledger.ensure_account(session, community_id=community_id, resident_id=resident_id, now=now)
    await session.execute(update(PointsAccount).where(PointsAccount.resident_id == resident_id)
                          .values(leaderboard_opt_out=opted_out, updated_at=now)
                          .execution_options(synchronize_session=False))


async def recipients(session: AsyncSession, community_id: int) -> list[tuple[Resident, int | None]]:
    """Subscribed residents who did not opt out, with their grid id (for the monthly message)."""
    rows = await session.execute(
        select(Resident, Building.grid_id)
        .outerjoin(Building, Building.id == Resident.building_id)
        .outerjoin(PointsAccount, PointsAccount.resident_id == Resident.id)
        .where(Resident.community_id == community_id, Resident.subscribed,
               PointsAccount.leaderboard_opt_out.is_not(True))
        .order_by(Resident.id))
    return list(rows.all())


async def grid_names(session: AsyncSession, community_id: int) -> dict[int, str]:
    rows = await session.execute(select(Grid.id, Grid.name).where(Grid.community_id == community_id))
    return dict(rows.all())

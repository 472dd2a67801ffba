"""Routing down the org chain (四级组织链): who takes a ticket and who hears of it.

Teams: the building's member households (党员中心户), the grid's worker (网格员), and three lists
of staff openids from config — community staff, the mediation team and the street (街道).
A member household looks after the building it lives in and any linked to it
(member_household_buildings); a grid worker works the grid it lives in and any linked
(grid_workers). A team with nobody in it hands over to the next one up: member household →
grid worker → staff; mediation and street → staff.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from storage.models import Building, Community, Resident
from storage.sql import upsert_insert
from storage.ticket_models import GridWorker, MemberHouseholdBuilding, Ticket

PERSON_TEAMS = {"member_household": "member_household", "grid_worker": "grid_worker"}  # team → resident role
FALLBACK = {"member_household": "grid_worker", "grid_worker": "staff", "mediation": "staff", "street": "staff",
            "staff": None}
NEXT_LEVEL_UP = {"member_household": "grid_worker", "grid_worker": "staff", "staff": "street",
                 "mediation": "street", "street": None, None: "staff"}


@dataclass(frozen=True)
class Recipient:
    """Someone a notice goes to; ``resident`` is None for a staff openid that never wrote to us."""

    openid: str
    team: str
    resident: Resident | None = None

    @property
    def resident_id(self) -> int | None:
        return self.resident.id if self.resident else None


@dataclass(frozen=True)
class Route:
    team: str | None  # None: nobody at all could take it (no staff configured either)
    assignee: Recipient | None  # a person for member-household / grid-worker tickets
    notify: list[Recipient]


async def route(session: AsyncSession, ticket: Ticket, settings: Settings) -> Route:
    """Apply the grade's rule from config; teams found empty fall back up the chain."""
    rule = settings.tickets.routing[ticket.grade]
    team, members = await members_or_fallback(session, ticket, rule.assign, settings)
    assignee = members[0] if team in PERSON_TEAMS and members else None
    notify = list(members)
    for wanted in rule.notify:
        notify += (await members_or_fallback(session, ticket, wanted, settings))[1]
    return Route(team if members else None, assignee, unique(notify))


async def members_or_fallback(session: AsyncSession, ticket: Ticket, team: str | None,
                              settings: Settings) -> tuple[str | None, list[Recipient]]:
    while team is not None:
        members = await team_members(session, ticket, team, settings)
        if members:
            return team, members
        team = FALLBACK[team]
    return None, []


async def team_members(session: AsyncSession, ticket: Ticket, team: str, settings: Settings) -> list[Recipient]:
    if team == "member_household":
        residents = await member_households(session, ticket.community_id, ticket.building_id)
    elif team == "grid_worker":
        residents = await grid_workers(session, ticket.community_id, ticket.grid_id)
    else:
        return await staff_team(session, ticket.community_id, team, settings)
    return [Recipient(r.openid, team, r) for r in residents]


async def member_households(session: AsyncSession, community_id: int, building_id: int | None) -> list[Resident]:
    if building_id is None:
        return []
    linked = select(MemberHouseholdBuilding.resident_id).where(MemberHouseholdBuilding.building_id == building_id)
    return await _with_role(session, community_id, "member_household",
                            or_(Resident.building_id == building_id, Resident.id.in_(linked)))


async def grid_workers(session: AsyncSession, community_id: int, grid_id: int | None) -> list[Resident]:
    if grid_id is None:
        return []
    lives_in = select(Building.id).where(Building.grid_id == grid_id)
    linked = select(GridWorker.resident_id).where(GridWorker.grid_id == grid_id)
    return await _with_role(session, community_id, "grid_worker",
                            or_(Resident.building_id.in_(lives_in), Resident.id.in_(linked)))


async def _with_role(session: AsyncSession, community_id: int, role: str, where) -> list[Resident]:
    """Roles are a JSON list; the candidates (one building's or grid's people) are few, so the
    role is checked here rather than with dialect-specific JSON operators. Someone who unfollowed
    the account can be sent nothing, so they take nothing either."""
    rows = await session.scalars(select(Resident).where(Resident.community_id == community_id, where,
                                                        Resident.subscribed.is_(True))
                                 .order_by(Resident.id))
    return [r for r in rows if role in (r.roles or [])]


async def staff_team(session: AsyncSession, community_id: int, team: str, settings: Settings) -> list[Recipient]:
    slug = await community_slug(session, community_id)
    teams = settings.tickets.teams.get(slug)
    openids = list(dict.fromkeys(getattr(teams, team))) if teams else []
    if not openids:
        return []
    known = {r.openid: r for r in await session.scalars(
        select(Resident).where(Resident.community_id == community_id, Resident.openid.in_(openids)))}
    return [Recipient(openid, team, known.get(openid)) for openid in openids]


async def community_slug(session: AsyncSession, community_id: int) -> str:
    community = await session.get(Community, community_id)
    if community is None:
        raise LookupError(f"community {community_id} does not exist")
    return community.slug


def unique(recipients: list[Recipient]) -> list[Recipient]:
    """One notice per person, even when they are in several teams (the first mention wins)."""
    seen: dict[str, Recipient] = {}
    for recipient in recipients:
        seen.setdefault(recipient.openid, recipient)
    return list(seen.values())


# ---- the links, for seeding and (later) the console ----------------------------------------

async def link_member_household(session: AsyncSession, *, community_id: int, resident_id: int,
                                building_id: int) -> None:
    """The member household also looks after this building (idempotent)."""
    await session.execute(upsert_insert(session, MemberHouseholdBuilding)
                          .values(community_id=community_id, resident_id=resident_id, building_id=building_id)
                          .on_conflict_do_nothing(index_elements=["resident_id", "building_id"]))


async def link_grid_worker(session: AsyncSession, *, community_id: int, resident_id: int, grid_id: int) -> None:
    """The grid worker also works this grid (idempotent)."""
    await session.execute(upsert_insert(session, GridWorker)
                          .values(community_id=community_id, resident_id=resident_id, grid_id=grid_id)
                          .on_conflict_do_nothing(index_elements=["resident_id", "grid_id"]))

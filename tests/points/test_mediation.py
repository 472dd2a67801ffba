"""Mediation points (调解, ``[points] per_mediation``): a yellow ticket — the community mediation
team's level — resolved through storage.tickets earns every resident on it points, once each,
however often it is resolved again after 重办; a blue ticket earns no mediation points."""

from __future__ import annotations

from sqlalchemy import select

from bot.texts import points as t
from storage.points_models import PointsEntry
from storage.tickets import Actor, transition
from tests.tickets.conftest import clock, file_ticket, join, settings, world  # noqa: F401  (fixtures)
from tests.tickets.test_lifecycle import put_in

MEDIATOR = Actor("staff", None, "孙律师")


async def _resolve(db, ticket_id: int, settings, clock, times: int = 1) -> None:
    for _ in range(times):
        version = await put_in(db, ticket_id, "assigned")
        async with db.sessions.begin() as session:
            await transition(session, ticket_id=ticket_id, to="resolved", actor=MEDIATOR, now=clock.advance(hours=1),
                             settings=settings, note="双方达成一致", expected_version=version)


async def _entries(db, resident_id: int) -> list[tuple[str, int, str]]:
    async with db.sessions() as session:
        rows = await session.scalars(select(PointsEntry).where(PointsEntry.resident_id == resident_id)
                                     .order_by(PointsEntry.id))
        return [(row.source_key, row.delta, row.reason) for row in rows]


async def test_a_resolved_mediation_rewards_each_participant_once(db, world, settings, clock):
    ticket = await file_ticket(db, world, settings, clock(), kind="complaint", category="neighbours", grade="yellow",
                               description="楼上天天半夜装修，沟通无果")
    assert await join(db, world, ticket.id, "neighbour")
    await _resolve(db, ticket.id, settings, clock, times=3)  # resolved, reopened (重办), resolved again …
    per = settings.points.per_mediation
    reason = t.REASON_MEDIATION.format(number=ticket.number)
    reporter, neighbour = world["reporter"].id, world["neighbour"].id
    assert (f"ticket:{ticket.id}:mediation:{reporter}", per, reason) in await _entries(db, reporter)
    assert await _entries(db, neighbour) == [(f"ticket:{ticket.id}:mediation:{neighbour}", per, reason)]
    assert [key for key, _, _ in await _entries(db, reporter)].count(f"ticket:{ticket.id}:mediation:{reporter}") == 1


async def test_a_blue_ticket_earns_no_mediation_points(db, world, settings, clock):
    ticket = await file_ticket(db, world, settings, clock())  # a lamp: blue, the member household's
    await _resolve(db, ticket.id, settings, clock)
    assert [key for key, _, _ in await _entries(db, world["reporter"].id)] == [f"ticket:{ticket.id}:verified"]

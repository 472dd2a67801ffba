"""回访: after 化解 each reporter rates once; 不满意 reopens (重办) and alerts staff."""

from __future__ import annotations

import pytest

from storage.models import Resident
from storage.ticket_models import Ticket
from storage.tickets import Actor, TicketError, awaiting_rating, rate, transition
from tests.tickets.conftest import STAFF, content, events_of, file_ticket, join, outbox_rows

MEMBER = Actor("member", None, "张建国")


async def resolved_ticket(db, world, settings, clock, *, joiners=()):
    ticket = await file_ticket(db, world, settings, clock())
    for name in joiners:
        await join(db, world, ticket.id, name)
    async with db.sessions.begin() as session:
        return await transition(session, ticket_id=ticket.id, to="resolved", actor=MEMBER,
                                now=clock.advance(hours=3), settings=settings, note="已更换灯泡")


async def rate_as(db, world, settings, clock, name: str, ticket_id: int, rating: str) -> Ticket:
    async with db.sessions.begin() as session:
        resident = await session.get(Resident, world[name].id)
        return await rate(session, ticket_id=ticket_id, resident=resident, rating=rating, now=clock(),
                          settings=settings)


async def waiting_for(db, world, name: str) -> Ticket | None:
    async with db.sessions() as session:
        return await awaiting_rating(session, community_id=world.community_id, resident_id=world[name].id)


async def test_satisfied_closes_the_ticket(db, world, settings, clock):
    ticket = await resolved_ticket(db, world, settings, clock)
    assert (await waiting_for(db, world, "reporter")).id == ticket.id
    rated = await rate_as(db, world, settings, clock, "reporter", ticket.id, "satisfied")
    assert (rated.status, rated.rating, rated.closed_at) == ("closed", "satisfied", clock())
    assert [(e.action, e.from_status, e.to_status) for e in (await events_of(db, ticket.id))[-3:]] == [
        ("rate", None, None), ("transition", "resolved", "feedback"), ("transition", "feedback", "closed")]
    assert await waiting_for(db, world, "reporter") is None
    assert len(await outbox_rows(db, "o_li")) == 1  # only the rating request: the rater is answered in chat


async def test_the_oldest_resolved_ticket_is_asked_first(db, world, settings, clock):
    first = await resolved_ticket(db, world, settings, clock)
    await resolved_ticket(db, world, settings, clock)
    assert (await waiting_for(db, world, "reporter")).id == first.id


async def test_with_joined_reporters_the_ticket_closes_when_all_have_answered(db, world, settings, clock):
    ticket = await resolved_ticket(db, world, settings, clock, joiners=["neighbour"])
    first = await rate_as(db, world, settings, clock, "reporter", ticket.id, "satisfied")
    assert first.status == "feedback"
    assert "已进入回访" in content((await outbox_rows(db, "o_zhao"))[-1])
    assert (await waiting_for(db, world, "neighbour")).id == ticket.id
    second = await rate_as(db, world, settings, clock, "neighbour", ticket.id, "basic")
    assert (second.status, second.rating) == ("closed", "basic")  # the ticket keeps the lower rating
    assert "已办结" in content((await outbox_rows(db, "o_li"))[-1])


async def test_unsatisfied_reopens_with_new_deadlines_and_alerts_staff(db, world, settings, clock):
    ticket = await resolved_ticket(db, world, settings, clock)
    clock.advance(days=1)
    reopened = await rate_as(db, world, settings, clock, "reporter", ticket.id, "unsatisfied")
    assert (reopened.status, reopened.rating, reopened.reopen_count) == ("reopened", "unsatisfied", 1)
    assert reopened.resolve_due_at > ticket.resolve_due_at
    assert reopened.resolved_at is None and reopened.feedback_requested_at is None
    last = (await events_of(db, ticket.id))[-1]
    assert (last.from_status, last.to_status, last.actor_kind) == ("resolved", "reopened", "resident")
    assert last.data["resolve_due_at"] == reopened.resolve_due_at.isoformat()
    for openid in ("o_zhang", *STAFF):  # the assignee and staff
        alert = content((await outbox_rows(db, openid))[-1])
        assert alert.startswith(f"【重办】居民对工单 {ticket.number}")
    assert await waiting_for(db, world, "reporter") is None

    async with db.sessions.begin() as session:  # redone and resolved again: asked again
        await transition(session, ticket_id=ticket.id, to="resolved", actor=MEMBER, now=clock(),
                         settings=settings, note="重新接了线")
    assert (await waiting_for(db, world, "reporter")).id == ticket.id


@pytest.mark.parametrize("name, rating, message", [
    ("neighbour", "satisfied", "不是工单"),  # not a reporter
    ("reporter", "great", "只能是"),
])
async def test_bad_ratings_are_refused(db, world, settings, clock, name, rating, message):
    ticket = await resolved_ticket(db, world, settings, clock)
    with pytest.raises(TicketError, match=message):
        await rate_as(db, world, settings, clock, name, ticket.id, rating)


async def test_rating_twice_or_before_resolution_is_refused(db, world, settings, clock):
    ticket = await resolved_ticket(db, world, settings, clock, joiners=["neighbour"])
    await rate_as(db, world, settings, clock, "reporter", ticket.id, "satisfied")
    with pytest.raises(TicketError, match="不需要评价"):
        await rate_as(db, world, settings, clock, "reporter", ticket.id, "unsatisfied")
    open_ticket = await file_ticket(db, world, settings, clock())
    with pytest.raises(TicketError, match="不需要评价"):
        await rate_as(db, world, settings, clock, "reporter", open_ticket.id, "satisfied")

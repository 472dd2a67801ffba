"""Stopping: an unsubscribe, a role taken away or a care household removed stops its reminders —
and the tickets in the person's hands go up the chain; handing a visit over and back, or a role
taken away and given back, brings the reminders back."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from bot.texts import members as t
from storage.member_models import CareHousehold
from storage.members import care, roles
from storage.models import Resident
from storage.ticket_models import MemberHouseholdBuilding, Ticket, TicketEvent
from tests.members.conftest import (STAFF, add_household, file_ticket, load, outbox_to, reminders_of, texts_of, tick,
                                    visits_of)


async def last_event(db, ticket_id: int) -> TicketEvent:
    async with db.sessions() as session:
        return await session.scalar(select(TicketEvent).where(TicketEvent.ticket_id == ticket_id)
                                    .order_by(TicketEvent.id.desc()).limit(1))


async def test_an_unsubscribed_member_household_gets_no_more_reminders(wechat, services, place, clock):
    await add_household(services, place, anchor=date(2026, 11, 24))
    await wechat.resident("o_member").event("unsubscribe")
    clock.set(2026, 11, 26, 9, 0)  # due, and the second reminder too
    await tick(services)
    assert await outbox_to(services.db, "o_member") == []
    statuses = {(r.kind, r.status) for r in await reminders_of(services.db, openid="o_member")}
    assert statuses == {("visit_due", "cancelled"), ("visit_again", "cancelled")}  # and no digest is made
    clock.set(2026, 11, 28, 9, 0)  # nobody visits: the grid worker and staff still hear of it
    await tick(services)
    assert len(await outbox_to(services.db, "o_grid", "member_alert")) == 1


async def test_taking_the_role_away_stops_reminders_and_leaves_the_household_to_reassign(services, place, clock):
    household = await add_household(services, place, anchor=date(2026, 11, 24))
    async with services.db.sessions.begin() as session:
        member = await session.get(Resident, place.people["o_member"])
        assert await roles.revoke(session, resident=member, role="member_household", now=clock()) == 2
    assert (await load(services.db, Resident, place.people["o_member"])).roles == []
    assert (await load(services.db, CareHousehold, household.id)).member_resident_id is None
    async with services.db.sessions() as session:
        assert await session.get(MemberHouseholdBuilding, 1) is None
    clock.set(2026, 11, 26, 9, 0)
    await tick(services)
    assert await outbox_to(services.db, "o_member") == []  # no visit reminders, no digest

    async with services.db.sessions.begin() as session:  # staff hand it to another member household
        other = await session.get(Resident, place.people["o_other"])
        await care.assign_member(session, await session.get(CareHousehold, household.id), other, now=clock(),
                                 settings=services.settings)
    await tick(services)
    reminded = [r.payload["content"] for r in await outbox_to(services.db, "o_other", "member_reminder")]
    assert len(reminded) == 1 and reminded[0].startswith("【走访再提醒】王奶奶（独居老人，5栋301）应于11月24日")


async def test_removing_a_care_household_stops_its_visits_and_reminders(services, place, clock):
    household = await add_household(services, place, anchor=date(2026, 11, 24))
    async with services.db.sessions.begin() as session:
        assert await care.remove_household(session, await session.get(CareHousehold, household.id), now=clock()) == 2
    clock.set(2026, 11, 28, 9, 0)
    await tick(services)
    for openid in ("o_member", "o_grid", STAFF):
        assert await outbox_to(services.db, openid) == []
    assert [v.status for v in await visits_of(services.db, household.id)] == ["cancelled"]


async def assign(services, place, household_id: int, openid: str) -> None:
    async with services.db.sessions.begin() as session:
        person = await session.get(Resident, place.people[openid])
        await care.assign_member(session, await session.get(CareHousehold, household_id), person,
                                 now=services.clock(), settings=services.settings)


async def test_a_visit_handed_to_another_member_and_back_reminds_the_first_again(services, place, clock):
    household = await add_household(services, place, anchor=date(2026, 11, 24))
    await assign(services, place, household.id, "o_other")
    await assign(services, place, household.id, "o_member")
    mine = {(r.kind, r.status) for r in await reminders_of(services.db, openid="o_member")}
    assert mine == {("visit_due", "pending"), ("visit_again", "pending")}
    assert {r.status for r in await reminders_of(services.db, openid="o_other")} == {"cancelled"}
    clock.set(2026, 11, 24, 9, 0)
    await tick(services)
    assert len(await outbox_to(services.db, "o_member", "member_reminder")) == 1
    assert await outbox_to(services.db, "o_other", "member_reminder") == []


async def test_a_role_taken_away_and_given_back_brings_the_reminders_back(services, place, clock):
    household = await add_household(services, place, anchor=date(2026, 11, 24))
    async with services.db.sessions.begin() as session:
        member = await session.get(Resident, place.people["o_member"])
        await roles.revoke(session, resident=member, role="member_household", now=clock(), settings=services.settings)
        await roles.grant(session, resident=member, role="member_household")
    await assign(services, place, household.id, "o_member")
    clock.set(2026, 11, 24, 9, 0)
    await tick(services)
    [reminder] = texts_of(await outbox_to(services.db, "o_member", "member_reminder"))
    assert reminder.startswith("【走访提醒】今天请走访王奶奶")


async def test_taking_the_role_away_hands_the_persons_tickets_to_the_grid_worker(services, place, clock):
    ticket = await file_ticket(services, place)
    async with services.db.sessions.begin() as session:
        member = await session.get(Resident, place.people["o_member"])
        await roles.revoke(session, resident=member, role="member_household", now=clock(), settings=services.settings)
    moved = await load(services.db, Ticket, ticket.id)
    assert (moved.assignee_team, moved.assignee_resident_id) == ("grid_worker", place.people["o_grid"])
    event = await last_event(services.db, ticket.id)
    assert (event.action, event.actor_kind, event.note) == ("assign", "system",
                                                            t.RELEASED_NOTE.format(role="党员中心户"))
    before = len(await outbox_to(services.db, "o_member"))
    clock.set(2026, 12, 10, 10, 0)  # long overdue: the 督办 goes to the grid worker, not the ex-member
    await tick(services)
    assert len(await outbox_to(services.db, "o_member")) == before
    assert any(text.startswith("【督办】") for text in texts_of(await outbox_to(services.db, "o_grid", "ticket_alert")))


async def test_a_role_removed_without_routing_settings_is_handed_up_by_the_next_tick(services, place, clock):
    """The console changes roles without the routing settings at hand: the tick is the safety net."""
    ticket = await file_ticket(services, place)
    async with services.db.sessions.begin() as session:
        member = await session.get(Resident, place.people["o_member"])
        await roles.revoke(session, resident=member, role="member_household", now=clock())
    assert (await load(services.db, Ticket, ticket.id)).assignee_resident_id == place.people["o_member"]
    await tick(services)
    assert (await load(services.db, Ticket, ticket.id)).assignee_resident_id == place.people["o_grid"]


async def test_an_unsubscribed_member_household_is_not_given_tickets(wechat, services, place, clock):
    held = await file_ticket(services, place)
    await wechat.resident("o_member").event("unsubscribe")
    ticket = await file_ticket(services, place, description="3栋门禁坏了", category="door_access")
    assert (ticket.assignee_team, ticket.assignee_resident_id) == ("grid_worker", place.people["o_grid"])
    await tick(services)  # and the one already in hand goes up too
    moved = await load(services.db, Ticket, held.id)
    assert moved.assignee_resident_id == place.people["o_grid"]
    assert (await last_event(services.db, held.id)).note == t.RELEASED_UNSUBSCRIBED_NOTE

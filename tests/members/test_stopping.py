"""Stopping: an unsubscribe, a role taken away or a care household removed stops its reminders."""

from __future__ import annotations

from datetime import date

from storage.member_models import CareHousehold
from storage.members import care, roles
from storage.models import Resident
from storage.ticket_models import MemberHouseholdBuilding
from tests.members.conftest import STAFF, add_household, load, outbox_to, reminders_of, tick, visits_of


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

"""Duplicates and joining, a resident's tickets, assigning, notes and attachments."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from storage.models import Resident
from storage.ticket_models import Ticket
from storage.tickets import (Actor, AttachmentDraft, IllegalTransition, TicketError, add_note, assign, attach,
                             find_duplicate, join_ticket, open_tickets_for, recent_tickets_for, ticket_by_number,
                             transition)
from tests.tickets.conftest import draft, events_of, file_ticket

STAFF = Actor("staff", None, "王主任")


async def duplicate_of(db, world, settings, now, **values):
    async with db.sessions() as session:
        reporter = await session.get(Resident, world["neighbour"].id)
        return await find_duplicate(session, community_id=world.community_id, draft=draft(world, **values), now=now,
                                    settings=settings, reporter=reporter)


async def test_same_building_and_category_within_72_hours_is_a_duplicate(db, world, settings, clock):
    ticket = await file_ticket(db, world, settings, clock())
    assert (await duplicate_of(db, world, settings, clock.advance(hours=71))).id == ticket.id
    assert await duplicate_of(db, world, settings, clock.advance(hours=2)) is None  # 73 h later


@pytest.mark.parametrize("values", [
    {"category": "elevator"},
    {"building_id": "2栋"},
    {"category": None},
])
async def test_a_different_problem_or_place_is_not_a_duplicate(db, world, settings, clock, values):
    await file_ticket(db, world, settings, clock())
    if values.get("building_id"):
        values["building_id"] = world.buildings[values["building_id"]]
    assert await duplicate_of(db, world, settings, clock(), **values) is None


async def test_a_resolved_ticket_is_not_a_duplicate(db, world, settings, clock):
    ticket = await file_ticket(db, world, settings, clock())
    async with db.sessions.begin() as session:
        await transition(session, ticket_id=ticket.id, to="resolved", actor=STAFF, now=clock(), settings=settings)
    assert await duplicate_of(db, world, settings, clock()) is None


async def test_outdoor_places_match_by_grid(db, world, settings, clock):
    outdoor = dict(building_id=None, outdoor=True, category="road", address="小区东门", description="东门路面塌了个坑")
    ticket = await file_ticket(db, world, settings, clock(), **outdoor)
    assert ticket.grid_id == world.grids["第一网格"]  # the reporter's grid
    found = await duplicate_of(db, world, settings, clock(), **{**outdoor, "address": "东门口"})
    assert found.id == ticket.id
    assert await duplicate_of(db, world, settings, clock(), **{**outdoor, "grid_id": world.grids["第二网格"]}) is None


async def test_joining_adds_a_reporter_once(db, world, settings, clock):
    ticket = await file_ticket(db, world, settings, clock())
    async with db.sessions.begin() as session:
        neighbour = await session.get(Resident, world["neighbour"].id)
        loaded = await session.get(Ticket, ticket.id)
        assert await join_ticket(session, ticket=loaded, resident=neighbour, now=clock()) is True
        assert await join_ticket(session, ticket=loaded, resident=neighbour, now=clock()) is False
        assert [r.resident_id for r in loaded.reporters] == [world["reporter"].id, neighbour.id]
    async with db.sessions() as session:
        mine = await open_tickets_for(session, community_id=world.community_id, resident_id=world["neighbour"].id)
    assert [t.id for t in mine] == [ticket.id]
    assert (await events_of(db, ticket.id))[-1].action == "join"


async def test_a_residents_tickets_newest_first_and_by_number(db, world, settings, clock):
    old = await file_ticket(db, world, settings, clock())
    new = await file_ticket(db, world, settings, clock.advance(days=2), category="elevator")
    async with db.sessions.begin() as session:
        await session.execute(update(Ticket).where(Ticket.id == old.id).values(status="closed"))
    async with db.sessions() as session:
        reporter = world["reporter"].id
        still_open = await open_tickets_for(session, community_id=world.community_id, resident_id=reporter)
        recent = await recent_tickets_for(session, community_id=world.community_id, resident_id=reporter,
                                          since=clock() - timedelta(days=7))
        later = await recent_tickets_for(session, community_id=world.community_id, resident_id=reporter,
                                         since=clock() - timedelta(days=1))
        found = await ticket_by_number(session, community_id=world.community_id, number=f" {old.number} ")
        missing = await ticket_by_number(session, community_id=world.community_id, number="20990101-0001")
    assert [t.id for t in still_open] == [new.id]
    assert [t.id for t in recent] == [new.id, old.id] and [t.id for t in later] == [new.id]
    assert found.id == old.id and missing is None


async def test_reassigning_keeps_the_status_and_tells_the_new_assignee(db, world, settings, clock):
    ticket = await file_ticket(db, world, settings, clock())
    async with db.sessions.begin() as session:
        changed = await assign(session, ticket_id=ticket.id, actor=STAFF, team="mediation", now=clock(),
                               settings=settings, note="涉及邻里矛盾，请调解", expected_version=ticket.version)
    assert (changed.status, changed.assignee_team, changed.assignee_resident_id) == ("assigned", "mediation", None)
    event = (await events_of(db, ticket.id))[-1]
    assert (event.action, event.from_status, event.to_status, event.data) == \
        ("assign", "assigned", "assigned", {"team": "mediation", "resident_id": None})


@pytest.mark.parametrize("kwargs, message", [
    ({}, "请指定承办人"),
    ({"team": "police"}, "没有“police”"),
    ({"assignee_resident_id": 9999}, "找不到这位承办人"),
])
async def test_bad_assignments_are_refused(db, world, settings, clock, kwargs, message):
    ticket = await file_ticket(db, world, settings, clock())
    with pytest.raises(TicketError, match=message):
        async with db.sessions.begin() as session:
            await assign(session, ticket_id=ticket.id, actor=STAFF, now=clock(), settings=settings, **kwargs)


async def test_a_closed_ticket_cannot_be_assigned(db, world, settings, clock):
    ticket = await file_ticket(db, world, settings, clock())
    async with db.sessions.begin() as session:
        await session.execute(update(Ticket).where(Ticket.id == ticket.id).values(status="closed"))
    with pytest.raises(IllegalTransition):
        async with db.sessions.begin() as session:
            await assign(session, ticket_id=ticket.id, actor=STAFF, team="staff", now=clock(), settings=settings)


async def test_a_handlers_note_is_the_first_response(db, world, settings, clock):
    ticket = await file_ticket(db, world, settings, clock())
    assert ticket.first_response_at is None  # automatic routing is no response
    async with db.sessions.begin() as session:
        await add_note(session, ticket_id=ticket.id, actor=Actor("resident", world["reporter"].id), note="补充：是声控灯",
                       now=clock.advance(minutes=5))
        await add_note(session, ticket_id=ticket.id, actor=Actor("member", world["member"].id, "张建国"),
                       note="已联系居民，下午去看", now=clock.advance(minutes=10))
    async with db.sessions() as session:
        assert (await session.get(Ticket, ticket.id)).first_response_at == clock()
    assert [e.note for e in (await events_of(db, ticket.id))[-2:]] == ["补充：是声控灯", "已联系居民，下午去看"]
    with pytest.raises(TicketError, match="备注不能为空"):
        async with db.sessions.begin() as session:
            await add_note(session, ticket_id=ticket.id, actor=STAFF, note="  ", now=clock())


async def test_attachments_are_kept_once(db, world, settings, clock):
    photo = AttachmentDraft("image", media_id="MEDIA_1", url="http://mmbiz.example/1.jpg")
    spot = AttachmentDraft("location", latitude=32.05, longitude=112.14, label="3栋东侧")
    ticket = await file_ticket(db, world, settings, clock(), attachments=[photo])
    async with db.sessions.begin() as session:
        for attachment in (photo, spot, spot):
            await attach(session, ticket_id=ticket.id, attachment=attachment, actor=Actor("resident"), now=clock())
    async with db.sessions() as session:
        loaded = await session.get(Ticket, ticket.id)
        assert [(a.kind, a.media_id, a.label) for a in loaded.attachments] == [
            ("image", "MEDIA_1", None), ("location", None, "3栋东侧")]
        assert (loaded.latitude, loaded.longitude) == (32.05, 112.14)
    with pytest.raises(TicketError, match="照片或位置"):
        async with db.sessions.begin() as session:
            await attach(session, ticket_id=ticket.id, attachment=AttachmentDraft("video"), actor=STAFF, now=clock())


@pytest.mark.parametrize("values, message", [
    ({"kind": "praise"}, "工单类型"),
    ({"grade": "orange"}, "工单等级"),
    ({"description": "  "}, "是什么问题"),
])
async def test_bad_drafts_are_refused(db, world, settings, clock, values, message):
    with pytest.raises(TicketError, match=message):
        await file_ticket(db, world, settings, clock(), **values)

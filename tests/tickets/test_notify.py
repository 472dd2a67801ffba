"""Reporters hear of every status change: a customer-service message inside the 48-hour window,
a template message outside it; joined reporters too; never twice; never after unsubscribing."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from storage.models import MessageLog, Resident
from storage.ticket_models import Ticket
from storage.tickets import Actor, transition
from storage.tickets import notify
from tests.tickets.conftest import content, events_of, file_ticket, join, outbox_rows, ticket_settings

MEMBER = Actor("member", None, "张建国")


async def last_wrote(db, resident_id: int, ago: timedelta, now) -> None:
    async with db.sessions.begin() as session:
        await session.execute(update(Resident).where(Resident.id == resident_id).values(last_inbound_at=now - ago))


async def resolve(db, ticket, settings, now, note: str | None = "已更换灯泡"):
    async with db.sessions.begin() as session:
        return await transition(session, ticket_id=ticket.id, to="resolved", actor=MEMBER, now=now,
                                settings=settings, note=note)


async def test_inside_the_window_a_customer_service_message(db, world, settings, clock):
    ticket = await file_ticket(db, world, settings, clock())
    await last_wrote(db, world["reporter"].id, timedelta(hours=47), clock.advance(hours=2))
    await resolve(db, ticket, settings, clock())
    [row] = await outbox_rows(db, "o_li")
    assert (row.kind, row.notice_kind) == ("text", "ticket_status")
    assert row.payload["content"] == (f"您的工单 {ticket.number}（报修·照明）已处理完成。处理情况：已更换灯泡\n"
                                      "请您评价：回复“满意”“基本满意”或“不满意”。")


async def test_outside_the_window_a_template_message(db, world, settings, clock):
    ticket = await file_ticket(db, world, settings, clock())
    await last_wrote(db, world["reporter"].id, timedelta(hours=49), clock.advance(hours=2))
    await resolve(db, ticket, settings, clock())
    [row] = await outbox_rows(db, "o_li")
    assert (row.kind, row.notice_kind, row.payload["template_id"]) == ("template", "ticket_status",
                                                                       "TPL_TICKET_STATUS")
    assert row.payload["data"]["keyword1"]["value"] == ticket.number
    assert row.payload["data"]["keyword2"]["value"] == "已化解"
    assert "满意" in row.payload["data"]["remark"]["value"]
    async with db.sessions() as session:
        logged = await session.scalar(select(MessageLog).where(MessageLog.outbox_id == row.id))
    assert (logged.direction, logged.delivery) == ("out", "template")


async def test_without_a_template_the_outbox_tries_customer_service(db_url, db, world, clock):
    settings = ticket_settings(db_url, templates=False)
    ticket = await file_ticket(db, world, settings, clock())
    await last_wrote(db, world["reporter"].id, timedelta(days=5), clock())
    await resolve(db, ticket, settings, clock())
    [row] = await outbox_rows(db, "o_li")
    assert row.kind == "text"  # the worker falls back (or records why it could not) on errcode 45015


async def test_every_joined_reporter_hears_of_every_change(db, world, settings, clock):
    ticket = await file_ticket(db, world, settings, clock())
    assert await join(db, world, ticket.id, "neighbour") is True
    async with db.sessions.begin() as session:
        await transition(session, ticket_id=ticket.id, to="supervised", actor=Actor("system"), now=clock(),
                         settings=settings)
    await resolve(db, ticket, settings, clock.advance(hours=1))
    for openid in ("o_li", "o_zhao"):
        texts = [content(r) for r in await outbox_rows(db, openid)]
        assert len(texts) == 2 and "督办" in texts[0] and "已处理完成" in texts[1]


async def test_a_notice_is_queued_once_per_event_and_person(db, world, settings, clock):
    ticket = await file_ticket(db, world, settings, clock())
    await resolve(db, ticket, settings, clock())
    event = (await events_of(db, ticket.id))[-1]
    async with db.sessions.begin() as session:  # the same work done again (a retry) queues nothing new
        again = await session.get(Ticket, ticket.id)
        assert await notify.status_changed(session, again, event, now=clock(), settings=settings) == 0
    assert len(await outbox_rows(db, "o_li")) == 1


async def test_unsubscribed_residents_get_nothing(db, world, settings, clock):
    ticket = await file_ticket(db, world, settings, clock())
    async with db.sessions.begin() as session:
        await session.execute(update(Resident).where(Resident.id == world["reporter"].id).values(subscribed=False))
    await resolve(db, ticket, settings, clock())
    assert await outbox_rows(db, "o_li") == []


async def test_assignment_tells_the_reporter_who_and_when(db, world, settings, clock):
    from storage.tickets import assign

    ticket = await file_ticket(db, world, settings, clock(), building_id=world.buildings["3栋"])
    async with db.sessions.begin() as session:
        await transition(session, ticket_id=ticket.id, to="supervised", actor=Actor("system"), now=clock(),
                         settings=settings)
    async with db.sessions.begin() as session:
        await assign(session, ticket_id=ticket.id, actor=Actor("staff", None, "王主任"),
                     assignee_resident_id=world["grid_worker"].id, now=clock(), settings=settings, note="请今天处理")
    last = content((await outbox_rows(db, "o_li"))[-1])
    assert last == f"您的工单 {ticket.number}（报修·照明）已交办给网格员处理，预计12月2日（周三）18:00前处理完。"
    task = content((await outbox_rows(db, "o_liu"))[-1])
    assert task.startswith(f"【工单交办】{ticket.number}") and task.endswith("请今天处理")

"""督办 on the reminder machinery: a blue ticket found overdue at 03:00 is told at 08:00 (the end
of quiet hours), once, and not at all if it was finished meanwhile; a red one goes out at once;
in the daytime nobody waits for the next tick."""

from __future__ import annotations

from sqlalchemy import select

from storage.member_models import Reminder
from storage.models import OutboxMessage, Resident
from storage.reminders import LOCAL
from storage.ticket_models import Ticket
from storage.tickets import Actor, TicketDraft, create_ticket, transition
from tests.members.conftest import STAFF, file_ticket, load, reminders_of, tick

PEOPLE = {"o_li": "ticket_status", "o_member": "ticket_alert", "o_grid": "ticket_alert", STAFF: "ticket_alert"}


async def supervision_rows(db) -> list[OutboxMessage]:
    async with db.sessions() as session:
        rows = await session.scalars(select(OutboxMessage).where(OutboxMessage.idempotency_key.like("rm:sup:%"))
                                     .order_by(OutboxMessage.id))
        return list(rows)


async def test_a_blue_ticket_overdue_at_night_is_told_when_quiet_hours_end(services, place, clock):
    ticket = await file_ticket(services, place)
    clock.set(2026, 12, 10, 3, 0)
    await tick(services)
    assert (await load(services.db, Ticket, ticket.id)).status == "supervised"
    assert await supervision_rows(services.db) == []
    held = await reminders_of(services.db, subject=f"ticket:{ticket.id}")
    assert {r.openid for r in held} == set(PEOPLE)
    assert {(r.status, r.due_at.astimezone(LOCAL).hour) for r in held} == {("pending", 8)}

    clock.set(2026, 12, 10, 8, 0)
    await tick(services)
    await tick(services)
    rows = await supervision_rows(services.db)
    assert sorted((r.openid, r.notice_kind) for r in rows) == sorted(PEOPLE.items())  # each once
    alert = next(r for r in rows if r.openid == "o_grid").payload["content"]
    assert alert.startswith(f"【督办】工单 {ticket.number}（报修·照明）已超期")
    status = next(r for r in rows if r.openid == "o_li").payload["content"]
    assert status == f"您的工单 {ticket.number}（报修·照明）处理超时，社区已督办，会尽快为您处理。"


async def test_a_ticket_finished_before_morning_is_not_told_about(services, place, clock):
    ticket = await file_ticket(services, place)
    clock.set(2026, 12, 10, 3, 0)
    await tick(services)
    async with services.db.sessions.begin() as session:
        await transition(session, ticket_id=ticket.id, to="resolved", actor=Actor("staff"),
                         now=clock.set(2026, 12, 10, 7, 0), settings=services.settings, note="已修好")
    clock.set(2026, 12, 10, 8, 0)
    await tick(services)
    assert await supervision_rows(services.db) == []
    assert {r.status for r in await reminders_of(services.db, subject=f"ticket:{ticket.id}")} == {"skipped"}


async def test_a_red_ticket_is_told_at_once_whatever_the_hour(services, place, clock):
    async with services.db.sessions.begin() as session:
        reporter = await session.get(Resident, place.people["o_li"])
        ticket = await create_ticket(session, community_id=place.community_id, reporter=reporter, now=clock(),
                                     draft=TicketDraft(kind="repair", category="gas", grade="red",
                                                       description="3栋楼道有煤气味",
                                                       building_id=place.buildings["3栋"]),
                                     settings=services.settings)
    clock.set(2026, 12, 10, 3, 0)
    before = {r.id for r in await all_outbox(services.db)}
    await tick(services)
    assert (await load(services.db, Ticket, ticket.id)).status == "supervised"
    now = [r for r in await all_outbox(services.db) if r.id not in before]
    alerts = [r for r in now if r.notice_kind == "ticket_alert" and "【督办】" in r.payload.get("content", "")]
    assert alerts and all(r.next_attempt_at == clock() for r in alerts)
    assert await reminders_of(services.db, subject=f"ticket:{ticket.id}") == []


async def test_in_the_daytime_the_notices_go_out_with_the_supervision_itself(services, place, clock):
    ticket = await file_ticket(services, place)
    clock.set(2026, 12, 10, 10, 0)
    await tick(services)
    rows = await supervision_rows(services.db)
    assert sorted((r.openid, r.notice_kind) for r in rows) == sorted(PEOPLE.items())
    assert {r.status for r in await reminders_of(services.db, subject=f"ticket:{ticket.id}")} == {"sent"}


async def all_outbox(db) -> list[OutboxMessage]:
    async with db.sessions() as session:
        return list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


async def test_supervision_reminders_are_keyed_per_ticket_event_and_person(services, place, clock):
    ticket = await file_ticket(services, place)
    clock.set(2026, 12, 10, 3, 0)
    await tick(services)
    async with services.db.sessions() as session:
        keys = set(await session.scalars(select(Reminder.idempotency_key)))
    assert {key.rsplit(":", 1)[1] for key in keys if key.startswith(f"sup:{ticket.id}:")} == set(PEOPLE)

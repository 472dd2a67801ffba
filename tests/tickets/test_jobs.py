"""The scheduler jobs: 督办 overdue tickets (once, telling the level above) and close tickets whose
reporters did not rate within three days (recorded as 未评价)."""

from __future__ import annotations

import logging
from datetime import datetime, timezone

import pytest

from bot import ticket_jobs
from bot.scheduler import build_scheduler
from bot.services import Services
from storage.models import Resident
from storage.ticket_models import Ticket
from storage.tickets import Actor, add_note, rate, transition
from tests.tickets.conftest import STAFF, STREET, content, events_of, file_ticket, join, outbox_rows, ticket_settings


@pytest.fixture
def services(db, settings, clock, world):
    woken = []
    services = Services(settings=settings, db=db, nlu=None, community_ids={"test": world.community_id},
                        clock=clock, wake_outbox=lambda: woken.append(clock()))
    services.extras["woken"] = woken
    return services


async def load(db, ticket_id: int) -> Ticket:
    async with db.sessions() as session:
        return await session.get(Ticket, ticket_id)


def test_the_feedback_job_runs_on_the_scheduler(services):
    """(督办 runs inside the reminders tick: bot/reminder_jobs.py calls supervise_overdue.)"""
    scheduler = build_scheduler(services, wake_outbox=lambda: None)
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert jobs["tickets-feedback"].func is ticket_jobs.expire_feedback
    assert jobs["tickets-feedback"].args == (services,)


def test_the_calendar_check_runs_at_start_up_and_every_morning(services, caplog):
    services.clock.now = datetime(2099, 11, 2, 1, 0, tzinfo=timezone.utc)
    with caplog.at_level(logging.ERROR, logger="linli.tickets"):
        scheduler = build_scheduler(services, wake_outbox=lambda: None)
    assert [r.getMessage() for r in caplog.records if "holiday calendar" in r.getMessage()][0].startswith(
        "the holiday calendar does not know 2099")
    assert scheduler.get_job("tickets-calendar").func is ticket_jobs.check_calendar_job


def test_the_calendar_check_is_quiet_when_next_year_is_known(db_url, db, clock, world):
    settings = ticket_settings(db_url, holidays=["2099-01-01", "2100-01-01"])
    services = Services(settings=settings, db=db, nlu=None, community_ids={"test": world.community_id}, clock=clock)
    clock.now = datetime(2099, 11, 2, 1, 0, tzinfo=timezone.utc)
    assert ticket_jobs.check_calendar(services) is None
    settings = ticket_settings(db_url, holidays=["2099-01-01"])
    services = Services(settings=settings, db=db, nlu=None, community_ids={"test": world.community_id}, clock=clock)
    assert ticket_jobs.check_calendar(services) == 2100


async def test_an_overdue_ticket_is_supervised_once_and_the_level_above_is_told(db, world, settings, clock,
                                                                                services):
    ticket = await file_ticket(db, world, settings, clock())  # blue: member household, grid worker above
    async with db.sessions.begin() as session:  # responded in time, so only the resolve deadline matters
        await add_note(session, ticket_id=ticket.id, actor=Actor("member", world["member"].id), note="已去看过",
                       now=clock.advance(hours=1))
    before = len(await outbox_rows(db))
    clock.now = ticket.resolve_due_at
    assert await ticket_jobs.supervise_overdue(services) == 0  # due, not yet overdue… then it is
    clock.advance(seconds=1)
    assert await ticket_jobs.supervise_overdue(services) == 1
    supervised = await load(db, ticket.id)
    assert (supervised.status, supervised.supervised_at) == ("supervised", clock())
    event = (await events_of(db, ticket.id))[-1]
    assert (event.from_status, event.to_status, event.actor_kind, event.data) == \
        ("assigned", "supervised", "system", {"overdue": "resolve"})
    assert services.extras["woken"] == [clock()]

    rows = (await outbox_rows(db))[before:]
    alerts = {r.openid: content(r) for r in rows if r.notice_kind == "ticket_alert"}
    assert sorted(alerts) == sorted(["o_zhang", "o_liu", *STAFF])  # assignee, grid worker, staff
    assert alerts["o_liu"].startswith(f"【督办】工单 {ticket.number}（报修·照明）已超期：应于12月2日（周三）18:00前处理完成")
    assert "当前状态：已交办，承办：党员中心户" in alerts["o_liu"]
    reporter_notice = [content(r) for r in rows if r.openid == "o_li"]
    assert reporter_notice == [f"您的工单 {ticket.number}（报修·照明）处理超时，社区已督办，会尽快为您处理。"]

    count = len(await outbox_rows(db))
    assert await ticket_jobs.supervise_overdue(services) == 0  # idempotent
    assert len(await outbox_rows(db)) == count


async def test_no_first_response_in_time_is_overdue_too(db, world, settings, clock, services):
    ticket = await file_ticket(db, world, settings, clock(), building_id=world.buildings["2栋"])  # grid worker
    clock.now = ticket.respond_due_at
    clock.advance(minutes=1)
    assert await ticket_jobs.supervise_overdue(services) == 1
    event = (await events_of(db, ticket.id))[-1]
    assert event.data == {"overdue": "respond"}
    alerted = sorted(r.openid for r in await outbox_rows(db) if r.notice_kind == "ticket_alert")
    assert alerted == sorted(["o_liu", *STAFF])  # staff are the level above a grid worker
    assert "前响应" in content(next(r for r in await outbox_rows(db, STAFF[0]) if r.notice_kind == "ticket_alert"))


async def test_a_staff_level_ticket_escalates_to_the_street(db, world, settings, clock, services):
    ticket = await file_ticket(db, world, settings, clock(), grade="yellow")  # mediation team
    overdue = ticket.resolve_due_at + (ticket.resolve_due_at - ticket.created_at)
    clock.now = _daytime(overdue)  # 督办 notices wait out quiet hours (22:00-08:00)
    await ticket_jobs.supervise_overdue(services)
    alerted = {r.openid for r in await outbox_rows(db) if r.notice_kind == "ticket_alert"}
    assert set(STREET) <= alerted and set(STAFF) <= alerted


def _daytime(moment):
    """The same moment, or the next 10:00 in Shanghai if it falls outside 08:00-22:00."""
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    local = moment.astimezone(ZoneInfo("Asia/Shanghai"))
    if 8 <= local.hour < 22:
        return moment
    day = local.date() + timedelta(days=1 if local.hour >= 22 else 0)
    return local.replace(year=day.year, month=day.month, day=day.day, hour=10, minute=0, second=0,
                         microsecond=0).astimezone(moment.tzinfo)


async def test_tickets_on_time_or_done_are_left_alone(db, world, settings, clock, services):
    ticket = await file_ticket(db, world, settings, clock())
    async with db.sessions.begin() as session:
        await transition(session, ticket_id=ticket.id, to="resolved", actor=Actor("member"), now=clock(),
                         settings=settings)
    await file_ticket(db, world, settings, clock())
    clock.advance(hours=23)
    assert await ticket_jobs.supervise_overdue(services) == 0
    clock.advance(days=30)
    assert await ticket_jobs.supervise_overdue(services) == 1  # the open one only
    assert (await load(db, ticket.id)).status != "supervised"


async def test_no_rating_within_three_days_is_recorded_and_closes(db, world, settings, clock, services):
    ticket = await file_ticket(db, world, settings, clock())
    async with db.sessions.begin() as session:
        await transition(session, ticket_id=ticket.id, to="resolved", actor=Actor("member"), now=clock(),
                         settings=settings, note="已修好")
    clock.advance(days=3, seconds=-1)
    assert await ticket_jobs.expire_feedback(services) == 0
    clock.advance(seconds=1)
    assert await ticket_jobs.expire_feedback(services) == 1
    closed = await load(db, ticket.id)
    assert (closed.status, closed.rating, closed.closed_at) == ("closed", "none", clock())
    events = await events_of(db, ticket.id)
    assert [(e.action, e.to_status) for e in events[-3:]] == [
        ("no_feedback", None), ("transition", "feedback"), ("transition", "closed")]
    assert events[-3].data == {"residents": [world["reporter"].id]}
    assert "已办结" in content((await outbox_rows(db, "o_li"))[-1])
    assert await ticket_jobs.expire_feedback(services) == 0  # idempotent


async def test_a_partly_rated_ticket_closes_at_the_timeout(db, world, settings, clock, services):
    ticket = await file_ticket(db, world, settings, clock())
    await join(db, world, ticket.id, "neighbour")
    async with db.sessions.begin() as session:
        await transition(session, ticket_id=ticket.id, to="resolved", actor=Actor("member"), now=clock(),
                         settings=settings)
    async with db.sessions.begin() as session:
        await rate(session, ticket_id=ticket.id, resident=await session.get(Resident, world["reporter"].id),
                   rating="basic", now=clock(), settings=settings)
    clock.advance(days=4)
    assert await ticket_jobs.expire_feedback(services) == 1
    closed = await load(db, ticket.id)
    assert (closed.status, closed.rating) == ("closed", "basic")
    assert (await events_of(db, ticket.id))[-2].data == {"residents": [world["neighbour"].id]}

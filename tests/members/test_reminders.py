"""The reminder machinery on the real job code and a clock the test moves: quiet hours, catch-up
after downtime, expiry, a scheduler that died holding a claim, a reminder that cannot be prepared,
and the choice between a customer-service text and a template."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from bot import reminder_jobs
from bot.config import validate
from storage import reminders
from storage.member_models import Reminder
from storage.models import OutboxMessage, Resident
from storage.reminders import LOCAL, Due, QuietHours
from tests.members.conftest import outbox_to, reminders_of

QUIET = QuietHours.parse("22:00", "08:00")


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=LOCAL)


async def schedule(jobs, *items: Due) -> int:
    async with jobs.db.sessions.begin() as session:
        return await reminders.schedule(session, items, now=jobs.clock())


def due(jobs, key: str, at: datetime, openid: str = "o_x", **kw) -> Due:
    return Due(jobs.community_ids["test"], "note", "test", "test", openid, at, key=key,
               payload={"title": "提醒", "content": f"内容 {key}", "notice_kind": "member_reminder"}, **kw)


async def send(jobs) -> int:
    return await reminder_jobs.send_due(jobs)


def test_quiet_hours_hold_a_time_to_their_end():
    assert QUIET.release(local(2026, 11, 23, 23, 0)) == local(2026, 11, 24, 8, 0)
    assert QUIET.release(local(2026, 11, 24, 3, 0)) == local(2026, 11, 24, 8, 0)
    assert QUIET.release(local(2026, 11, 24, 8, 0)) == local(2026, 11, 24, 8, 0)
    assert QUIET.release(local(2026, 11, 24, 21, 59)) == local(2026, 11, 24, 21, 59)
    afternoon = QuietHours.parse("12:00", "14:00")  # a window that does not wrap midnight
    assert afternoon.release(local(2026, 11, 24, 13, 0)) == local(2026, 11, 24, 14, 0)
    assert QuietHours.parse("22:00", "22:00") is None


async def test_a_reminder_due_in_quiet_hours_waits_for_the_morning(jobs, clock):
    clock.set(2026, 11, 23, 21, 0)
    await schedule(jobs, due(jobs, "late", local(2026, 11, 23, 23, 0), quiet=QUIET))
    [row] = await reminders_of(jobs.db)
    assert row.due_at == local(2026, 11, 24, 8, 0)
    clock.set(2026, 11, 23, 23, 30)
    assert await send(jobs) == 0
    clock.set(2026, 11, 24, 8, 0)
    assert await send(jobs) == 1
    assert await send(jobs) == 0


async def test_downtime_is_caught_up_once_and_not_in_the_night(jobs, clock):
    clock.set(2026, 11, 23, 9, 0)
    await schedule(jobs, *(due(jobs, f"r{hour}", local(2026, 11, 23, hour, 0), quiet=QUIET) for hour in (10, 14, 21)),
                   due(jobs, "tomorrow", local(2026, 11, 24, 10, 0), quiet=QUIET))
    clock.set(2026, 11, 23, 23, 30)  # the scheduler was down from 9:00 until the middle of the night
    assert await send(jobs) == 0
    held = [r for r in await reminders_of(jobs.db) if r.status == "pending"]
    assert [r.due_at for r in held][:3] == [local(2026, 11, 24, 8, 0)] * 3
    clock.set(2026, 11, 24, 8, 0)
    assert await send(jobs) == 3
    clock.set(2026, 11, 24, 10, 0)
    assert await send(jobs) == 1
    assert await send(jobs) == 0
    async with jobs.db.sessions() as session:
        keys = list(await session.scalars(select(OutboxMessage.idempotency_key).order_by(OutboxMessage.id)))
    assert keys == ["rm:r10", "rm:r14", "rm:r21", "rm:tomorrow"]


async def test_scheduling_twice_is_a_no_op(jobs, clock):
    assert await schedule(jobs, due(jobs, "once", clock())) == 1
    assert await schedule(jobs, due(jobs, "once", clock() - timedelta(hours=1))) == 0
    assert await send(jobs) == 1
    assert await schedule(jobs, due(jobs, "once", clock())) == 0
    assert await send(jobs) == 0


async def test_an_expired_reminder_is_not_sent(jobs, clock):
    await schedule(jobs, due(jobs, "digest", clock(), expires_at=clock() + timedelta(hours=12)))
    clock.advance(hours=13)
    assert await send(jobs) == 0
    assert [r.status for r in await reminders_of(jobs.db)] == ["expired"]


async def test_a_claim_whose_scheduler_died_is_sent_after_its_lease(jobs, clock):
    await schedule(jobs, due(jobs, "orphan", clock()))
    lease = timedelta(seconds=jobs.settings.reminders.claim_lease_seconds)
    async with jobs.db.sessions.begin() as session:  # claimed, then the process died
        [claimed] = await reminders.claim_due(session, now=clock(), lease_until=clock() + lease, limit=10)
    assert await send(jobs) == 0  # still leased
    clock.advance(seconds=lease.total_seconds() + 1)
    assert await send(jobs) == 1
    async with jobs.db.sessions.begin() as session:  # the dead claim's late settle changes nothing
        outcomes = reminders.Outcomes(send={claimed.id: reminders.Message("text", {"content": "x"}, "reply", "x")})
        assert await reminders.settle(session, [claimed], outcomes, now=clock()) == []
    assert len(await outbox_to(jobs.db, "o_x")) == 1
    [row] = await reminders_of(jobs.db)
    assert (row.status, row.attempts) == ("sent", 1)


async def test_a_reminder_that_cannot_be_prepared_is_retried_then_failed(jobs, clock, monkeypatch):
    async def broken(session, claimed, resident, now, settings):
        raise RuntimeError("renderer broke")

    monkeypatch.setitem(reminder_jobs.RENDERERS, "broken", broken)
    await schedule(jobs, due(jobs, "fine", clock()), Due(jobs.community_ids["test"], "broken", "test", "test", "o_y",
                                                        clock(), key="bad", payload={}))
    assert await send(jobs) == 1  # the good one goes out despite its bad neighbour
    for _ in range(jobs.settings.reminders.max_attempts - 1):
        [bad] = await reminders_of(jobs.db, idempotency_key="bad")
        assert bad.status == "pending" and "renderer broke" in bad.last_error
        clock.now = bad.due_at
        await send(jobs)
    [bad] = await reminders_of(jobs.db, idempotency_key="bad")
    assert (bad.status, bad.attempts) == ("failed", jobs.settings.reminders.max_attempts)
    assert await outbox_to(jobs.db, "o_y") == []


@pytest.fixture
def template_settings(db_url, fake_wechat):
    from tests.members.conftest import member_settings

    data = member_settings(db_url, fake_wechat.base_url).model_dump()
    data["accounts"][0]["templates"]["member_reminder"] = {"template_id": "TPL_VISIT",
                                                           "fields": {"first": "title", "remark": "content"}}
    return validate(data)


async def test_outside_the_48_hour_window_the_accounts_template_is_used(jobs, clock, template_settings):
    jobs.settings = template_settings
    async with jobs.db.sessions.begin() as session:
        for openid, wrote in (("o_recent", clock() - timedelta(hours=47)), ("o_quiet", clock() - timedelta(hours=49))):
            session.add(Resident(community_id=jobs.community_ids["test"], openid=openid, roles=[], subscribed=True,
                                 last_inbound_at=wrote))
        await session.flush()
        ids = dict((await session.execute(select(Resident.openid, Resident.id))).all())
    await schedule(jobs, *(due(jobs, openid, clock(), openid=openid, resident_id=ids[openid]) for openid in ids))
    assert await send(jobs) == 2
    [recent], [quiet] = await outbox_to(jobs.db, "o_recent"), await outbox_to(jobs.db, "o_quiet")
    assert (recent.kind, recent.payload["content"]) == ("text", "内容 o_recent")
    assert (quiet.kind, quiet.payload["template_id"]) == ("template", "TPL_VISIT")
    assert quiet.payload["data"]["remark"] == {"value": "内容 o_quiet"}


async def test_finished_reminders_are_purged_after_the_retention(jobs, clock):
    await schedule(jobs, due(jobs, "old", clock()), due(jobs, "later", clock() + timedelta(days=100)))
    await send(jobs)
    clock.advance(days=jobs.settings.reminders.retention_days + 1)
    assert await reminder_jobs.purge_finished(jobs) == 1
    async with jobs.db.sessions() as session:
        assert list(await session.scalars(select(Reminder.idempotency_key))) == ["later"]

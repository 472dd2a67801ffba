"""The daily digest at 08:00: every member household and grid worker with something open gets one
message listing it, written when it goes out; people with nothing open get none; and a digest is
never written while another scheduler's escalation is still uncommitted."""

from __future__ import annotations

import asyncio
from datetime import date

from bot import reminder_jobs
from tests.members.conftest import add_household, file_ticket, outbox_to, reminders_of, texts_of, tick


async def test_the_digest_lists_open_tasks_and_due_visits_once_a_day(services, place, clock):
    ticket = await file_ticket(services, place)
    await add_household(services, place, anchor=date(2026, 11, 24))
    clock.set(2026, 11, 24, 7, 59)
    await tick(services)
    assert await outbox_to(services.db, "o_member", "member_digest") == []
    clock.set(2026, 11, 24, 8, 0)
    await tick(services)
    [digest] = texts_of(await outbox_to(services.db, "o_member", "member_digest"))
    assert digest.startswith("【每日待办】张建国您好，今天是11月24日（周二）。\n工单 1 件：\n")
    assert f"1. {ticket.number} 报修·照明｜3栋｜已交办" in digest
    assert "走访 1 户：\n1. 王奶奶（独居老人）5栋301｜应于11月24日（周二）走访" in digest
    await tick(services)
    clock.set(2026, 11, 24, 20, 0)
    await tick(services)
    assert len(await outbox_to(services.db, "o_member", "member_digest")) == 1
    for idle in ("o_other", "o_grid"):  # nothing open: nothing sent
        assert await outbox_to(services.db, idle, "member_digest") == []


async def test_a_digest_missed_all_day_is_not_sent_the_next_night(services, place, clock):
    await file_ticket(services, place)
    clock.set(2026, 11, 24, 8, 0)
    assert await reminder_jobs.schedule_digests(services) == 3  # the three role holders
    clock.set(2026, 11, 25, 0, 30)  # the scheduler was down from 08:00 until after midnight
    await reminder_jobs.send_due(services)
    assert await outbox_to(services.db, "o_member", "member_digest") == []
    assert {r.status for r in await reminders_of(services.db, kind="digest")} == {"expired"}


async def test_the_grid_worker_digest_lists_missed_visits(services, place, clock):
    await add_household(services, place, anchor=date(2026, 11, 24))
    clock.set(2026, 11, 28, 9, 0)
    await tick(services)  # escalated: missed
    clock.set(2026, 11, 29, 8, 0)
    await tick(services)
    digests = texts_of(await outbox_to(services.db, "o_grid", "member_digest"))
    assert [d.split("\n")[:2] for d in digests] == [
        ["【每日待办】刘芳您好，今天是11月28日（周六）。", "辖区逾期未走访 1 户："],
        ["【每日待办】刘芳您好，今天是11月29日（周日）。", "辖区逾期未走访 1 户："]]
    assert "辖区逾期未走访 1 户：\n1. 王奶奶（独居老人）5栋301｜应于11月24日（周二）走访｜负责：张建国" in digests[-1]


async def blocked_on_a_lock(db, task: asyncio.Task) -> bool:
    """Whether some connection comes to wait for a row lock before ``task`` finishes."""
    from sqlalchemy import text

    while not task.done():
        async with db.sessions() as session:
            waiting = await session.scalar(text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                                                "AND datname = current_database()"))
        if waiting:
            return True
        await asyncio.sleep(0.05)
    return False


async def test_a_digest_waits_for_an_escalation_another_scheduler_has_not_committed(pg_url, clock):
    """Scheduler A is escalating a missed visit (its transaction still open) when scheduler B
    ticks: B waits for it, so the grid worker's digest lists the visit instead of being skipped
    as "nothing to say" — the same outcome as with one scheduler."""
    from bot.services import Services
    from storage import communities
    from storage.db import Database
    from storage.members import visits
    from tests.members.conftest import build_place, member_settings

    settings = member_settings(pg_url)
    dbs = [Database(pg_url) for _ in range(2)]
    try:
        async with dbs[0].sessions.begin() as session:
            ids = await communities.ensure(session, [("test", "测试社区")])
        place = await build_place(dbs[0], ids["test"])
        a, b = (Services(settings=settings, db=db, nlu=None, community_ids=ids, clock=clock) for db in dbs)
        await add_household(a, place, anchor=date(2026, 11, 24))
        clock.set(2026, 11, 28, 9, 0)  # past the escalation time, and the digest time
        async with dbs[0].sessions.begin() as escalating:
            assert await visits.escalate_overdue(escalating, community_ids=[ids["test"]], now=clock(),
                                                 settings=settings) == 1
            b_tick = asyncio.create_task(reminder_jobs.tick(b))  # B's tick runs meanwhile
            assert await blocked_on_a_lock(dbs[0], b_tick)  # it waits for A (it did not run on)
        await asyncio.wait_for(b_tick, 30)
        [digest] = texts_of(await outbox_to(b.db, "o_grid", "member_digest"))
        assert "辖区逾期未走访 1 户" in digest
        assert len(await outbox_to(b.db, "o_grid", "member_alert")) == 1  # escalated once, by A
    finally:
        for db in dbs:
            await db.dispose()

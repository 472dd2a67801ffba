"""Periodic jobs on APScheduler: outbox retries, housekeeping, ticket deadlines and feedback, reminders.

Every job works on rows in the database, claimed atomically, so a second scheduler process is
harmless and a restart only delays the work.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from datetime import timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot import intake_jobs, points_jobs, reminder_jobs, ticket_jobs
from bot.console import jobs as console_jobs
from bot.config import Settings
from bot.observability import scheduler_lag
from bot.services import Services
from storage import communities, dedup
from storage.db import Database

log = logging.getLogger("linli.scheduler")


def build_scheduler(services: Services, *, wake_outbox) -> AsyncIOScheduler:
    scheduler = AsyncIOScheduler(timezone="Asia/Shanghai")
    settings = services.settings
    scheduler.add_job(wake_outbox, "interval", seconds=settings.outbox.poll_interval_seconds,
                      id="outbox-tick", max_instances=1, coalesce=True)
    scheduler.add_job(purge_dedup_keys, "interval", minutes=30, args=[services], id="dedup-purge",
                      max_instances=1, coalesce=True)
    # 督办 (ticket_jobs.supervise_overdue), visits, digests and due reminders: bot/reminder_jobs.py
    scheduler.add_job(reminder_jobs.tick, "interval", seconds=settings.reminders.interval_seconds,
                      args=[services], id="reminders", max_instances=1, coalesce=True)
    scheduler.add_job(ticket_jobs.expire_feedback, "interval", minutes=settings.tickets.check_interval_minutes,
                      args=[services], id="tickets-feedback", max_instances=1, coalesce=True)
    ticket_jobs.check_calendar(services)  # at start-up, and every morning: the holiday calendar's end
    scheduler.add_job(ticket_jobs.check_calendar_job, "cron", hour=8, minute=3, args=[services],
                      id="tickets-calendar", max_instances=1, coalesce=True)
    scheduler.add_job(intake_jobs.notify_expired_intakes, "interval", seconds=settings.intake.timeout_check_seconds,
                      args=[services], id="intake-timeouts", max_instances=1, coalesce=True)
    scheduler.add_job(points_jobs.send_activity_reminders, "interval", minutes=settings.points.reminder_interval_minutes,
                      args=[services], id="activity-reminders", max_instances=1, coalesce=True)
    scheduler.add_job(points_jobs.send_monthly_leaderboard, "cron", day=1, hour=f"{settings.points.leaderboard_hour}-23",
                      minute=7, args=[services], id="points-leaderboard", max_instances=1, coalesce=True)
    scheduler.add_job(console_jobs.purge_sessions, "interval", minutes=30, args=[services], id="console-sessions",
                      max_instances=1, coalesce=True)
    services.extras["scheduler"] = scheduler  # for a look from outside (tests: `linli serve` runs the jobs)
    scheduler_lag.watch(scheduler)  # linli_scheduler_lag_seconds and linli_scheduler_runs_total
    return scheduler


async def purge_dedup_keys(services: Services) -> int:
    """Keys older than WeChat's retry horizon (plus a wide margin) are no longer needed."""
    cutoff = services.clock() - timedelta(hours=services.settings.dedup.retention_hours)
    async with services.db.sessions.begin() as session:
        removed = await dedup.purge(session, older_than=cutoff)
    if removed:
        log.info("purged %d processed-message keys", removed)
    return removed


async def run_standalone(settings: Settings, *, stop: asyncio.Event | None = None) -> None:
    """`linli scheduler`: the jobs in a process of their own, without the message server (run
    `linli serve --no-scheduler` beside it, or as many of both as you like: the jobs are safe to
    run twice). Messages it queues are sent by the servers' outbox workers. Runs until SIGINT /
    SIGTERM (or ``stop`` is set)."""
    db = Database(settings.database.url, echo=settings.database.echo, pool_size=settings.database.pool_size)
    async with db.sessions.begin() as session:
        ids = await communities.ensure(session, [(c.slug, c.name) for c in settings.communities])
    services = Services(settings=settings, db=db, nlu=None, community_ids=ids)
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    scheduler = build_scheduler(services, wake_outbox=lambda: None)
    scheduler.start()
    log.info("scheduler running (%d jobs); Ctrl-C stops it", len(scheduler.get_jobs()))
    try:
        await stop.wait()
    finally:
        scheduler.shutdown(wait=False)
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        await db.dispose()

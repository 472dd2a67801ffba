"""The points jobs are on the scheduler: activity reminders every few minutes, and the monthly
leaderboard on the 1st from [points] leaderboard_hour (hourly until midnight, to catch up after
downtime; the job itself sends each board once)."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot import points_jobs
from bot.scheduler import build_scheduler
from bot.texts.points import LOCAL


def _jobs(services) -> dict:
    return {job.id: job for job in build_scheduler(services, wake_outbox=lambda: None).get_jobs()}


def _fires(trigger, start: datetime, count: int) -> list[datetime]:
    times, previous, now = [], None, start
    for _ in range(count):
        previous = trigger.get_next_fire_time(previous, now)
        times.append(previous)
        now = previous + timedelta(seconds=1)
    return times


async def test_activity_reminders_run_every_few_minutes(services):
    job = _jobs(services)["activity-reminders"]
    assert job.func is points_jobs.send_activity_reminders and list(job.args) == [services]
    minutes = services.settings.points.reminder_interval_minutes
    assert job.trigger.interval == timedelta(minutes=minutes)
    assert (job.max_instances, job.coalesce) == (1, True)


async def test_the_monthly_leaderboard_runs_on_the_first_from_its_hour(services):
    job = _jobs(services)["points-leaderboard"]
    assert job.func is points_jobs.send_monthly_leaderboard and list(job.args) == [services]
    hour = services.settings.points.leaderboard_hour
    fires = _fires(job.trigger, datetime(2026, 11, 30, 12, 0, tzinfo=LOCAL), 24 - hour + 1)
    first_day = [datetime(2026, 12, 1, h, 7, tzinfo=LOCAL) for h in range(hour, 24)]
    assert fires == first_day + [datetime(2027, 1, 1, hour, 7, tzinfo=LOCAL)]

"""Scheduler lag: after a periodic job runs, /metrics says how late it started."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

import pytest

from bot import keys
from bot.observability.scheduler_lag import lag_seconds
from tests.observability.conftest import scrape


async def test_the_lag_of_a_job_that_started_late_appears_after_it_runs(app_client):
    scheduler = app_client.app[keys.SERVICES].extras["scheduler"]
    before = await scrape(app_client)
    runs = _runs(before, "dedup-purge")
    late_by = timedelta(seconds=0.5)  # inside APScheduler's 1 s misfire grace, so the job still runs
    scheduler.get_job("dedup-purge").modify(next_run_time=datetime.now(timezone.utc) - late_by)
    scheduler.wakeup()
    for _ in range(250):
        after = await scrape(app_client)
        if _runs(after, "dedup-purge") > runs and after.find("linli_scheduler_lag_seconds", job="outbox-tick"):
            break  # outbox-tick runs every 0.2 s in the tests' settings
        await asyncio.sleep(0.02)
    else:
        pytest.fail("dedup-purge or outbox-tick never ran")
    assert after.value("linli_scheduler_lag_seconds", job="dedup-purge") >= late_by.total_seconds()


def test_lag_is_counted_from_the_earliest_scheduled_time():
    now = datetime(2026, 11, 23, 10, 0, 5, tzinfo=timezone.utc)
    due = [now - timedelta(seconds=5), now - timedelta(seconds=2)]
    assert lag_seconds(due, now) == 5.0
    assert lag_seconds([now + timedelta(seconds=1)], now) == 0.0  # a clock step never gives a negative lag
    assert lag_seconds([], now) == 0.0


def _runs(scraped, job: str) -> float:
    return sum(scraped.value("linli_scheduler_runs_total", job=job, result=r) for r in ("ok", "error", "missed"))

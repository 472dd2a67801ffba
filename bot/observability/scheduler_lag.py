"""Scheduler lag: how late each periodic job started compared with when it was due.

Measured on EVENT_JOB_SUBMITTED, not EVENT_JOB_EXECUTED: the submission is the moment the job
starts (the asyncio executor starts its task at once), while "executed" comes after the job's
own run time, which is not lag. A blocked event loop or an overloaded process shows here first.
A run so late that APScheduler skips it (misfire_grace_time) still sets the lag, and also
counts as result="missed"; a run skipped because the previous one is still going counts as
"skipped".
"""

from __future__ import annotations

from datetime import datetime, timezone

from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MAX_INSTANCES,
    EVENT_JOB_MISSED,
    EVENT_JOB_SUBMITTED,
)

from bot.observability.metrics import SCHEDULER_LAG, SCHEDULER_RUNS

_RESULTS = {EVENT_JOB_EXECUTED: "ok", EVENT_JOB_ERROR: "error", EVENT_JOB_MISSED: "missed",
            EVENT_JOB_MAX_INSTANCES: "skipped"}


def watch(scheduler) -> None:
    """Attach to an APScheduler 3 scheduler (before or after it starts)."""
    scheduler.add_listener(_on_event, EVENT_JOB_SUBMITTED | EVENT_JOB_MAX_INSTANCES | EVENT_JOB_EXECUTED
                           | EVENT_JOB_ERROR | EVENT_JOB_MISSED)


def _on_event(event) -> None:
    if event.code in (EVENT_JOB_SUBMITTED, EVENT_JOB_MAX_INSTANCES):
        SCHEDULER_LAG.labels(event.job_id).set(lag_seconds(event.scheduled_run_times, datetime.now(timezone.utc)))
    result = _RESULTS.get(event.code)
    if result is not None:
        SCHEDULER_RUNS.labels(event.job_id, result).inc()


def lag_seconds(scheduled: list[datetime], now: datetime) -> float:
    """From the earliest time this submission stands for (coalesced runs submit only the last)."""
    return max((now - min(scheduled)).total_seconds(), 0.0) if scheduled else 0.0

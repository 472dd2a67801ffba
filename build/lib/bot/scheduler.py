"""Periodic jobs on APScheduler: outbox retries and housekeeping.

Every job works on rows in the database, claimed atomically, so a second scheduler process is
harmless and a restart only delays the work.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.services import Services
from storage import dedup

log = logging.getLogger("linli.scheduler")


def build_scheduler(services: Services, *, wake_outbox) -> AsyncIOScheduler:
    scheduler = AsyncIOScheduler(timezone="Asia/Shanghai")
    settings = services.settings
    scheduler.add_job(wake_outbox, "interval", seconds=settings.outbox.poll_interval_seconds,
                      id="outbox-tick", max_instances=1, coalesce=True)
    scheduler.add_job(purge_dedup_keys, "interval", minutes=30, args=[services], id="dedup-purge",
                      max_instances=1, coalesce=True)
    return scheduler


async def purge_dedup_keys(services: Services) -> int:
    """Keys older than WeChat's retry horizon (plus a wide margin) are no longer needed."""
    cutoff = services.clock() - timedelta(hours=services.settings.dedup.retention_hours)
    async with services.db.sessions.begin() as session:
        removed = await dedup.purge(session, older_than=cutoff)
    if removed:
        log.info("purged %d processed-message keys", removed)
    return removed

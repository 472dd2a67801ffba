"""Console housekeeping on the scheduler: expired sessions and old login attempts go away."""

from __future__ import annotations

import logging
from datetime import timedelta

from bot.console.auth import lifetime
from bot.services import Services
from storage.staff import sessions, throttle

log = logging.getLogger("linli.console")

ATTEMPTS_KEPT = timedelta(days=30)  # long enough to look into a break-in attempt


async def purge_sessions(services: Services) -> int:
    now = services.clock()
    async with services.db.sessions.begin() as session:
        removed = await sessions.purge_expired(session, now=now, lifetime=lifetime(services.settings))
        removed += await throttle.purge(session, older_than=now - ATTEMPTS_KEPT)
    if removed:
        log.info("console: purged %d expired sessions and old login attempts", removed)
    return removed

"""Gauges that are facts about the database: the outbox backlog and the tickets past their SLA.

Decision: they are computed in the scrape, not by a periodic job. A job would run in every
worker whether anyone looks or not, and its values would then have to be merged across
processes; a scrape reaches one worker, which asks the database once (storage/gauges.py: two
indexed statements) under a short timeout (observability.db_timeout_seconds) and keeps the
answer for observability.db_gauges_max_age_seconds, so several Prometheus servers or a fast
scrape interval cost no more. They are exposed by this collector directly, never through the
multiprocess files: every worker would report the same number and adding them up would be wrong.

If the database does not answer in time, the gauges are left out and
``linli_database_gauges_up`` is 0 (better no number than a stale one that looks fine).
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field

from prometheus_client.core import GaugeMetricFamily

from bot.config import ObservabilitySettings
from bot.services import Services
from storage import gauges

log = logging.getLogger("linli.metrics")


@dataclass(frozen=True)
class Snapshot:
    outbox_unsent: int
    outbox_oldest_age_seconds: float
    overdue: dict[str, gauges.Overdue] = field(default_factory=dict)  # community slug → counts


class DatabaseGauges:
    """A prometheus_client collector; ``refresh`` must be awaited before each scrape."""

    def __init__(self, settings: ObservabilitySettings) -> None:
        self._timeout = settings.db_timeout_seconds
        self._max_age = settings.db_gauges_max_age_seconds
        self._lock = asyncio.Lock()
        self._taken_at: float | None = None
        self._snapshot: Snapshot | None = None

    async def refresh(self, services: Services) -> None:
        async with self._lock:  # concurrent scrapes share one read
            if self._taken_at is not None and time.monotonic() - self._taken_at < self._max_age:
                return
            try:
                self._snapshot = await asyncio.wait_for(_read(services), self._timeout)
            except Exception as exc:  # noqa: BLE001 - a scrape must still answer when the database does not
                log.warning("metrics: database gauges left out: %s", _why(exc, self._timeout))
                self._snapshot = None
            self._taken_at = time.monotonic()

    def collect(self):
        snapshot = self._snapshot
        yield GaugeMetricFamily("linli_database_gauges_up", "1 when the database gauges were read at the last "
                                "refresh, 0 when the database did not answer in time", value=int(snapshot is not None))
        if snapshot is None:
            return
        yield GaugeMetricFamily("linli_outbox_backlog", "Outbox rows not yet sent (pending or being sent)",
                                value=snapshot.outbox_unsent)
        yield GaugeMetricFamily("linli_outbox_oldest_age_seconds", "Age of the oldest unsent outbox row (0 when "
                                "none)", value=snapshot.outbox_oldest_age_seconds)
        yield from _ticket_families(snapshot.overdue)


def _ticket_families(overdue: dict[str, gauges.Overdue]):
    late = GaugeMetricFamily("linli_tickets_overdue", "Active tickets past their SLA deadline now (respond: not "
                             "answered in time; resolve: not resolved in time), by community",
                             labels=["community", "deadline"])
    supervised = GaugeMetricFamily("linli_tickets_supervised", "Tickets in 督办 (supervised) now, by community",
                                   labels=["community"])
    for slug, counts in sorted(overdue.items()):
        late.add_metric([slug, "respond"], counts.respond)
        late.add_metric([slug, "resolve"], counts.resolve)
        supervised.add_metric([slug], counts.supervised)
    yield late
    yield supervised


async def _read(services: Services) -> Snapshot:
    now = services.clock()
    slugs = {community_id: slug for slug, community_id in services.community_ids.items()}
    async with services.db.sessions() as session:
        backlog = await gauges.outbox_backlog(session)
        found = {row.community_id: row for row in
                 await gauges.overdue_tickets(session, community_ids=list(slugs), now=now)}
    age = (now - backlog.oldest_created_at).total_seconds() if backlog.oldest_created_at else 0.0
    overdue = {slug: found.get(community_id, gauges.Overdue(community_id, 0, 0, 0))
               for community_id, slug in slugs.items()}
    return Snapshot(backlog.unsent, max(age, 0.0), overdue)


def _why(exc: Exception, timeout: float) -> str:
    if isinstance(exc, asyncio.TimeoutError):
        return f"the database did not answer within {timeout:g} s"
    return f"{type(exc).__name__}: {exc}"

"""Ticket jobs on the scheduler: 督办 overdue tickets, and close tickets nobody rated in time.

Each job lists candidate ids, then handles each ticket in its own short transaction that checks
the condition again; the optimistic version check makes a second scheduler process (or a staff
member acting at the same moment) harmless: the loser gets Conflict and the ticket is looked at
again on the next tick if it still qualifies.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Awaitable, Callable

from bot.services import Services
from storage.tickets import queries, service
from storage.tickets.drafts import Conflict

log = logging.getLogger("linli.tickets")


async def supervise_overdue(services: Services) -> int:
    """督办 every active ticket past its respond or resolve deadline; returns how many."""
    now = services.clock()
    async with services.db.sessions() as session:
        ids = await queries.overdue_ticket_ids(session, now=now)
    return await _each(services, ids, service.supervise_if_overdue, "supervised")


async def expire_feedback(services: Services) -> int:
    """Record 未评价 and close tickets whose reporters did not answer within the window."""
    now = services.clock()
    timeout = timedelta(days=services.settings.tickets.feedback_timeout_days)
    async with services.db.sessions() as session:
        ids = await queries.feedback_expired_ids(session, now=now, timeout=timeout)
    return await _each(services, ids, service.close_if_feedback_expired, "closed without feedback")


async def _each(services: Services, ids: list[int], step: Callable[..., Awaitable[bool]], what: str) -> int:
    done = 0
    for ticket_id in ids:
        try:
            async with services.db.sessions.begin() as session:
                done += await step(session, ticket_id=ticket_id, now=services.clock(), settings=services.settings)
        except Conflict:
            log.info("ticket %s changed while being %s; next tick looks again", ticket_id, what)
        except Exception:
            log.exception("ticket %s: could not be %s", ticket_id, what)
    if done:
        log.info("%d ticket(s) %s", done, what)
        services.wake_outbox()
    return done

"""Ticket jobs on the scheduler: 督办 overdue tickets, close tickets nobody rated in time, and
warn when the holiday calendar runs out (deadlines in working days would silently go wrong).

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
from nlp.timephrase import SHANGHAI
from storage.tickets import queries, service, sla
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


def check_calendar(services: Services) -> int | None:
    """At start-up and daily: the year the holiday calendar is missing (see sla.calendar_gap), if any.

    Logged as an error, not a warning: from 1 November, deadlines counted in working days may
    already reach into a year whose holidays nobody has entered.
    """
    today = services.clock().astimezone(SHANGHAI).date()
    year = sla.calendar_gap(today, services.settings.tickets)
    if year is not None:
        log.error("the holiday calendar does not know %s: working-day deadlines count weekends and 1/1, 5/1, "
                  "10/1-10/3 only. Upgrade chinesecalendar or list %s's days in tickets.holidays and "
                  "tickets.extra_workdays", year, year)
    return year


async def check_calendar_job(services: Services) -> int | None:
    return check_calendar(services)


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

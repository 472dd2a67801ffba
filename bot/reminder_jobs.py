"""The reminder tick: one periodic job that runs the time-driven work of member households and
tickets, then sends every reminder that is due.

Each tick, in order (each step in its own short transactions, so one failing never stops the
rest):

1. orphaned tasks — tickets whose assignee lost the role or unsubscribed go up the chain
   (storage/members/tasks.release_orphans), before any 督办 could reach them;
2. 督办 — the ticket domain's ``supervise_overdue``; its notices are reminder rows, sent at once
   or at the end of quiet hours (storage/members/supervision.py);
3. visits — overdue visits escalate and become 'missed', schedules get their next visit;
4. digests — from [members] digest_time, one digest reminder per role holder for today;
5. send — take due reminders in batches, decide each one's fate (recipient unsubscribed,
   expired, held for quiet hours, nothing to say, or the message it becomes) and settle the
   batch: outbox rows and 'sent' marks commit together (storage/reminders.py).

A digest is written when it goes out, after this tick's escalations. Another scheduler's
escalation running at the same moment is waited for (visits.escalate_overdue), so a digest never
misses a visit escalated that minute.

Any number of processes may tick on one database; see storage/reminders.py for why each
reminder is still sent exactly once, and caught up once after downtime.
"""

from __future__ import annotations

import logging
from datetime import datetime, time, timedelta, timezone
from typing import Awaitable, Callable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import ticket_jobs
from bot.config import Settings
from bot.outbox_worker import template_payload
from bot.services import Services
from bot.texts import members as t
from storage import reminders
from storage.members import agenda, contacts, roles, supervision, tasks, visits
from storage.models import Resident
from storage.reminders import LOCAL, Claimed, Due, Message, Outcomes, QuietHours

log = logging.getLogger("linli.reminders")

DIGEST_KIND = "member_digest"  # outbox notice kind of the daily digest
WINDOW = timedelta(hours=48)  # WeChat's customer-service window


async def tick(services: Services) -> int:
    """One round of everything; returns how many reminders were sent."""
    for step in (release_orphaned_tasks, ticket_jobs.supervise_overdue, advance_visits, schedule_digests,
                 purge_finished):
        try:
            await step(services)
        except Exception:
            log.exception("reminder tick: %s failed; the next tick tries again", step.__name__)
    return await send_due(services)


# ---- tasks, visits and digests ----------------------------------------------------------------

async def release_orphaned_tasks(services: Services) -> int:
    """Tickets still with someone who lost the role (a console edit, say) or unsubscribed."""
    async with services.db.sessions.begin() as session:
        moved = await tasks.release_orphans(session, community_ids=list(services.community_ids.values()),
                                            now=services.clock(), settings=services.settings)
    if moved:
        log.info("%d ticket(s) handed up from people who can no longer act on them", moved)
        services.wake_outbox()
    return moved


async def advance_visits(services: Services) -> int:
    """Escalate overdue visits and make sure every schedule has its next visit."""
    now = services.clock()
    async with services.db.sessions.begin() as session:
        served = list(services.community_ids.values())  # communities this deployment's config serves
        escalated = await visits.escalate_overdue(session, community_ids=served, now=now, settings=services.settings)
        made = await visits.ensure_open(session, community_ids=served, now=now, settings=services.settings)
    if escalated or made:
        log.info("visits: %d escalated, %d scheduled", escalated, made)
    return escalated


async def schedule_digests(services: Services) -> int:
    """Today's digest for every subscribed role holder, once the digest time has come. Each
    process remembers the days it has done (the keys make a repeat harmless anyway); someone
    who takes a role later in the day gets their first digest the next morning."""
    now = services.clock()
    day = now.astimezone(LOCAL).date()
    hour, minute = (int(part) for part in services.settings.members.digest_time.split(":"))
    at = datetime.combine(day, time(hour, minute), LOCAL).astimezone(timezone.utc)
    done: set = services.extras.setdefault("digest_days", set())
    if now < at or day in done:
        return 0
    config = services.settings.reminders
    quiet = QuietHours.parse(config.quiet_start, config.quiet_end)
    expires = datetime.combine(day + timedelta(days=1), time(), LOCAL).astimezone(timezone.utc)
    scheduled = 0
    async with services.db.sessions.begin() as session:
        for community_id in services.community_ids.values():
            account = await contacts.account_name(session, community_id, services.settings)
            scheduled += await reminders.schedule(session, [
                Due(community_id, roles.DIGEST, f"digest:{day.isoformat()}", account, person.openid, at,
                    key=f"digest:{day.isoformat()}:{person.id}", resident_id=person.id, quiet=quiet, expires_at=expires,
                    payload={"title": t.TITLE_DIGEST, "notice_kind": DIGEST_KIND})
                for person in await roles.holders(session, community_id=community_id) if person.subscribed], now=now)
    done.add(day)
    return scheduled


async def purge_finished(services: Services) -> int:
    cutoff = services.clock() - timedelta(days=services.settings.reminders.retention_days)
    async with services.db.sessions.begin() as session:
        return await reminders.purge(session, older_than=cutoff)


# ---- sending ----------------------------------------------------------------------------------

Render = Callable[[AsyncSession, Claimed, "Resident | None", datetime, Settings],
                  Awaitable["tuple[str, str] | None"]]


async def send_due(services: Services, *, limit_batches: int | None = None) -> int:
    """Claim and settle due reminders batch by batch until none is left; returns how many were sent.

    A batch is normally taken, decided and settled in one transaction (a crash before its
    commit leaves nothing behind). If that fails, the batch is claimed with a lease in a
    transaction of its own and settled reminder by reminder, so a bad one delays nobody else."""
    config = services.settings.reminders
    now = services.clock()
    async with services.db.sessions.begin() as session:
        await reminders.release_stale(session, now=now)
    lease_until = now + timedelta(seconds=config.claim_lease_seconds)
    sent = batches = 0
    while limit_batches is None or batches < limit_batches:
        batches += 1
        try:
            async with services.db.sessions.begin() as session:
                batch = await reminders.lock_due(session, now=now, limit=config.batch_size)
                done = await reminders.settle(session, batch, await decide(session, batch, now, services.settings),
                                              now=now)
            sent += len(done)  # counted once committed
        except Exception:
            log.exception("a batch of reminders failed; settling them one by one")
            async with services.db.sessions.begin() as session:
                batch = await reminders.claim_due(session, now=now, lease_until=lease_until, limit=config.batch_size)
            sent += await _one_by_one(services, batch, now)
        if len(batch) < config.batch_size:
            break
    if sent:
        log.info("queued %d reminder(s)", sent)
        services.wake_outbox()
    return sent


async def _one_by_one(services: Services, batch: list[Claimed], now: datetime) -> int:
    sent = 0
    for claimed in batch:
        try:
            async with services.db.sessions.begin() as session:
                done = await reminders.settle(session, [claimed], await decide(session, [claimed], now,
                                                                                services.settings), now=now)
            sent += len(done)
        except Exception as exc:
            log.exception("reminder %s could not be sent", claimed.id)
            await _retry_later(services, claimed, exc, now)
    return sent


async def _retry_later(services: Services, claimed: Claimed, exc: Exception, now: datetime) -> None:
    config = services.settings.reminders
    backoff = timedelta(seconds=config.interval_seconds * 2 ** min(claimed.attempts, 8))
    async with services.db.sessions.begin() as session:
        await reminders.retry_later(session, claimed, error=f"{type(exc).__name__}: {exc}", retry_at=now + backoff,
                                    max_attempts=config.max_attempts)


async def decide(session: AsyncSession, batch: list[Claimed], now: datetime, settings: Settings) -> Outcomes:
    """What becomes of each claimed reminder now."""
    ids = {c.resident_id for c in batch if c.resident_id is not None}
    people = {r.id: r for r in await session.scalars(select(Resident).where(Resident.id.in_(ids)))} if ids else {}
    outcomes = Outcomes()
    for claimed in batch:
        resident = people.get(claimed.resident_id)
        if resident is not None and not resident.subscribed:
            outcomes.drop[claimed.id] = ("cancelled", "recipient unsubscribed")
        elif claimed.expires_at is not None and now >= claimed.expires_at:
            outcomes.drop[claimed.id] = ("expired", "too late to be useful")
        elif claimed.quiet is not None and claimed.quiet.covers(now):
            outcomes.defer[claimed.id] = claimed.quiet.release(now)
        elif (text := await RENDERERS.get(claimed.kind, _as_written)(session, claimed, resident, now,
                                                                      settings)) is None:
            outcomes.drop[claimed.id] = ("skipped", "nothing to say")
        else:
            outcomes.send[claimed.id] = _message(claimed, resident, *text, now=now, settings=settings)
    return outcomes


async def _as_written(session: AsyncSession, claimed: Claimed, resident: Resident | None, now: datetime,
                      settings: Settings) -> tuple[str, str] | None:
    return claimed.payload.get("title", ""), claimed.payload["content"]


async def _digest(session: AsyncSession, claimed: Claimed, resident: Resident | None, now: datetime,
                  settings: Settings) -> tuple[str, str] | None:
    """Written when it goes out, so it lists what is open then; nothing open → not sent."""
    if resident is None or not roles.has_role(resident):
        return None
    parts = await agenda.sections(session, resident, now=now)
    if not parts:
        return None
    day = visits.day_text(visits.local_today(now))
    return t.TITLE_DIGEST, t.DIGEST.format(name=resident.name or t.DIGEST_NAME, day=day, sections="\n\n".join(parts))


async def _supervision(session: AsyncSession, claimed: Claimed, resident: Resident | None, now: datetime,
                       settings: Settings) -> tuple[str, str] | None:
    return await supervision.render(session, claimed, resident, now)


RENDERERS: dict[str, Render] = {roles.DIGEST: _digest, **{kind: _supervision for kind in supervision.KINDS}}


def _message(claimed: Claimed, resident: Resident | None, title: str, content: str, *, now: datetime,
             settings: Settings) -> Message:
    """A customer-service text while the person's 48-hour window is open; the account's template
    for the notice kind once it has closed (the outbox worker falls back the same way if WeChat
    refuses a text)."""
    notice_kind = claimed.payload.get("notice_kind", "reply")
    payload = {key: value for key, value in claimed.payload.items() if key != "notice_kind"}
    payload.update(title=title, content=content)
    account = settings.account(claimed.account)
    template = account.templates.get(notice_kind) if account is not None else None
    window_closed = resident is not None and (resident.last_inbound_at is None
                                              or now - resident.last_inbound_at >= WINDOW)
    if window_closed and template is not None and template.template_id:
        return Message("template", template_payload(template, payload, original_kind="text"), notice_kind, content)
    return Message("text", payload, notice_kind, content)

"""The intake timeout: a report left half-filled is cancelled and the resident told, once.

A form expires with its dialog (dialog.conversation_ttl_minutes). If the resident writes again
first, the dispatcher sees the expiry and the intake handler says so in its reply; otherwise this
job finds the expired form, clears it and queues one notice. Clearing is a conditional UPDATE on
the state and expiry it read, so a resident who started a new form meanwhile keeps it, and two
schedulers (or two runs) cannot both claim one form; the outbox idempotency key backs that up.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import Row, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services import Services
from bot.texts import tickets as t
from handlers.intake import STATE, parse_state
from storage import message_log, outbox
from storage.models import Conversation, Resident

log = logging.getLogger("linli.intake")


async def notify_expired_intakes(services: Services) -> int:
    """Cancel expired intake forms and queue one notice each; returns how many were queued."""
    now = services.clock()
    queued = 0
    async with services.db.sessions.begin() as session:
        for form in await _expired_forms(session, now):
            if await _cancel(session, form) and form.subscribed:
                queued += await _notify(session, form, now=now,
                                        minutes=services.settings.dialog.conversation_ttl_minutes)
    if queued:
        log.info("cancelled %d expired intake forms and queued their notices", queued)
        services.wake_outbox()
    return queued


async def _expired_forms(session: AsyncSession, now: datetime) -> list[Row]:
    return list((await session.execute(
        select(Conversation.id, Conversation.community_id, Conversation.state, Conversation.expires_at,
               Conversation.data, Resident.openid, Resident.subscribed)
        .join(Resident, Resident.id == Conversation.resident_id)
        .where(Conversation.state.startswith(STATE, autoescape=True), Conversation.expires_at <= now)
        .order_by(Conversation.id))).all())


async def _cancel(session: AsyncSession, form: Row) -> bool:
    """Clear the form if it is still the one we read (the resident may have moved on)."""
    result = await session.execute(
        update(Conversation)
        .where(Conversation.id == form.id, Conversation.state == form.state, Conversation.expires_at == form.expires_at)
        .values(state=None, data={}, expires_at=None)
        .execution_options(synchronize_session=False))
    return result.rowcount == 1


async def _notify(session: AsyncSession, form: Row, *, now: datetime, minutes: int) -> int:
    parsed, account = parse_state(form.state), (form.data or {}).get("account")
    if parsed is None or account is None:
        return 0
    content = t.TIMEOUT_NOTICE.format(kind=t.KIND_WORDS[parsed[0]], minutes=minutes)
    outbox_id = await outbox.enqueue(
        session, community_id=form.community_id, account=account, openid=form.openid, kind="text",
        payload={"content": content}, now=now, notice_kind="intake_timeout",
        idempotency_key=f"intake-timeout:{form.id}:{form.expires_at.isoformat()}")
    if outbox_id is None:
        return 0
    await message_log.log_outbound(session, community_id=form.community_id, openid=form.openid, now=now,
                                   msg_type="text", content=content, delivery="customer_service", outbox_id=outbox_id)
    return 1

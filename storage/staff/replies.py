"""Staff answers to a resident: an outbox row (sent by the outbox worker) plus the outbound line
on the message log that points at it, so the thread shows the answer with its delivery status.

The form that sends an answer carries a one-time key; the outbox's idempotency key is built from
it, so a double click or a re-posted form queues the answer once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import outbox
from storage.message_log import log_outbound, thread
from storage.models import MessageLog, OutboxMessage

MAX_LENGTH = 600  # WeChat caps a customer-service text at 2048 bytes; 600 Chinese characters fit


@dataclass(frozen=True)
class Line:
    """One message of a thread as staff see it (an answer carries its delivery state)."""

    message: MessageLog
    delivery: str | None  # outbox status for queued answers; "passive" for the bot's instant replies
    error: str | None


async def send(session: AsyncSession, *, community_id: int, account: str, openid: str, text: str, now: datetime,
               form_key: str) -> int | None:
    """Queue the answer; None when this form was already sent (nothing queued twice)."""
    outbox_id = await outbox.enqueue(session, community_id=community_id, account=account, openid=openid,
                                     kind="text", payload={"content": text}, now=now, notice_kind="reply",
                                     idempotency_key=f"console-reply:{form_key}"[:128])
    if outbox_id is not None:
        await log_outbound(session, community_id=community_id, openid=openid, now=now, msg_type="text",
                           content=text, delivery="customer_service", outbox_id=outbox_id)
    return outbox_id


async def lines(session: AsyncSession, *, community_id: int, openid: str, after_id: int = 0,
                limit: int = 200) -> list[Line]:
    """The resident's whole thread (or what came after ``after_id``), oldest first, with delivery states."""
    if after_id:
        rows = list(await session.scalars(select(MessageLog).where(
            MessageLog.community_id == community_id, MessageLog.openid == openid, MessageLog.id > after_id)
            .order_by(MessageLog.id).limit(limit)))
    else:
        rows = await thread(session, community_id=community_id, openid=openid, limit=limit)
    states = await delivery_states(session, [r.outbox_id for r in rows if r.outbox_id])
    return [Line(r, *states.get(r.outbox_id, (r.delivery if r.direction == "out" else None, None))) for r in rows]


async def delivery_states(session: AsyncSession, outbox_ids: list[int]) -> dict[int, tuple[str, str | None]]:
    if not outbox_ids:
        return {}
    rows = await session.execute(select(OutboxMessage.id, OutboxMessage.status, OutboxMessage.last_error)
                                 .where(OutboxMessage.id.in_(outbox_ids)))
    return {i: (status, error) for i, status, error in rows.all()}

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
from storage.message_log import log_outbound
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


PAGE = 200  # messages a thread page shows at once; "更早的消息" shows the ones before


@dataclass(frozen=True)
class Window:
    """A page of a thread: its lines (oldest first) and whether earlier messages exist."""

    lines: list[Line]
    earlier: bool

    @property
    def first_id(self) -> int:
        return self.lines[0].message.id if self.lines else 0

    @property
    def last_id(self) -> int:
        return self.lines[-1].message.id if self.lines else 0


async def window(session: AsyncSession, *, community_id: int, openid: str, before_id: int | None = None,
                 limit: int = PAGE) -> Window:
    """The latest ``limit`` messages of the thread, or those just before ``before_id``."""
    where = [MessageLog.community_id == community_id, MessageLog.openid == openid]
    if before_id:
        where.append(MessageLog.id < before_id)
    rows = list(await session.scalars(select(MessageLog).where(*where).order_by(MessageLog.id.desc())
                                      .limit(limit + 1)))
    earlier = len(rows) > limit
    return Window(await _with_states(session, list(reversed(rows[:limit]))), earlier)


async def lines(session: AsyncSession, *, community_id: int, openid: str, after_id: int = 0,
                limit: int = PAGE) -> list[Line]:
    """What came after ``after_id`` (the live stream), oldest first, with delivery states; without
    ``after_id`` the latest ``limit`` messages."""
    if not after_id:
        return (await window(session, community_id=community_id, openid=openid, limit=limit)).lines
    rows = list(await session.scalars(select(MessageLog).where(
        MessageLog.community_id == community_id, MessageLog.openid == openid, MessageLog.id > after_id)
        .order_by(MessageLog.id).limit(limit)))
    return await _with_states(session, rows)


async def _with_states(session: AsyncSession, rows: list[MessageLog]) -> list[Line]:
    states = await delivery_states(session, [r.outbox_id for r in rows if r.outbox_id])
    return [Line(r, *states.get(r.outbox_id, (r.delivery if r.direction == "out" else None, None))) for r in rows]


async def delivery_states(session: AsyncSession, outbox_ids: list[int]) -> dict[int, tuple[str, str | None]]:
    if not outbox_ids:
        return {}
    rows = await session.execute(select(OutboxMessage.id, OutboxMessage.status, OutboxMessage.last_error)
                                 .where(OutboxMessage.id.in_(outbox_ids)))
    return {i: (status, error) for i, status, error in rows.all()}

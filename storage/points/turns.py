"""Turns in a resident's conversation, read from the message log: a question that spends points
("确认用 30 分兑换…吗？") may only be answered by the very next message, whichever handler
answered the messages in between."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import MessageLog

# Not something the resident said: WeChat reports the location on entering the chat, and a menu
# link (VIEW) opens a web page.
_NOT_TURNS = ("event:location", "event:view")


def _inbound(community_id: int, openid: str):
    return (MessageLog.community_id == community_id, MessageLog.openid == openid, MessageLog.direction == "in",
            MessageLog.msg_type.not_in(_NOT_TURNS))


async def last_message_id(session: AsyncSession, community_id: int, openid: str) -> int:
    """The id of the resident's latest logged message (the one being answered), 0 if none."""
    return await session.scalar(select(func.coalesce(func.max(MessageLog.id), 0))
                                .where(*_inbound(community_id, openid)))


async def messages_after(session: AsyncSession, community_id: int, openid: str, after_id: int) -> int:
    """How many messages the resident has sent since ``after_id`` (the current one included)."""
    return await session.scalar(select(func.count()).select_from(MessageLog)
                                .where(*_inbound(community_id, openid), MessageLog.id > after_id))

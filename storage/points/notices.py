"""Points and volunteering notices to residents (reminders, waitlist promotions, cancelled
activities, the monthly board): outbox rows with an idempotency key, so a job that runs twice or a retried event never
sends one twice. ``title`` and ``content`` feed the account's template for ``notice_kind`` when the
48-hour customer-service window has closed (see bot/outbox_worker.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from storage import outbox

ACTIVITY_REMINDER, WAITLIST_PROMOTED, LEADERBOARD = "activity_reminder", "waitlist_promoted", "leaderboard"
ACTIVITY_CANCELLED = "activity_cancelled"


async def notify(session: AsyncSession, *, community_id: int, account: str, openid: str, notice_kind: str,
                 title: str, content: str, key: str, now: datetime) -> bool:
    """Queue one text notice; False when one with this key was queued before."""
    queued = await outbox.enqueue(session, community_id=community_id, account=account, openid=openid, kind="text",
                                  payload={"content": content, "title": title}, now=now, notice_kind=notice_kind,
                                  idempotency_key=key)
    return queued is not None

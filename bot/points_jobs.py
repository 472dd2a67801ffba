"""Scheduled points work: activity reminders and the monthly leaderboard (亮积分); and the notices
that chat, the console and the CLI queue: to a resident taken off a waitlist (取消报名, more
places) and to everyone on an activity that staff called off.

Both jobs only find what is due and queue outbox rows whose idempotency keys name the reminder
(sign-up, kind, start time) or the board (community, month, resident), so running a job twice,
in two processes, or again after a restart never sends anything twice, and a run missed during
downtime is caught up by the next one (reminders within their window, the board all day on the 1st).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services import Services
from bot.texts import points as t
from storage.models import Resident
from storage.points import activities, leaderboard, notices
from storage.points.activities import DueReminder, Promotion
from storage.points.leaderboard import Board
from storage.points_models import Activity, ActivitySignup

log = logging.getLogger("linli.points")


def accounts_by_community(services: Services) -> dict[int, str]:
    """Community id → the account its notices go out through (the first configured for it)."""
    found: dict[int, str] = {}
    for account in services.settings.accounts:
        community_id = services.community_ids.get(account.community)
        if community_id is not None:
            found.setdefault(community_id, account.name)
    return found


async def send_activity_reminders(services: Services) -> int:
    """Day-before (from [points] reminder_hour) and starting-soon reminders; returns how many were queued."""
    now, config = services.clock(), services.settings.points
    accounts = accounts_by_community(services)
    queued = 0
    async with services.db.sessions.begin() as session:
        due = await activities.reminders_due(session, now=now, local=t.LOCAL, reminder_hour=config.reminder_hour,
                                             lead=timedelta(minutes=config.reminder_lead_minutes))
        for reminder in due:
            account = accounts.get(reminder.activity.community_id)
            if account is not None:
                queued += await notices.notify(
                    session, community_id=reminder.activity.community_id, account=account,
                    openid=reminder.resident.openid, notice_kind=notices.ACTIVITY_REMINDER, title=t.REMINDER_TITLE,
                    content=reminder_text(reminder), key=reminder.idempotency_key, now=now)
    if queued:
        log.info("queued %d activity reminders", queued)
        services.wake_outbox()
    return queued


async def queue_promotions(session: AsyncSession, activity: Activity, promoted: list[Promotion], *, account: str,
                           now: datetime) -> int:
    """Tell residents taken off the waitlist (in the transaction that promoted them)."""
    queued = 0
    for promotion in promoted:
        resident = await session.get(Resident, promotion.resident_id)
        if resident is None or not resident.subscribed:
            continue
        content = t.PROMOTED.format(title=activity.title, when=t.span(activity.starts_at, activity.ends_at),
                                    place=activity.place, number=activity.number)
        queued += await notices.notify(
            session, community_id=activity.community_id, account=account, openid=resident.openid,
            notice_kind=notices.WAITLIST_PROMOTED, title=t.PROMOTED_TITLE, content=content,
            key=f"activity-promoted:{promotion.signup_id}:{int(promotion.promoted_at.timestamp())}", now=now)
    return queued


async def queue_cancellation(session: AsyncSession, activity: Activity, people: list[tuple[ActivitySignup, Resident]],
                             *, account: str, reason: str, now: datetime) -> int:
    """Tell the confirmed and waitlisted residents of a cancelled activity (in that transaction)."""
    why = t.ACTIVITY_CANCELLED_REASON.format(reason=reason) if reason else ""
    content = t.ACTIVITY_CANCELLED.format(title=activity.title, when=t.span(activity.starts_at, activity.ends_at),
                                          place=activity.place, reason=why)
    queued = 0
    for signup, resident in people:
        if resident.subscribed:
            queued += await notices.notify(
                session, community_id=activity.community_id, account=account, openid=resident.openid,
                notice_kind=notices.ACTIVITY_CANCELLED, title=t.ACTIVITY_CANCELLED_TITLE, content=content,
                key=f"activity-cancelled:{activity.id}:{signup.id}", now=now)
    return queued


def reminder_text(reminder: DueReminder) -> str:
    activity = reminder.activity
    template = t.REMINDER_DAY_BEFORE if reminder.kind == activities.DAY_BEFORE else t.REMINDER_SOON
    return template.format(title=activity.title, time=t.clock(activity.starts_at), place=activity.place,
                           number=activity.number)


async def send_monthly_leaderboard(services: Services) -> int:
    """On the 1st, from [points] leaderboard_hour: last month's board to everyone not opted out."""
    now, config = services.clock(), services.settings.points
    local_now = now.astimezone(t.LOCAL)
    if local_now.day != 1 or local_now.hour < config.leaderboard_hour:
        return 0
    this_month, _ = leaderboard.month_of(now, t.LOCAL)
    start, end = leaderboard.month_of(this_month - timedelta(days=1), t.LOCAL)
    queued = 0
    for community_id, account in accounts_by_community(services).items():
        async with services.db.sessions.begin() as session:
            board = await leaderboard.board(session, community_id, start, end)
            if not board.standings:
                continue
            grids = await leaderboard.grid_names(session, community_id)
            for resident, grid_id in await leaderboard.recipients(session, community_id):
                queued += await notices.notify(
                    session, community_id=community_id, account=account, openid=resident.openid,
                    notice_kind=notices.LEADERBOARD, title=t.LEADERBOARD_TITLE,
                    content=monthly_text(board, config.leaderboard_size, start, resident.id, grid_id, grids),
                    key=f"leaderboard:{community_id}:{start:%Y-%m}:{resident.id}", now=now)
    if queued:
        log.info("queued %d monthly leaderboard messages", queued)
        services.wake_outbox()
    return queued


def monthly_text(board: Board, size: int, month: datetime, resident_id: int, grid_id: int | None,
                 grids: dict[int, str]) -> str:
    grid_top = board.top(size, grid_id) if grid_id is not None else []
    grid_part = t.MONTHLY_GRID.format(grid=grids[grid_id], size=size, top=t.board_lines(grid_top)) if grid_top else ""
    position = board.position_of(resident_id)
    mine = (t.MONTHLY_MINE.format(points=board.points_of(resident_id), rank=position) if position
            else t.MONTHLY_NONE)
    return t.MONTHLY.format(month=t.month_name(month), size=size, top=t.board_lines(board.top(size)) or t.BOARD_EMPTY,
                            grid_part=grid_part, mine=mine)

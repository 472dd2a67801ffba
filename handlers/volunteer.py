"""Volunteer activities in chat: 志愿活动, 报名 <n>, 取消报名 <n>, 我的活动, 签到 <code>.

Activities carry a stable number per community (the one residents type), so "报名 3" means the
same activity in a list, a reminder or a friend's forwarded message. A seat freed by 取消报名
goes to the first on the waitlist, who is told through the outbox in the same transaction.
"""

from __future__ import annotations

import re

from bot.dispatcher.context import Context
from bot.dispatcher.router import Router
from bot.points_jobs import queue_promotions
from bot.replies import Reply, Text
from bot.texts import points as t
from handlers.points import action, said, slot
from nlp.cnnum import cn_to_int
from storage.points import activities, ledger
from storage.points.activities import CheckIn, Outcome
from storage.points_models import Activity

router = Router("volunteer")

LISTED = 10

# Free wording of the two commands ("我想报名3号活动", "报名第一个", "我不去了，取消报名1"): the
# command rules only read a message that is nothing but the command.
_NUMBER = r"(\d{1,3}|[零〇一二两三四五六七八九十百]{1,4})"
_NUMBER_END = r"(?:号|个(?![人位名]))|(?=活动|$|[吧了的啊呀,，。!！?？\s])"
_SIGNUP_NUMBER = re.compile(rf"报名(?:参加)?\s*第?\s*{_NUMBER}\s*(?:{_NUMBER_END})")
_ACTIVITY_NUMBER = re.compile(rf"第?\s*{_NUMBER}\s*(?:号|个)\s*(?:志愿)?活动")
_WITHDRAW = re.compile(r"取消|不去|不想去|不参加|不想参加|不能参加|参加不了|去不了|来不了|退出|不报了|退报")


def parse_command(text: str) -> tuple[str, int | None] | None:
    """("signup" | "cancel", number or None) named in a free-worded, normalised message, or None.

    A withdrawal word (取消/不去/不参加…) makes it a cancellation, with or without a number; a
    sign-up needs the number (Arabic or Chinese numerals), or the list is shown instead."""
    found = _SIGNUP_NUMBER.search(text) or _ACTIVITY_NUMBER.search(text)
    number = cn_to_int(found.group(1)) if found else None
    if _WITHDRAW.search(text) and (number is not None or "报名" in text or "活动" in text):
        return "cancel", number
    return ("signup", number) if number else None


def free_command(ctx: Context) -> tuple[str, int | None] | None:
    """The command in a volunteer_signup message that the command rules did not read as one."""
    if ctx.intent != "volunteer_signup" or slot(ctx, "action") is not None:
        return None
    if "volunteer_command" not in ctx.extras:
        ctx.extras["volunteer_command"] = parse_command(said(ctx))
    return ctx.extras["volunteer_command"]


def _command(name: str):
    """A filter: the command rules set this action, or the free wording names it."""
    return lambda ctx: action(name)(ctx) or (free_command(ctx) or ("",))[0] == name


def _number(ctx: Context) -> int | None:
    found = free_command(ctx)
    return slot(ctx, "number") if found is None else found[1]


def _checking_in(ctx: Context) -> bool:
    return action("checkin")(ctx) or slot(ctx, "checkin_code") is not None


@router.on(_checking_in, intent="volunteer_signup")
async def check_in(ctx: Context) -> Reply:
    code = slot(ctx, "checkin_code")
    if code is None:
        return Text(t.CHECKIN_ASK)
    session = await ctx.db()
    result = await activities.check_in(session, community_id=ctx.community_id, resident_id=ctx.resident.id,
                                       code=code, now=ctx.now)
    activity = result.activity
    if result.outcome is CheckIn.DONE:
        if activity.points <= 0:
            return Text(t.CHECKED_IN_NO_POINTS.format(title=activity.title))
        balance = (await ledger.balance(session, ctx.resident.id)).balance
        return Text(t.CHECKED_IN.format(title=activity.title, points=activity.points, balance=balance))
    return Text({
        CheckIn.ALREADY: t.CHECKIN_ALREADY,
        CheckIn.NOT_SIGNED_UP: t.CHECKIN_NOT_SIGNED,
        CheckIn.TOO_EARLY: t.CHECKIN_TOO_EARLY,
        CheckIn.TOO_LATE: t.CHECKIN_TOO_LATE,
        CheckIn.UNKNOWN_CODE: t.CHECKIN_UNKNOWN,
        CheckIn.LOCKED: t.CHECKIN_LOCKED,
    }[result.outcome].format(code=code, title=activity and activity.title,
                             start=activity and t.moment(activity.starts_at),
                             end=activity and t.moment(activity.ends_at),
                             minutes=int(activities.WRONG_CODE_WINDOW.total_seconds() // 60)))


@router.on(_command("signup"), intent="volunteer_signup")
async def sign_up(ctx: Context) -> Reply:
    activity = await _numbered(ctx)
    if not isinstance(activity, Activity):
        return activity
    session = await ctx.db()
    outcome = await activities.sign_up(session, activity=activity, resident_id=ctx.resident.id, now=ctx.now)
    if outcome in (Outcome.WAITLISTED, Outcome.ALREADY_WAITLISTED):
        signup = await activities.signup_of(session, activity.id, ctx.resident.id)
        position = await activities.waitlist_position(session, signup)
        template = t.WAITLISTED if outcome is Outcome.WAITLISTED else t.ALREADY_WAITLISTED
        return Text(template.format(title=activity.title, position=position))
    template = {Outcome.CONFIRMED: t.SIGNED_UP, Outcome.ALREADY_CONFIRMED: t.ALREADY_CONFIRMED,
                Outcome.CLOSED: t.SIGNUP_CLOSED}[outcome]
    return Text(template.format(**_facts(activity)))


async def _numbered(ctx: Context) -> Activity | Reply:
    """The activity whose number the resident typed, or the reply that says what went wrong."""
    number = _number(ctx)
    if number is None:
        return Text(t.SIGNUP_WHICH.format(listing=await _listing(ctx)))
    activity = await activities.by_number(await ctx.db(), ctx.community_id, number)
    if activity is None or activity.status != activities.OPEN:
        return Text(t.ACTIVITY_NOT_FOUND.format(number=number))
    return activity


def _facts(activity: Activity) -> dict:
    return dict(title=activity.title, when=t.span(activity.starts_at, activity.ends_at), place=activity.place,
                points=activity.points, number=activity.number)


@router.on(_command("cancel"), intent="volunteer_signup")
async def cancel(ctx: Context) -> Reply:
    if _number(ctx) is None:
        return Text(t.UNSIGN_WHICH)
    activity = await _numbered(ctx)
    if not isinstance(activity, Activity):
        return activity
    session = await ctx.db()
    mine = await activities.signup_of(session, activity.id, ctx.resident.id)
    if mine is not None and mine.checked_in_at is not None:
        return Text(t.UNSIGN_CHECKED_IN.format(title=activity.title))
    if ctx.now >= activity.starts_at:
        return Text(t.UNSIGN_STARTED.format(title=activity.title))
    cancelled, promoted = await activities.cancel(session, activity=activity, resident_id=ctx.resident.id,
                                                  now=ctx.now)
    if not cancelled:
        return Text(t.UNSIGN_NOT_SIGNED.format(title=activity.title))
    await queue_promotions(session, activity, promoted, account=ctx.event.account, now=ctx.now)
    return Text(t.UNSIGNED.format(title=activity.title))


@router.on(action("mine"), intent="volunteer_signup")
async def mine(ctx: Context) -> Reply:
    signed = await activities.mine(await ctx.db(), ctx.resident.id, ctx.now)
    if not signed:
        return Text(t.MINE_EMPTY)
    lines = [t.MINE_LINE.format(number=m.activity.number, title=m.activity.title, when=t.moment(m.activity.starts_at),
                                place=m.activity.place, state=_state(m)) for m in signed]
    return Text(t.MINE.format(items="\n".join(lines)))


def _state(mine: activities.Mine) -> str:
    if mine.signup.checked_in_at is not None:
        return t.STATE_CHECKED_IN
    if mine.position is not None:
        return t.STATE_WAITLISTED.format(position=mine.position)
    return t.STATE_CONFIRMED


@router.on(intent="volunteer_signup")
async def listing(ctx: Context) -> Reply:
    """志愿活动, the menu button, or any free-worded wish to volunteer."""
    return Text(await _listing(ctx))


async def _listing(ctx: Context) -> str:
    found = await activities.upcoming(await ctx.db(), ctx.community_id, ctx.now, limit=LISTED)
    if not found:
        return t.NO_ACTIVITIES
    lines = [t.ACTIVITY_LINE.format(number=a.number, title=a.title, when=t.span(a.starts_at, a.ends_at),
                                    place=a.place, points=a.points, taken=a.confirmed, capacity=a.capacity,
                                    note=_note(a, ctx)) for a in found]
    return t.ACTIVITIES.format(items="\n".join(lines), example=found[0].number)


def _note(activity: Activity, ctx: Context) -> str:
    if activity.starts_at <= ctx.now:
        return t.NOTE_ONGOING
    if ctx.now >= activity.signup_deadline:
        return t.NOTE_CLOSED
    return t.NOTE_FULL if activity.confirmed >= activity.capacity else ""

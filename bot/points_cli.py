"""`linli points …`: the staff side of points and volunteering until the console has pages for it.

    linli points activity add --title 清洁家园 --place 社区广场 --start "2026-11-28 09:00" --end "2026-11-28 11:00" \\
        --capacity 20 --by 王主任            (points default to hours × [points] per_volunteer_hour)
    linli points activity list | show 3 | checkin 3 --openid o_x --by 王主任 | capacity 3 30 --by 王主任
    linli points activity cancel 3 --reason "暴雨" --by 王主任   (everyone signed up is told)
    linli points item add --name 洗衣液 --cost 30 --stock 20 --by 王主任 | item list | item restock 1 10 --by 王主任
    linli points order pickup 123456 --by 王主任
    linli points adjust --openid o_x --delta -10 --reason "重复登记，扣回" --by 王主任
    linli points resources 电器 周末
    linli points check                     (ledger and cached balances agree)

Times are Asia/Shanghai. Staff read the output, so it is in Chinese. Every change names who did
it (--by) and lands in the points audit trail.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import click
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.cli_support import community_option, config_option, run_in_community
from bot.points_jobs import queue_cancellation, queue_promotions
from bot.texts.points import LOCAL, moment, span
from storage.models import Resident
from storage.points import activities, ledger, mall, resources

by_option = click.option("--by", "actor", required=True, help="Your name, for the audit trail.")
TIME = click.DateTime(["%Y-%m-%d %H:%M"])


def _explain(exc: Exception) -> str:
    if isinstance(exc, activities.OutsideWindow):
        return "只能在活动开始后、结束后的宽限时间内标记签到"
    if isinstance(exc, activities.NotOpen):
        return "这个活动已经取消了"
    if isinstance(exc, ledger.InsufficientPoints):
        return "余额不足，不能扣这么多积分"
    if isinstance(exc, mall.OutOfStock):
        return "库存不足"
    if isinstance(exc, mall.NotCancellable):
        return f"没有待领取的订单：{exc.args[0]}"
    return str(exc.args[0]) if exc.args else type(exc).__name__


def _local(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=LOCAL) if value is not None else None


async def _resident(session: AsyncSession, community_id: int, openid: str) -> Resident:
    found = await session.scalar(select(Resident).where(Resident.community_id == community_id,
                                                        Resident.openid == openid))
    if found is None:
        raise LookupError(f"没有这位居民：{openid}（居民要先给公众号发过消息）")
    return found


async def _activity(session: AsyncSession, community_id: int, number: int):
    found = await activities.by_number(session, community_id, number)
    if found is None:
        raise LookupError(f"没有编号为 {number} 的活动")
    return found


@click.group()
def points() -> None:
    """Points, the points mall and volunteer activities (staff side)."""


# ---- activities ---------------------------------------------------------------------------------

@points.group()
def activity() -> None:
    """Volunteer activities."""


@activity.command("add")
@config_option
@community_option
@by_option
@click.option("--title", required=True)
@click.option("--place", required=True)
@click.option("--start", required=True, type=TIME, help='"2026-11-28 09:00"')
@click.option("--end", required=True, type=TIME)
@click.option("--capacity", required=True, type=click.IntRange(min=1))
@click.option("--points", "points_", type=click.IntRange(min=0), default=None,
              help="Default: hours × [points] per_volunteer_hour.")
@click.option("--deadline", type=TIME, default=None, help="Sign-up deadline (default: the start).")
@click.option("--tags", default="", help="Comma-separated, e.g. 环境,助老")
@click.option("--description", default="")
def activity_add(config_path, community, actor, title, place, start, end, capacity, points_, deadline, tags,
                 description) -> None:
    """Create an activity; prints its number and check-in code."""
    from bot.cli import _settings

    per_hour = _settings(config_path).points.per_volunteer_hour

    async def work(session, community_id, now, settings):
        created = await activities.create(
            session, community_id=community_id, title=title, place=place, starts_at=_local(start), ends_at=_local(end),
            capacity=capacity, points=points_, per_hour=per_hour, signup_deadline=_local(deadline),
            tags=[tag.strip() for tag in tags.split(",") if tag.strip()], description=description, actor=actor, now=now)
        return (f"已创建活动 {created.number}：{created.title}，{span(created.starts_at, created.ends_at)}，"
                f"{created.points} 积分，名额 {created.capacity}，签到码 {created.checkin_code}")
    _run(config_path, community, work)


@activity.command("list")
@config_option
@community_option
def activity_list(config_path, community) -> None:
    """Activities that have not ended, with their check-in codes."""
    async def work(session, community_id, now, settings):
        found = await activities.upcoming(session, community_id, now, limit=100)
        return "\n".join(f"{a.number}. {a.title}  {span(a.starts_at, a.ends_at)}  {a.place}  {a.points}分  "
                         f"名额 {a.confirmed}/{a.capacity}  签到码 {a.checkin_code}" for a in found) or "没有未结束的活动"
    _run(config_path, community, work)


@activity.command("show")
@config_option
@community_option
@click.argument("number", type=int)
def activity_show(config_path, community, number) -> None:
    """Everyone signed up for an activity (confirmed, walk-ins, then the waitlist in order)."""
    async def work(session, community_id, now, settings):
        found = await _activity(session, community_id, number)
        lines = [f"{found.number}. {found.title}  {span(found.starts_at, found.ends_at)}  签到码 {found.checkin_code}"]
        for signup, resident in await activities.signups(session, found.id):
            checked = f"  已签到 {moment(signup.checked_in_at)}（{signup.checked_in_by}）" if signup.checked_in_at else ""
            lines.append(f"  {resident.name or '-'}  {resident.openid}  {signup.status}{checked}")
        return "\n".join(lines)
    _run(config_path, community, work)


@activity.command("checkin")
@config_option
@community_option
@by_option
@click.argument("number", type=int)
@click.option("--openid", required=True)
def activity_checkin(config_path, community, actor, number, openid) -> None:
    """Mark a resident present (points are granted once), from the start until the grace period
    after the end ([points] attendance_grace_minutes)."""
    from bot.cli import _settings

    grace = timedelta(minutes=_settings(config_path).points.attendance_grace_minutes)

    async def work(session, community_id, now, settings):
        found = await _activity(session, community_id, number)
        resident = await _resident(session, community_id, openid)
        done = await activities.mark_attended(session, activity=found, resident_id=resident.id, actor=actor, now=now,
                                              grace=grace)
        return f"已签到，发放 {found.points} 积分" if done else "这位居民已经签到过了，积分不会重复发放"
    _run(config_path, community, work)


@activity.command("cancel")
@config_option
@community_option
@by_option
@click.argument("number", type=int)
@click.option("--reason", default="", help="Told to the residents signed up.")
def activity_cancel(config_path, community, actor, number, reason) -> None:
    """Call an activity off; everyone confirmed or waiting is told by chat."""
    from bot.cli import _settings

    settings = _settings(config_path)
    slug = community or settings.communities[0].slug
    account = next((a.name for a in settings.accounts if a.community == slug), None)

    async def work(session, community_id, now, settings):
        found = await _activity(session, community_id, number)
        people = await activities.cancel_activity(session, activity_id=found.id, actor=actor, now=now,
                                                  reason=reason.strip()[:100])
        told = 0
        if account is not None:
            told = await queue_cancellation(session, found, people, account=account, reason=reason.strip()[:100],
                                            now=now)
        return f"已取消活动 {found.number}：{found.title}，通知 {told} 位报名的居民"
    _run(config_path, community, work)


@activity.command("capacity")
@config_option
@community_option
@by_option
@click.argument("number", type=int)
@click.argument("capacity", type=click.IntRange(min=1))
def activity_capacity(config_path, community, actor, number, capacity) -> None:
    """Change the number of places; added places go to the waitlist (they are told by chat)."""
    from bot.cli import _settings

    settings = _settings(config_path)
    slug = community or settings.communities[0].slug
    account = next((a.name for a in settings.accounts if a.community == slug), None)

    async def work(session, community_id, now, settings):
        found = await _activity(session, community_id, number)
        promoted = await activities.set_capacity(session, activity_id=found.id, capacity=capacity, actor=actor, now=now)
        if account is not None:
            await queue_promotions(session, found, promoted, account=account, now=now)
        return f"名额改为 {capacity}，候补转正 {len(promoted)} 人"
    _run(config_path, community, work)


# ---- the mall -----------------------------------------------------------------------------------

@points.group()
def item() -> None:
    """Points mall items."""


@item.command("add")
@config_option
@community_option
@by_option
@click.option("--name", required=True)
@click.option("--cost", required=True, type=click.IntRange(min=1))
@click.option("--stock", required=True, type=click.IntRange(min=0))
@click.option("--description", default="")
def item_add(config_path, community, actor, name, cost, stock, description) -> None:
    async def work(session, community_id, now, settings):
        added = await mall.add_item(session, community_id=community_id, name=name, cost=cost, stock=stock,
                                    description=description, actor=actor, now=now)
        return f"已上架 {added.number}. {added.name}：{added.cost} 分，库存 {added.stock}"
    _run(config_path, community, work)


@item.command("list")
@config_option
@community_option
def item_list(config_path, community) -> None:
    async def work(session, community_id, now, settings):
        listed = await mall.items(session, community_id, include_disabled=True)
        return "\n".join(f"{i.number}. {i.name}  {i.cost}分  库存 {i.stock}{'' if i.enabled else '  (已下架)'}"
                         for i in listed) or "积分超市还没有商品"
    _run(config_path, community, work)


@item.command("restock")
@config_option
@community_option
@by_option
@click.argument("number", type=int)
@click.argument("add", type=int)
def item_restock(config_path, community, actor, number, add) -> None:
    """Add units (negative: take some off the shelf)."""
    async def work(session, community_id, now, settings):
        found = await mall.find_item(session, community_id, number=number)
        if found is None:
            raise LookupError(f"没有编号为 {number} 的商品")
        return f"{found.name} 库存现为 {await mall.restock(session, item_id=found.id, add=add, actor=actor, now=now)}"
    _run(config_path, community, work)


@points.group()
def order() -> None:
    """Points mall orders."""


@order.command("pickup")
@config_option
@community_option
@by_option
@click.argument("code")
def order_pickup(config_path, community, actor, code) -> None:
    """Hand over an order against its pickup code."""
    async def work(session, community_id, now, settings):
        done = await mall.pick_up(session, community_id=community_id, pickup_code=code, actor=actor, now=now)
        name = (await mall.get_item(session, done.item_id)).name
        return f"已领取：{name}（订单 {done.id}）"
    _run(config_path, community, work)


# ---- points -------------------------------------------------------------------------------------

@points.command("adjust")
@config_option
@community_option
@by_option
@click.option("--openid", required=True)
@click.option("--delta", required=True, type=int, help="Points to add (negative: take away).")
@click.option("--reason", required=True, help="Shown to the resident and kept in the audit trail.")
def adjust(config_path, community, actor, openid, delta, reason) -> None:
    """Correct a resident's points, with a reason."""
    async def work(session, community_id, now, settings):
        resident = await _resident(session, community_id, openid)
        await ledger.adjust(session, community_id=community_id, resident_id=resident.id, delta=delta, reason=reason,
                            actor=actor, now=now)
        return f"已调整 {delta:+d} 分，余额 {(await ledger.balance(session, resident.id)).balance} 分"
    _run(config_path, community, work)


@points.command("resources")
@config_option
@community_option
@click.argument("words", nargs=-1)
def search_resources(config_path, community, words) -> None:
    """Search the resources list (skills and free time), e.g. `linli points resources 电器 周末`."""
    async def work(session, community_id, now, settings):
        found = await resources.search(session, community_id, " ".join(words))
        return "\n".join(f"{r.name or '-'}  {r.phone or '-'}  {r.openid}  会：{'、'.join(e.skills) or '-'}  "
                         f"有空：{'、'.join(e.availability) or '-'}  原话：{e.said}" for e, r in found) or "没有找到"
    _run(config_path, community, work)


@points.command("check")
@config_option
@community_option
def check(config_path, community) -> None:
    """Verify that every cached balance equals its ledger."""
    async def work(session, community_id, now, settings):
        wrong = await ledger.inconsistencies(session, community_id)
        return "\n".join(f"居民 {rid}: 缓存 {cached} ≠ 账本 {real}" for rid, cached, real in wrong) or "账目一致"
    _run(config_path, community, work)


def _run(config_path: str | None, community: str | None, work) -> None:
    run_in_community(config_path, community, work, refusals=(LookupError, ValueError, mall.OutOfStock, mall.NotCancellable, ledger.InsufficientPoints), explain=_explain)

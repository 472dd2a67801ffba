"""Points (积分制管理) in the console: adjustments, the points mall and its orders, the monthly
leaderboard, volunteer activities with their sign-ups, check-in and cancellation, and the
resources list. Every change goes through storage.points (which keeps its own points audit) and
is also written to the staff audit log."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from aiohttp import web

from bot.console import view as cw
from bot.points_jobs import queue_cancellation
from bot.texts import console as texts
from bot.texts import points as points_texts
from nlp.timephrase import SHANGHAI
from storage.points import activities as activity_store
from storage.points import audit as points_audit
from storage.points import leaderboard, ledger, mall, resources
from storage.points_models import MallItem, MallOrder
from storage.staff import points_admin


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/manage/points", page)
    router.add_get("/manage/points/leaderboard", leaderboard_page)
    router.add_get("/manage/resources", resources_page)
    router.add_post("/manage/points/adjust", adjust)
    router.add_post("/manage/mall", item_add)
    router.add_post("/manage/mall/{id:\\d+}/restock", item_restock)
    router.add_post("/manage/mall/{id:\\d+}/enable", item_enable)
    router.add_post("/manage/orders/pickup", order_pickup)
    router.add_post("/manage/orders/{id:\\d+}/cancel", order_cancel)
    router.add_get("/manage/activities", activities_page)
    router.add_post("/manage/activities", activity_create)
    router.add_get("/manage/activities/{id:\\d+}", activity_page)
    router.add_post("/manage/activities/{id:\\d+}/attend", activity_attend)
    router.add_post("/manage/activities/{id:\\d+}/cancel", activity_cancel)


async def page(request: web.Request, *, error: str | None = None, status: int = 200) -> web.Response:
    member, services = cw.manager(request), cw.services(request)
    async with services.db.sessions() as session:
        context = {"items": await mall.items(session, member.community_id, include_disabled=True),
                   "orders": await points_admin.open_orders(session, member.community_id),
                   "history": await points_audit.recent(session, member.community_id, limit=30), "error": error}
    return await cw.render(request, "manage/points.html", context, status=status)


async def _change(request: web.Request, action: str, done: str, work, back=page, path: str = "/manage/points"):
    """Run one change with its staff-audit row; a refusal (ValueError and the points errors) is shown."""
    services = cw.services(request)
    form = await request.post()
    try:
        async with services.db.sessions.begin() as session:
            target = await work(session, form, services.clock())
            await cw.audit(session, request, action, target=target)
    except cw.Refused as exc:
        return await back(request, error=exc.message, status=exc.status)
    except (ValueError, ledger.InsufficientPoints, mall.OutOfStock, mall.NotCancellable) as exc:
        return await back(request, error=texts.POINTS_ERRORS.get(type(exc).__name__, texts.POINTS_REFUSED), status=409)
    raise cw.see_other(path, done=done)


async def adjust(request: web.Request) -> web.StreamResponse:
    member = cw.manager(request)

    async def work(session, form, now):
        found = await points_admin.find_resident(session, member.community_id, str(form.get("who", "")))
        if len(found) != 1:
            raise cw.Refused(texts.RESIDENT_NOT_FOUND if not found else texts.RESIDENT_AMBIGUOUS)
        delta = cw.int_or_none(str(form.get("delta", "")))
        reason = str(form.get("reason", "")).strip()[:200]
        if not delta or not reason:
            raise cw.Refused(texts.BAD_INPUT.format(what="请填写积分变动（非零整数）和原因"))
        await ledger.adjust(session, community_id=member.community_id, resident_id=found[0].id, delta=delta,
                            reason=reason, actor=member.audit_name, now=now)
        return f"resident:{found[0].id}"
    return await _change(request, "points.adjust", "saved", work)


async def item_add(request: web.Request) -> web.StreamResponse:
    member = cw.manager(request)

    async def work(session, form, now):
        name = str(form.get("name", "")).strip()[:50]
        cost, stock = cw.int_or_none(str(form.get("cost", ""))), cw.int_or_none(str(form.get("stock", "")))
        if not name or cost is None or stock is None:
            raise cw.Refused(texts.BAD_INPUT.format(what="名称、所需积分和库存都要填写"))
        item = await mall.add_item(session, community_id=member.community_id, name=name, cost=cost, stock=stock,
                                   actor=member.audit_name, now=now,
                                   description=str(form.get("description", "")).strip()[:200])
        return f"mall_item:{item.id}"
    return await _change(request, "mall.add", "created", work)


async def _item(session, request: web.Request) -> MallItem:
    item = await session.get(MallItem, cw.path_id(request))
    if item is None or item.community_id != cw.staff(request).community_id:
        raise web.HTTPNotFound()
    return item


async def item_restock(request: web.Request) -> web.StreamResponse:
    member = cw.manager(request)

    async def work(session, form, now):
        item = await _item(session, request)
        add = cw.int_or_none(str(form.get("add", "")))
        if not add:
            raise cw.Refused(texts.BAD_INPUT.format(what="补充数量"))
        await mall.restock(session, item_id=item.id, add=add, actor=member.audit_name, now=now)
        return f"mall_item:{item.id}"
    return await _change(request, "mall.restock", "saved", work)


async def item_enable(request: web.Request) -> web.StreamResponse:
    member = cw.manager(request)

    async def work(session, form, now):
        item = await _item(session, request)
        await mall.set_enabled(session, item_id=item.id, enabled=form.get("enabled") == "1", actor=member.audit_name,
                               now=now)
        return f"mall_item:{item.id}"
    return await _change(request, "mall.enable", "saved", work)


async def order_pickup(request: web.Request) -> web.StreamResponse:
    member = cw.manager(request)

    async def work(session, form, now):
        order = await mall.pick_up(session, community_id=member.community_id,
                                   pickup_code=str(form.get("code", "")).strip()[:8], actor=member.audit_name, now=now)
        return f"order:{order.id}"
    return await _change(request, "order.pickup", "saved", work)


async def order_cancel(request: web.Request) -> web.StreamResponse:
    member = cw.manager(request)

    async def work(session, form, now):
        order = await session.get(MallOrder, cw.path_id(request))
        if order is None or order.community_id != member.community_id:
            raise web.HTTPNotFound()
        await mall.cancel(session, order_id=order.id, now=now, actor=member.audit_name)
        return f"order:{order.id}"
    return await _change(request, "order.cancel", "saved", work)


# ---- activities ---------------------------------------------------------------------------------

async def activities_page(request: web.Request, *, error: str | None = None, status: int = 200) -> web.Response:
    member, services = cw.manager(request), cw.services(request)
    async with services.db.sessions() as session:
        rows = await points_admin.activities(session, member.community_id)
    return await cw.render(request, "manage/activities.html", {"rows": rows, "error": error}, status=status)


def _local(value: str) -> datetime:
    """A datetime-local field (Asia/Shanghai) as an aware datetime."""
    return datetime.fromisoformat(value).replace(tzinfo=SHANGHAI)


_TAG_SPLIT = re.compile(r"[,，、;；\s]+")


def _tags(value: str) -> list[str]:
    """"环境，助老 环境" → ["环境", "助老"]: up to ten short tags, each once."""
    return list(dict.fromkeys(tag[:20] for tag in _TAG_SPLIT.split(value.strip()) if tag))[:10]


async def activity_create(request: web.Request) -> web.StreamResponse:
    member, services = cw.manager(request), cw.services(request)

    async def work(session, form, now):
        title, place = str(form.get("title", "")).strip()[:100], str(form.get("place", "")).strip()[:100]
        capacity = cw.int_or_none(str(form.get("capacity", "")))
        if not title or not place or not capacity:
            raise cw.Refused(texts.BAD_INPUT.format(what="名称、地点和人数都要填写"))
        starts, ends = _local(str(form.get("starts_at", ""))), _local(str(form.get("ends_at", "")))
        deadline = str(form.get("signup_deadline", "")).strip()
        activity = await activity_store.create(
            session, community_id=member.community_id, title=title, place=place, starts_at=starts, ends_at=ends,
            capacity=capacity, actor=member.audit_name, now=now, points=cw.int_or_none(str(form.get("points", ""))),
            per_hour=services.settings.points.per_volunteer_hour, signup_deadline=_local(deadline) if deadline else None,
            tags=_tags(str(form.get("tags", ""))), description=str(form.get("description", "")).strip()[:500])
        return f"activity:{activity.id}"
    return await _change(request, "activity.create", "created", work, back=activities_page, path="/manage/activities")


async def activity_page(request: web.Request, *, error: str | None = None, status: int = 200) -> web.Response:
    member, services = cw.manager(request), cw.services(request)
    async with services.db.sessions() as session:
        activity = await points_admin.activity(session, member.community_id, cw.path_id(request))
        if activity is None:
            raise web.HTTPNotFound()
        people = await activity_store.signups(session, activity.id)
    return await cw.render(request, "manage/activity.html", {"activity": activity, "people": people, "error": error},
                           status=status)


async def activity_attend(request: web.Request) -> web.StreamResponse:
    member = cw.manager(request)
    activity_id = cw.path_id(request)

    async def work(session, form, now):
        activity = await points_admin.activity(session, member.community_id, activity_id)
        if activity is None:
            raise web.HTTPNotFound()
        found = await points_admin.find_resident(session, member.community_id, str(form.get("who", "")))
        if len(found) != 1:
            raise cw.Refused(texts.RESIDENT_NOT_FOUND if not found else texts.RESIDENT_AMBIGUOUS)
        grace = timedelta(minutes=cw.services(request).settings.points.attendance_grace_minutes)
        try:
            await activity_store.mark_attended(session, activity=activity, resident_id=found[0].id,
                                               actor=member.audit_name, now=now, grace=grace)
        except activity_store.OutsideWindow:
            raise cw.Refused(points_texts.STAFF_ATTEND_OUTSIDE.format(
                start=points_texts.moment(activity.starts_at), until=points_texts.moment(activity.ends_at + grace)),
                status=409) from None
        except activity_store.NotOpen:
            raise cw.Refused(points_texts.STAFF_ACTIVITY_CANCELLED, status=409) from None
        return f"activity:{activity.id}"
    return await _change(request, "activity.attend", "saved", work, back=activity_page,
                         path=f"/manage/activities/{activity_id}")


async def activity_cancel(request: web.Request) -> web.StreamResponse:
    """Call an activity off; everyone confirmed or waiting is told through the outbox."""
    member = cw.manager(request)
    activity_id = cw.path_id(request)

    async def work(session, form, now):
        activity = await points_admin.activity(session, member.community_id, activity_id)
        if activity is None:
            raise web.HTTPNotFound()
        reason = str(form.get("reason", "")).strip()[:100]
        try:
            people = await activity_store.cancel_activity(session, activity_id=activity.id, actor=member.audit_name,
                                                          now=now, reason=reason)
        except activity_store.NotOpen:
            raise cw.Refused(points_texts.STAFF_ACTIVITY_CANCELLED, status=409) from None
        account = cw.account_for(request, member.community_id)
        if account is not None:
            await queue_cancellation(session, activity, people, account=account, reason=reason, now=now)
        return f"activity:{activity.id}"
    return await _change(request, "activity.cancel", "saved", work, back=activity_page,
                         path=f"/manage/activities/{activity_id}")


# ---- the leaderboard and the resources list ---------------------------------------------------

BOARD_ROWS = 50
_MONTH = re.compile(r"(\d{4})-(\d{2})")


def _month(value: str, now: datetime) -> datetime:
    """The first moment (Shanghai) of the ``YYYY-MM`` month asked for; this month when absent or bad."""
    found = _MONTH.fullmatch(value.strip())
    if found and 2000 <= int(found.group(1)) <= 2100 and 1 <= int(found.group(2)) <= 12:
        return datetime(int(found.group(1)), int(found.group(2)), 1, tzinfo=SHANGHAI)
    return leaderboard.month_of(now, SHANGHAI)[0]


def _ranked(board: leaderboard.Board, grid_id: int | None = None) -> list[tuple[int, leaderboard.Standing]]:
    """Everyone with points in the scope, with their rank; staff also see those who opted out."""
    scope = [s for s in board.standings if grid_id is None or s.grid_id == grid_id]
    return [(board.position_of(s.resident_id, grid_id), s) for s in scope[:BOARD_ROWS]]


async def leaderboard_page(request: web.Request) -> web.Response:
    """亮积分 for staff: points earned in one month, ranked in the community and in each grid."""
    member, services = cw.manager(request), cw.services(request)
    start = _month(request.query.get("month", ""), services.clock())
    end = leaderboard.month_of(start, SHANGHAI)[1]
    async with services.db.sessions() as session:
        board = await leaderboard.board(session, member.community_id, start, end)
        grids = await leaderboard.grid_names(session, member.community_id)
    by_grid = [(name, _ranked(board, grid_id)) for grid_id, name in sorted(grids.items())]
    return await cw.render(request, "manage/leaderboard.html", {
        "month": f"{start:%Y-%m}", "month_name": points_texts.month_name(start), "community": _ranked(board),
        "grids": [(name, rows) for name, rows in by_grid if rows]})


async def resources_page(request: web.Request) -> web.Response:
    """资源清单: residents' skills and free time, searched by words ("电器 周末")."""
    member, services = cw.manager(request), cw.services(request)
    q = request.query.get("q", "").strip()[:50]
    async with services.db.sessions() as session:
        rows = await resources.search(session, member.community_id, q)
    return await cw.render(request, "manage/resources.html", {"rows": rows, "q": q})

"""Points in chat: 我的积分, 积分明细 (paged), 比积分, 积分超市, 兑换 → 确认, 取消兑换, 退订排行.

Two routers: ``steps`` answers the replies a points dialog waits for ("确认", "下一页") and is
included before the clarify router, because a bare "确认" is exactly what the classifier is unsure
about; ``router`` answers the points_query intent, by the ``action`` slot the command rules set.

Spending points needs an explicit "确认" (or 确定/是的/对) as the very next message after the
question: any other message ends the question, so a "好" said later to something else never
places an order. Steps read the normalised message, so traditional characters work too.
"""

from __future__ import annotations

import re

from bot.dispatcher.context import Context
from bot.dispatcher.router import Router
from bot.replies import Reply, Text
from bot.texts import points as t
from nlp.normalize import normalize
from storage.points import leaderboard, ledger, mall, turns

router = Router("points")
steps = Router("points-steps")

REDEEM_STATE = "points.redeem"
HISTORY_STATE = "points.history"
RECENT_LINES = 5

# Spending points takes an unmistakable yes; a bare "好" or "嗯" is asked again (REDEEM_SAY_CONFIRM).
_CONFIRM = re.compile(r"(?:确认|确定)(?:兑换)?|是的|对的?")
_MAYBE_YES = re.compile(r"好[的吧啊呀]?|行|可以|嗯+|ok|yes|要|换|兑换吧", re.IGNORECASE)
_DECLINE = re.compile(r"不换了?|不要了?|不用了?|算了|取消|不|否|再想想|no", re.IGNORECASE)
_NEXT = re.compile(r"下一?页|更多|继续|再看看")
_TRAILING = re.compile(r"[\s。.!！~～]+$")


def said(ctx: Context) -> str:
    """The message as the NLU normalised it (simplified, half-width, lower case), so a step matches
    "確認" and "下一頁" as well as "确认"; normalised here when the NLU did not run (a menu click)."""
    normalized = getattr(ctx.nlu, "normalized", "") if ctx.nlu is not None else ""
    return normalized or normalize(ctx.text)


def says(pattern: re.Pattern):
    """A filter: the whole message (normalised, without trailing punctuation) matches the pattern."""
    return lambda ctx: bool(pattern.fullmatch(_TRAILING.sub("", said(ctx))))


def action(*names: str):
    """A filter on the ``action`` slot set by the command rules in nlp/rules.py."""
    return lambda ctx: ctx.nlu is not None and ctx.nlu.slots.get("action") in names


def slot(ctx: Context, name: str):
    return ctx.nlu.slots.get(name) if ctx.nlu is not None else None


# ---- balance, history, ranks --------------------------------------------------------------------

@router.on(action("history"), intent="points_query")
async def history(ctx: Context) -> Reply:
    return await _history_page(ctx, page=1, before_id=None)


@steps.on(says(_NEXT), state=HISTORY_STATE)
async def next_page(ctx: Context) -> Reply:
    data = ctx.dialog.data
    return await _history_page(ctx, page=data.get("page", 1) + 1, before_id=data.get("before_id"))


async def _history_page(ctx: Context, *, page: int, before_id: int | None) -> Reply:
    session = await ctx.db()
    lines, more = await ledger.history(session, ctx.resident.id, limit=ctx.settings.points.history_page_size,
                                       before_id=before_id)
    if not lines:
        ctx.dialog.finish()
        return Text(t.NO_MORE_PAGES if before_id else t.HISTORY_EMPTY)
    if more:
        ctx.dialog.goto(HISTORY_STATE, page=page, before_id=lines[-1].entry.id)
    else:
        ctx.dialog.finish()
    shown = "\n".join(t.HISTORY_LINE.format(line=entry_line(line.entry), balance=line.balance_after) for line in lines)
    return Text(t.HISTORY.format(page=page, lines=shown) + (t.HISTORY_MORE if more else t.HISTORY_END))


def entry_line(entry) -> str:
    return f"{t.short_date(entry.created_at)} {t.signed(entry.delta)} {entry.reason}"


@router.on(action("rank"), intent="points_query")
async def rank(ctx: Context) -> Reply:
    session = await ctx.db()
    mine = await leaderboard.ranks(session, ctx.resident)
    board = await leaderboard.board(session, ctx.community_id, *leaderboard.month_of(ctx.now, t.LOCAL))
    top = board.top(ctx.settings.points.leaderboard_size)
    return Text(t.RANKING.format(earned=mine.earned, ranks=ranks_text(mine), top=t.board_lines(top) or t.BOARD_EMPTY))


def ranks_text(mine: leaderboard.Ranks) -> str:
    if mine.community.position is None:
        return t.NO_RANK
    parts = []
    if mine.grid is not None and mine.grid.position is not None:
        parts.append(t.RANK_GRID.format(grid=mine.grid_name, position=mine.grid.position, among=mine.grid.among))
    parts.append(t.RANK_COMMUNITY.format(position=mine.community.position, among=mine.community.among))
    return "，".join(parts)


@router.on(action("rank_off"), intent="points_query")
async def leaderboard_off(ctx: Context) -> Reply:
    await leaderboard.set_opt_out(await ctx.db(), community_id=ctx.community_id, resident_id=ctx.resident.id,
                                  opted_out=True, now=ctx.now)
    return Text(t.OPTED_OUT)


@router.on(action("rank_on"), intent="points_query")
async def leaderboard_on(ctx: Context) -> Reply:
    await leaderboard.set_opt_out(await ctx.db(), community_id=ctx.community_id, resident_id=ctx.resident.id,
                                  opted_out=False, now=ctx.now)
    return Text(t.OPTED_IN)


# ---- the mall -----------------------------------------------------------------------------------

@router.on(action("mall"), intent="points_query")
async def show_mall(ctx: Context) -> Reply:
    return Text(await _mall_text(ctx))


async def _mall_text(ctx: Context) -> str:
    session = await ctx.db()
    listed = await mall.items(session, ctx.community_id)
    if not listed:
        return t.MALL_EMPTY
    lines = [(t.MALL_LINE if item.stock > 0 else t.MALL_LINE_SOLD_OUT).format(
        number=item.number, name=item.name, cost=item.cost, stock=item.stock) for item in listed]
    balance = (await ledger.balance(session, ctx.resident.id)).balance
    return t.MALL.format(balance=balance, items="\n".join(lines), example=listed[0].number)


@router.on(action("redeem"), intent="points_query")
async def redeem(ctx: Context) -> Reply:
    session = await ctx.db()
    number, name = slot(ctx, "number"), slot(ctx, "item")
    item = await mall.find_item(session, ctx.community_id, number=number, name=name)
    if item is None:
        wanted = str(number) if number is not None else (name or "")
        shown = await _mall_text(ctx)
        return Text(t.REDEEM_NOT_FOUND.format(wanted=wanted, mall=shown) if wanted else shown)
    return await _ask_to_redeem(ctx, item)


async def _ask_to_redeem(ctx: Context, item) -> Reply:
    """Ask for the confirmation; remember the last message seen, so only the very next one confirms."""
    if item.stock <= 0:
        return Text(t.REDEEM_OUT_OF_STOCK.format(name=item.name))
    session = await ctx.db()
    balance = (await ledger.balance(session, ctx.resident.id)).balance
    if balance < item.cost:
        return Text(await _short_of_points(ctx, item))
    asked = await turns.last_message_id(session, ctx.community_id, ctx.event.openid)
    ctx.dialog.goto(REDEEM_STATE, item_id=item.id, asked_after=asked)
    return Text(t.REDEEM_CONFIRM.format(cost=item.cost, name=item.name, after=balance - item.cost))


@steps.on(says(_CONFIRM), state=REDEEM_STATE)
async def confirm_redeem(ctx: Context) -> Reply:
    data = ctx.dialog.data
    item_id = data["item_id"]
    ctx.dialog.finish()
    session = await ctx.db()
    if await _interrupted(ctx, data.get("asked_after")):
        return Text(t.REDEEM_INTERRUPTED)
    try:
        order = await mall.redeem(session, community_id=ctx.community_id, resident_id=ctx.resident.id,
                                  item_id=item_id, source_key=f"{ctx.event.account}:{ctx.event.dedup_key}",
                                  now=ctx.now)
    except mall.OutOfStock:
        return Text(t.REDEEM_OUT_OF_STOCK.format(name=(await mall.get_item(session, item_id)).name))
    except ledger.InsufficientPoints:
        return Text(await _short_of_points(ctx, await mall.get_item(session, item_id)))
    balance = (await ledger.balance(session, ctx.resident.id)).balance
    return Text(t.REDEEM_DONE.format(name=(await mall.get_item(session, item_id)).name, cost=order.cost,
                                     balance=balance, code=order.pickup_code))


async def _interrupted(ctx: Context, asked_after: int | None) -> bool:
    """Did the resident send anything between the question and this confirmation? Messages that
    earlier routers answered (a photo, a menu event, 转人工) never reach the steps below, so the
    message log, not the dialog, says whether this is the very next message."""
    if asked_after is None:
        return False
    since = await turns.messages_after(await ctx.db(), ctx.community_id, ctx.event.openid, asked_after)
    return since > 1  # this confirmation is one of them


async def _short_of_points(ctx: Context, item) -> str:
    balance = (await ledger.balance(await ctx.db(), ctx.resident.id)).balance
    return t.REDEEM_SHORT.format(name=item.name, cost=item.cost, balance=balance, missing=max(item.cost - balance, 0))


def _confirmation_expired(ctx: Context) -> bool:
    return ctx.dialog is not None and ctx.dialog.expired_state == REDEEM_STATE and says(_CONFIRM)(ctx)


@steps.on(_confirmation_expired)
async def confirm_too_late(ctx: Context) -> Reply:
    """A "确认" long after the question: the price or stock may have changed, so ask again."""
    return Text(t.REDEEM_EXPIRED)


@steps.on(says(_DECLINE), state=REDEEM_STATE)
async def abandon_redeem(ctx: Context) -> Reply:
    ctx.dialog.finish()
    return Text(t.REDEEM_ABANDONED)


@steps.on(says(_MAYBE_YES), state=REDEEM_STATE)
async def ask_plainly(ctx: Context) -> Reply:
    """"好" or "嗯" may be a yes or just an acknowledgement: points are spent only on "确认"."""
    session = await ctx.db()
    item = await mall.get_item(session, ctx.dialog.data["item_id"])
    ctx.dialog.goto(REDEEM_STATE, asked_after=await turns.last_message_id(session, ctx.community_id, ctx.event.openid))
    return Text(t.REDEEM_SAY_CONFIRM.format(name=item.name))


def _leave_step(ctx: Context) -> bool:
    """Any other message ends a pending redemption or history paging, so a "确认" or "下一页" said
    later, after other business, cannot act on a stale question. Never matches: the message goes
    on to whichever handler answers it (the pattern of handlers/misunderstood.py)."""
    ctx.dialog.finish()
    return False


@steps.on(_leave_step, state=(REDEEM_STATE, HISTORY_STATE))
async def _never(ctx: Context) -> Reply | None:  # pragma: no cover - the filter never matches
    return None


# ---- orders -------------------------------------------------------------------------------------

def _order_lines(orders: list[mall.OpenOrder]) -> str:
    return "\n".join(t.ORDER_LINE.format(n=n, name=o.item_name, code=o.order.pickup_code)
                     for n, o in enumerate(orders, 1))


@router.on(action("orders"), intent="points_query")
async def orders(ctx: Context) -> Reply:
    waiting = await mall.open_orders(await ctx.db(), ctx.resident.id)
    return Text(t.ORDERS.format(orders=_order_lines(waiting)) if waiting else t.ORDERS_NONE)


@router.on(action("cancel_redeem"), intent="points_query")
async def cancel_order(ctx: Context) -> Reply:
    session = await ctx.db()
    waiting = await mall.open_orders(session, ctx.resident.id)
    number = slot(ctx, "number")
    if not waiting:
        return Text(t.ORDERS_NONE)
    if number is None and len(waiting) > 1:
        return Text(t.CANCEL_WHICH.format(count=len(waiting), orders=_order_lines(waiting)))
    index = 0 if number is None else number - 1
    if not 0 <= index < len(waiting):
        return Text(t.CANCEL_NO_SUCH.format(n=number, orders=_order_lines(waiting)))
    chosen = waiting[index]
    try:
        order = await mall.cancel(session, order_id=chosen.order.id, now=ctx.now)
    except mall.NotCancellable:
        return Text(t.CANCEL_TOO_LATE)
    balance = (await ledger.balance(session, ctx.resident.id)).balance
    return Text(t.CANCEL_DONE.format(name=chosen.item_name, cost=order.cost, balance=balance))


# ---- the default: balance -----------------------------------------------------------------------

_GUESSES = ((re.compile(r"超市|商城|兑换|换什么|能换"), "mall"), (re.compile(r"明细|记录|怎么来的"), "history"),
            (re.compile(r"排名|排行|第几"), "rank"))


_WANTS_ITEM = re.compile(r"兑|换|要|领")


@router.on(intent="points_query")
async def points_default(ctx: Context) -> Reply:
    """A free-worded points question ("我有多少积分", "积分能换什么", "我想兑换洗衣液") or the menu button."""
    item = await _named_item(ctx)
    if item is not None:
        return await _ask_to_redeem(ctx, item)
    guessed = next((name for pattern, name in _GUESSES if pattern.search(said(ctx))), None)
    if guessed == "mall":
        return await show_mall(ctx)
    if guessed == "history":
        return await history(ctx)
    if guessed == "rank":
        return await rank(ctx)
    return await balance(ctx)


async def _named_item(ctx: Context):
    """The one mall item a wish to redeem names ("我想兑换洗衣液"), if it names exactly one."""
    text = said(ctx)
    if not _WANTS_ITEM.search(text):
        return None
    listed = await mall.items(await ctx.db(), ctx.community_id)
    named = [item for item in listed if item.name and normalize(item.name) in text]
    return named[0] if len(named) == 1 else None


async def balance(ctx: Context) -> Reply:
    session = await ctx.db()
    lines, _ = await ledger.history(session, ctx.resident.id, limit=RECENT_LINES)
    if not lines:
        return Text(t.NO_POINTS)
    current = await ledger.balance(session, ctx.resident.id)
    mine = await leaderboard.ranks(session, ctx.resident)
    return Text(t.BALANCE.format(balance=current.balance, earned=current.earned, ranks=ranks_text(mine),
                                 lines="\n".join(entry_line(line.entry) for line in lines)))

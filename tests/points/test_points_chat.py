"""Points in chat, through the real endpoint: balance, history, ranks, the mall, redeeming,
cancelling, and opting out of the leaderboard."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from bot.texts import points as t
from storage.points_models import MallItem, MallOrder, PointsAccount, PointsEntry


async def _count(db, model, *where) -> int:
    async with db.sessions() as session:
        return await session.scalar(select(func.count()).select_from(model).where(*where))


async def test_a_newcomer_is_told_how_to_earn_points(wechat):
    assert await wechat.resident("o_new").say("我的积分") == t.NO_POINTS


async def test_balance_shows_the_last_five_entries_and_ranks_in_grid_and_community(wechat, staff, clock):
    await staff.resident("o_me", name="张建国", building="3栋", grid="第一网格")
    await staff.resident("o_grid_rival", building="4栋", grid="第一网格")
    await staff.resident("o_far", building="9栋", grid="第三网格")
    for n in range(1, 7):
        await staff.give("o_me", 10, reason=f"第{n}次活动", at=clock() - timedelta(days=7 - n))
    await staff.give("o_grid_rival", 100)
    await staff.give("o_far", 200)
    reply = await wechat.resident("o_me").say("我的积分")
    assert "您现有 60 积分（累计获得 60 分）" in reply
    assert "在第一网格排第 2 名（共 2 人）" in reply and "在社区排第 3 名（共 3 人有积分）" in reply
    assert [f"第{n}次活动" in reply for n in range(1, 7)] == [False, True, True, True, True, True]
    assert reply.index("第6次活动") < reply.index("第2次活动")  # newest first


async def test_free_wording_and_the_menu_button_both_show_the_balance(wechat, staff):
    await staff.give("o_menu", 15)
    chat = wechat.resident("o_menu")
    assert "您现有 15 积分" in await chat.say("我现在有多少积分啊")
    assert "您现有 15 积分" in (await chat.event("CLICK", "intent:points_query")).text


async def test_history_is_paged_with_next_page(wechat, staff, services, clock):
    size = services.settings.points.history_page_size
    for n in range(size + 3):
        await staff.give("o_hist", 1, reason=f"记录{n:02d}", at=clock() - timedelta(hours=size + 3 - n))
    chat = wechat.resident("o_hist")
    first = await chat.say("积分明细")
    assert "第 1 页" in first and t.HISTORY_MORE.strip() in first
    assert f"记录{size + 2:02d}" in first and "记录02" not in first
    assert f"（余 {size + 3}）" in first  # the newest line carries the current balance
    second = await chat.say("下一页")
    assert "第 2 页" in second and t.HISTORY_END.strip() in second
    assert [f"记录{n:02d}" in second for n in (0, 1, 2, 3)] == [True, True, True, False]
    assert "记录00（余 1）" in second
    assert await chat.say("下一页") != second  # the dialog is over: no third page of the same


async def test_history_is_empty_for_a_newcomer(wechat):
    assert await wechat.resident("o_none").say("积分明细") == t.HISTORY_EMPTY


async def test_compare_points_shows_rank_and_this_months_board(wechat, staff, clock):
    await staff.resident("o_cmp", name="李秀英", building="3栋")
    await staff.resident("o_top", name="王志强", building="6栋")
    await staff.give("o_cmp", 30)
    await staff.give("o_top", 50)
    await staff.give("o_top", 99, key="last-month", at=clock() - timedelta(days=40))
    reply = await wechat.resident("o_cmp").say("比积分")
    assert "您累计获得 30 分" in reply and "在社区排第 2 名" in reply
    assert "1. 6栋 王*强 50 分" in reply and "2. 3栋 李*英 30 分" in reply  # this month only, names masked
    assert await wechat.resident("o_cmp").say("排行") == reply


async def test_mall_lists_items_with_cost_and_stock(wechat, staff):
    await staff.give("o_shop", 45)
    await staff.item("洗衣液", cost=30, stock=5)
    await staff.item("大米", cost=80, stock=0)
    reply = await wechat.resident("o_shop").say("积分超市")
    assert "您现有 45 分" in reply
    assert "1. 洗衣液：30 分（剩 5 件）" in reply and "2. 大米：80 分（已兑完）" in reply


async def test_redeem_confirm_gives_an_order_with_a_pickup_code(wechat, staff, db):
    await staff.give("o_buy", 50)
    item = await staff.item("洗衣液", cost=30, stock=5)
    chat = wechat.resident("o_buy")
    assert await chat.say("兑换 1") == t.REDEEM_CONFIRM.format(cost=30, name="洗衣液", after=20)
    assert await _count(db, MallOrder) == 0  # nothing happens before the resident confirms
    done = await chat.say("确认")
    async with db.sessions() as session:
        order = await session.scalar(select(MallOrder))
    assert done == t.REDEEM_DONE.format(name="洗衣液", cost=30, balance=20, code=order.pickup_code)
    assert len(order.pickup_code) == 6 and order.status == "placed"
    assert (await staff.get(MallItem, item.id)).stock == 4
    assert (await staff.balance("o_buy")).balance == 20
    assert order.pickup_code in await chat.say("我的兑换")
    assert "确认" not in await chat.say("确认")  # the confirmation was used up: no second order
    assert await _count(db, MallOrder) == 1


async def test_redeem_by_name_and_changing_ones_mind(wechat, staff, db):
    await staff.give("o_name", 100)
    await staff.item("洗衣液", cost=30)
    await staff.item("大米（5斤）", cost=80)
    chat = wechat.resident("o_name")
    assert "兑换“大米（5斤）”" in await chat.say("兑换大米")
    assert await chat.say("不换了") == t.REDEEM_ABANDONED
    assert await _count(db, MallOrder) == 0
    assert "没有找到“酱油”" in await chat.say("兑换 酱油")


async def test_a_confirmation_after_the_dialog_expired_asks_to_start_again(wechat, staff, db, clock, services):
    await staff.give("o_slow", 50)
    await staff.item("洗衣液", cost=30)
    chat = wechat.resident("o_slow")
    await chat.say("兑换 1")
    clock.advance(minutes=services.settings.dialog.conversation_ttl_minutes + 1)
    assert await chat.say("确认") == t.REDEEM_EXPIRED
    assert await _count(db, MallOrder) == 0


async def test_redeem_is_refused_without_enough_points_or_stock(wechat, staff, db):
    await staff.give("o_poor", 10)
    await staff.item("洗衣液", cost=30, stock=1)
    await staff.item("理发券", cost=5, stock=0)
    chat = wechat.resident("o_poor")
    assert await chat.say("兑换 1") == t.REDEEM_SHORT.format(name="洗衣液", cost=30, balance=10, missing=20)
    assert await chat.say("兑换 2") == t.REDEEM_OUT_OF_STOCK.format(name="理发券")
    assert await _count(db, MallOrder) == 0


async def test_stock_running_out_between_question_and_confirmation(wechat, staff, db):
    item = await staff.item("洗衣液", cost=10, stock=1)
    for openid in ("o_first", "o_second"):
        await staff.give(openid, 10)
    first, second = wechat.resident("o_first"), wechat.resident("o_second")
    await first.say("兑换 1")
    await second.say("兑换 1")
    assert "兑换成功" in await first.say("确认")
    assert await second.say("确认") == t.REDEEM_OUT_OF_STOCK.format(name="洗衣液")
    assert (await staff.get(MallItem, item.id)).stock == 0
    assert (await staff.balance("o_second")).balance == 10


async def test_cancel_redemption_returns_points_and_restores_stock(wechat, staff, db):
    await staff.give("o_undo", 100)
    item = await staff.item("洗衣液", cost=30, stock=3)
    chat = wechat.resident("o_undo")
    for _ in range(2):
        await chat.say("兑换 1")
        await chat.say("确认")
    assert (await staff.balance("o_undo")).balance == 40
    assert "您有 2 个待领取的兑换" in await chat.say("取消兑换")  # which one?
    assert await chat.say("取消兑换 2") == t.CANCEL_DONE.format(name="洗衣液", cost=30, balance=70)
    assert await chat.say("取消兑换") == t.CANCEL_DONE.format(name="洗衣液", cost=30, balance=100)
    assert await chat.say("取消兑换") == t.ORDERS_NONE
    assert (await staff.get(MallItem, item.id)).stock == 3
    balance = await staff.balance("o_undo")
    assert (balance.balance, balance.earned) == (100, 100)  # spending and refunds do not touch earnings
    assert await _count(db, PointsEntry, PointsEntry.kind == "refund") == 2


async def test_leaderboard_opt_out_and_back(wechat, staff, db):
    chat = wechat.resident("o_shy")
    assert await chat.say("退订排行") == t.OPTED_OUT
    assert await _count(db, PointsAccount, PointsAccount.leaderboard_opt_out.is_(True)) == 1
    assert await chat.say("订阅排行") == t.OPTED_IN
    assert await _count(db, PointsAccount, PointsAccount.leaderboard_opt_out.is_(True)) == 0


# ---- audit of issue 6: traditional characters, stale confirmations, free wording ----------------

async def test_traditional_characters_work_in_the_follow_up_steps(wechat, staff, db, clock):
    await staff.give("o_trad", 50)
    await staff.item("洗衣液", cost=30, stock=5)
    chat = wechat.resident("o_trad")
    assert await chat.say("兌換 1") == t.REDEEM_CONFIRM.format(cost=30, name="洗衣液", after=20)
    assert (await chat.say("確認")).startswith("兑换成功")
    assert await _count(db, MallOrder) == 1
    for n in range(12):
        await staff.give("o_trad", 1, reason=f"记录{n:02d}", at=clock() - timedelta(hours=20 - n))
    assert "第 1 页" in await chat.say("積分明細")
    assert "第 2 页" in await chat.say("下一頁")


async def test_a_confirmation_after_other_business_spends_nothing(wechat, staff, db):
    """兑换 1 → 我的积分 → 报名 1 → 好: the question ended when another handler answered."""
    await staff.give("o_leak", 50)
    await staff.item("洗衣液", cost=30, stock=5)
    activity = await staff.activity("清洁家园")
    chat = wechat.resident("o_leak")
    await chat.say("兑换 1")
    assert "您现有 50 积分" in await chat.say("我的积分")
    assert "报名成功" in await chat.say(f"报名 {activity.number}")
    assert "兑换成功" not in (await chat.say("好") or "")
    assert "兑换成功" not in (await chat.say("确认") or "")
    assert await _count(db, MallOrder) == 0
    assert (await staff.balance("o_leak")).balance == 50


async def test_only_the_very_next_message_confirms(wechat, staff, db):
    """A message another router answers before the points steps (here a new subscribe event)
    still comes between the question and the "确认"; WeChat's automatic location report does not."""
    await staff.give("o_next", 100)
    await staff.item("洗衣液", cost=30, stock=5)
    chat = wechat.resident("o_next")
    await chat.say("兑换 1")
    await chat.event("subscribe")
    assert await chat.say("确认") == t.REDEEM_INTERRUPTED
    assert await _count(db, MallOrder) == 0
    await chat.say("兑换 1")
    await chat.event("LOCATION", Latitude="30.0", Longitude="112.1", Precision="30")
    assert (await chat.say("确认")).startswith("兑换成功")
    assert await _count(db, MallOrder) == 1


async def test_a_bare_ok_is_asked_again_and_only_confirm_spends(wechat, staff, db):
    await staff.give("o_ok", 50)
    await staff.item("洗衣液", cost=30, stock=5)
    chat = wechat.resident("o_ok")
    await chat.say("兑换 1")
    for vague in ("好", "嗯嗯", "可以"):
        assert await chat.say(vague) == t.REDEEM_SAY_CONFIRM.format(name="洗衣液")
    assert await _count(db, MallOrder) == 0
    assert (await chat.say("确定")).startswith("兑换成功")
    assert await _count(db, MallOrder) == 1


async def test_cancel_redemption_zero_is_no_such_order(wechat, staff, db):
    await staff.give("o_zero", 100)
    await staff.item("洗衣液", cost=30, stock=5)
    await staff.item("大米", cost=20, stock=5)
    chat = wechat.resident("o_zero")
    for number in (1, 2):
        await chat.say(f"兑换 {number}")
        await chat.say("确认")
    reply = await chat.say("取消兑换 0")
    assert reply.startswith("没有第 0 个待领取的兑换")
    assert await _count(db, MallOrder, MallOrder.status == "placed") == 2
    assert (await staff.balance("o_zero")).balance == 50


async def test_naming_an_item_starts_its_redemption(wechat, staff, db):
    await staff.give("o_want", 50)
    await staff.item("大米", cost=40, stock=5)
    await staff.item("洗衣液", cost=30, stock=5)
    chat = wechat.resident("o_want")
    assert await chat.say("我想兑换洗衣液") == t.REDEEM_CONFIRM.format(cost=30, name="洗衣液", after=20)
    assert (await chat.say("确认")).startswith("兑换成功")
    assert (await chat.say("积分能换什么")).startswith("积分超市")  # no item named: the mall


async def test_free_worded_rank_and_opt_out(wechat, staff, db):
    await staff.give("o_rank", 10)
    chat = wechat.resident("o_rank")
    assert "在社区排第 1 名" in await chat.say("我排第几")
    assert await chat.say("不想收到排行榜了") == t.OPTED_OUT
    assert await _count(db, PointsAccount, PointsAccount.leaderboard_opt_out.is_(True)) == 1


async def test_ledger_reasons_and_history_lines_come_from_the_texts(wechat, staff):
    await staff.give("o_why", 50, reason="补发")
    await staff.item("洗衣液", cost=30, stock=5)
    chat = wechat.resident("o_why")
    await chat.say("兑换 1")
    await chat.say("确认")
    await chat.say("取消兑换")
    page = await chat.say("积分明细")
    day = t.short_date(staff.clock())
    for line, balance in ((f"{day} +30 {t.REASON_REFUND.format(name='洗衣液')}", 50),
                          (f"{day} -30 {t.REASON_REDEEM.format(name='洗衣液')}", 20), (f"{day} +50 补发", 50)):
        assert t.HISTORY_LINE.format(line=line, balance=balance) in page

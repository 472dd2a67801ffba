import pytest

from nlp import rules


@pytest.mark.parametrize(
    "text, intent, slots",
    [
        ("转人工", "handoff", {}),
        ("人工客服", "handoff", {}),
        ("我的积分", "points_query", {"action": "balance"}),
        ("积分明细", "points_query", {"action": "history"}),
        ("积分超市", "points_query", {"action": "mall"}),
        ("积分排名", "points_query", {"action": "rank"}),
        ("兑换 3", "points_query", {"action": "redeem", "number": 3}),
        ("兑换 大米", "points_query", {"action": "redeem", "item": "大米"}),
        ("我的工单", "ticket_status", {}),
        ("工单 20261123-0012", "ticket_status", {"ticket_no": "20261123-0012"}),
        ("20261123-0012", "ticket_status", {"ticket_no": "20261123-0012"}),
        ("报名 3", "volunteer_signup", {"action": "signup", "number": 3}),
        ("报名3", "volunteer_signup", {"action": "signup", "number": 3}),
        ("取消报名 2", "volunteer_signup", {"action": "cancel", "number": 2}),
        ("志愿活动", "volunteer_signup", {"action": "list"}),
        ("签到 4821", "volunteer_signup", {"action": "checkin", "checkin_code": "4821"}),
        ("你好", "greeting", {}),
        ("hi", "greeting", {}),
        ("帮助", "greeting", {"action": "menu"}),
        ("菜单", "greeting", {"action": "menu"}),
        ("谢谢", "greeting", {"action": "thanks"}),
        ("取消", "other", {"action": "cancel"}),
        ("好的", "greeting", {"action": "ack"}),
        ("嗯嗯", "greeting", {"action": "ack"}),
        ("收到", "greeting", {"action": "ack"}),
        ("拜拜", "greeting", {"action": "bye"}),
        ("我要投诉", "complaint", {}),
        ("我要报修", "repair", {}),
        ("报个修", "repair", {}),
        ("我有个建议", "suggestion", {}),
        ("提建议", "suggestion", {}),
        ("我要咨询", "consult", {}),
    ],
)
def test_rule_hits(text, intent, slots):
    hit = rules.match(text)
    assert hit is not None
    assert hit.intent == intent
    assert hit.slots == slots


@pytest.mark.parametrize(
    "text",
    ["3栋2单元楼道灯坏了", "我想问下积分怎么用在物业费上面", "你好我家楼道灯坏了", "报名的人太多了", "", "取消报名的活动怎么又通知我"],
)
def test_free_text_is_left_to_the_model(text):
    assert rules.match(text) is None


def test_rule_bypasses_model_with_full_score(engine):
    u = engine.understand("转人工。")
    assert (u.intent, u.score, u.confident) == ("handoff", 1.0, True)
    assert u.alternatives[0] == ("handoff", 1.0)


def _rule_by_rule(text: str):
    """The rules tried one by one, in order: what the single alternation must agree with."""
    for pattern, intent, slots in rules._RULES:
        if pattern.fullmatch(text):
            return intent, slots
    return None


@pytest.mark.parametrize("text", [
    "转人工", "请转人工谢谢", "积分", "我的积分", "积分排行榜", "不要排行榜了", "订阅排行榜", "取货码", "积分兑换", "兑换",
    "查进度", "我的报修记录", "近期活动", "我的报名", "活动签到", "我想投诉一下", "报修", "提个意见", "咨询一下",
    "你好啊", "在吗", "hello", "help", "?", "谢谢你们", "thank you", "ok", "好嘞", "明白了", "嗯嗯嗯", "哦",
    "晚安", "算了吧", "cancel", "不用了", "取消", "你好我家灯坏了", "积分怎么用", "3栋漏水", "", "退出",
])
def test_one_alternation_agrees_with_the_rules_tried_in_order(text):
    hit = rules._ANY_RULE.fullmatch(text)
    combined = None if hit is None else rules._RULES[int(hit.lastgroup[1:])][1:]
    assert combined == _rule_by_rule(text)


@pytest.mark.parametrize("text", ["取消报名", "兑换 大米", "报名 3", "签到 4821", "20261123-0012", "兑换3号商品"])
def test_commands_with_an_argument_are_not_skipped_by_the_hint(text):
    assert rules._ARGUMENT_HINT.search(text)
    assert rules._argument_rule(text) is not None

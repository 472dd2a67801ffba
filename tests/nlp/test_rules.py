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

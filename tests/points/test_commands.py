"""The points and volunteering commands residents type are read as commands (nlp/rules.py),
with spaces or without: the NLU strips spaces before the rules see the message."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("said, intent, slots", [
    ("比积分", "points_query", {"action": "rank"}),
    ("亮积分", "points_query", {"action": "rank"}),
    ("排行", "points_query", {"action": "rank"}),
    ("退订排行", "points_query", {"action": "rank_off"}),
    ("我排第几", "points_query", {"action": "rank"}),
    ("我的积分排第几名", "points_query", {"action": "rank"}),
    ("不想收到排行榜了", "points_query", {"action": "rank_off"}),
    ("别再发排行榜了", "points_query", {"action": "rank_off"}),
    ("退訂排行", "points_query", {"action": "rank_off"}),
    ("订阅排行榜", "points_query", {"action": "rank_on"}),
    ("我的兑换", "points_query", {"action": "orders"}),
    ("兑换 洗衣液", "points_query", {"action": "redeem", "item": "洗衣液"}),
    ("兑换大米", "points_query", {"action": "redeem", "item": "大米"}),
    ("兑换 2", "points_query", {"action": "redeem", "number": 2}),
    ("取消兑换", "points_query", {"action": "cancel_redeem"}),
    ("取消兑换 2", "points_query", {"action": "cancel_redeem", "number": 2}),
    ("兑换记录", "points_query", {"action": "history"}),
    ("取消报名", "volunteer_signup", {"action": "cancel"}),
    ("取消报名 3", "volunteer_signup", {"action": "cancel", "number": 3}),
])
def test_commands(nlu_engine, said, intent, slots):
    understood = nlu_engine.understand(said)
    assert (understood.intent, understood.confident) == (intent, True)
    assert {key: understood.slots.get(key) for key in slots} == slots
    assert set(understood.slots) & {"action", "item", "number"} == set(slots) & {"action", "item", "number"}


@pytest.mark.parametrize("said", ["兑换什么", "兑换规则是什么"])
def test_questions_about_redeeming_are_not_an_item(nlu_engine, said):
    assert "item" not in nlu_engine.understand(said).slots

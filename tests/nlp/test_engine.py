import json
import os

import pytest

from nlp import INTENTS, Understanding, load_engine
from nlp.train import load_examples

ISSUE_TABLE = [
    ("楼上半夜拖椅子吵得睡不着", "complaint"),
    ("3栋2单元楼道灯坏了", "repair"),
    ("建议小区多装几个充电桩", "suggestion"),
    ("居住证怎么办理", "consult"),
    ("我的积分", "points_query"),
    ("周六的义诊我要报名", "volunteer_signup"),
    ("我上周报修的灯怎么还没人修", "ticket_status"),
    ("转人工", "handoff"),
    ("你好", "greeting"),
    ("明天星期几", "other"),
]


@pytest.mark.parametrize("text, intent", ISSUE_TABLE)
def test_issue_examples(engine, now, text, intent):
    u = engine.understand(text, now=now)
    assert u.intent == intent
    assert u.confident


@pytest.mark.parametrize(
    "text, intent",
    [
        ("樓道燈壞了好幾天了", "repair"),  # traditional
        ("楼道灯坏了。麻烦来修一下。", "repair"),  # voice style
        ("楼上天天晚上吵得要死 冇得人管", "complaint"),  # dialect
        ("能不能在小区里多装几个路灯", "suggestion"),
        ("我报的事有人管没", "ticket_status"),
        ("找个真人", "handoff"),
        ("我会修电器周末有空", "volunteer_signup"),
    ],
)
def test_varied_phrasing(engine, now, text, intent):
    assert engine.understand(text, now=now).intent == intent


def test_understanding_shape(engine, now):
    u = engine.understand("3栋2单元楼道灯坏了", now=now)
    assert isinstance(u, Understanding)
    assert u.intent in INTENTS
    assert 0.0 <= u.score <= 1.0
    assert len(u.alternatives) == 3
    assert u.alternatives[0] == (u.intent, u.score)
    assert [s for _, s in u.alternatives] == sorted((s for _, s in u.alternatives), reverse=True)
    assert u.slots["address"] == "3栋2单元"
    assert u.slots["repair_category"] == "lighting"
    assert u.normalized == "3栋2单元楼道灯坏了"
    d = u.to_dict()
    assert json.loads(json.dumps(d, ensure_ascii=False)) == d
    assert set(d) == {"intent", "score", "alternatives", "confident", "slots", "normalized"}


def test_threshold_is_configurable(now):
    strict = load_engine(threshold=0.999)
    u = strict.understand("楼道有点黑", now=now)
    assert not u.confident
    assert strict.understand("转人工", now=now).confident  # rules are always confident


@pytest.mark.parametrize(
    "text",
    ["", "   ", "\n\t", "😀😀😀", "\x00\x01\x02", "12345", "hello world how are you", "?!?!", "[微笑]"],
)
def test_bad_input_is_other_not_confident(engine, now, text):
    u = engine.understand(text, now=now)
    assert u.intent in ("other", "greeting")
    if u.intent == "other":
        assert u.score == 0.0 and not u.confident


def test_empty_input_result(engine, now):
    u = engine.understand("", now=now)
    assert (u.intent, u.score, u.confident, u.slots, u.normalized) == ("other", 0.0, False, {}, "")


def test_english_greeting(engine, now):
    assert engine.understand("hi", now=now).intent == "greeting"
    assert engine.understand("Hello!", now=now).intent == "greeting"


def test_digits_only_keep_slots(engine, now):
    assert engine.understand("3", now=now).slots == {"number": 3}
    assert engine.understand("13812345678", now=now).slots["phone"] == "13812345678"


def test_very_long_input(engine, now):
    text = "3栋楼道灯坏了，" + "啊" * 6000
    u = engine.understand(text, now=now)
    assert u.intent in INTENTS
    assert len(u.normalized) <= 501


def test_non_str_input_does_not_raise(engine, now):
    assert engine.understand(None, now=now).intent == "other"  # type: ignore[arg-type]
    assert engine.understand(123, now=now).intent in INTENTS  # type: ignore[arg-type]


def test_default_now_is_used(engine):
    u = engine.understand("明天上午来修")
    assert u.slots["time"].tzinfo is not None


def test_long_input_keeps_head_and_tail_slots(engine, now):
    text = "3栋2单元楼道灯坏了。" + "情况是这样的" * 300 + "联系电话13812345678"
    u = engine.understand(text, now=now)
    assert u.slots["address"] == "3栋2单元"
    assert u.slots["phone"] == "13812345678"


def test_fresh_messages_not_in_training(engine):
    """40 messages written apart from the training data, one per line in data/dev_messages.jsonl."""
    path = os.path.join(os.path.dirname(__file__), "data", "dev_messages.jsonl")
    with open(path, encoding="utf-8") as f:
        rows = [json.loads(line) for line in f if line.strip()]
    training = {e.text for e in load_examples()}
    assert not any(r["text"] in training for r in rows)
    right = sum(engine.understand(r["text"]).intent == r["intent"] for r in rows)
    assert right / len(rows) >= 0.9

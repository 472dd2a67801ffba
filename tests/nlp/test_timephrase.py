from datetime import datetime

import pytest

from nlp.timephrase import SHANGHAI, parse_time


def at(*args):
    return datetime(*args, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("明天下午三点", at(2026, 11, 24, 15, 0)),
        ("明天下午3点半", at(2026, 11, 24, 15, 30)),
        ("周六上午", at(2026, 11, 28, 9, 0)),
        ("周六", at(2026, 11, 28, 9, 0)),
        ("下周一", at(2026, 11, 30, 9, 0)),
        ("后天", at(2026, 11, 25, 9, 0)),
        ("大后天", at(2026, 11, 26, 9, 0)),
        ("今晚8点", at(2026, 11, 23, 20, 0)),
        ("3月5日", at(2027, 3, 5, 9, 0)),  # already past this year -> next year
        ("12月1号上午10:30", at(2026, 12, 1, 10, 30)),
        ("这周五下午", at(2026, 11, 27, 15, 0)),
        ("三天后", at(2026, 11, 26, 9, 0)),
        ("明早7点", at(2026, 11, 24, 7, 0)),
        ("下午2点", at(2026, 11, 23, 14, 0)),
        ("3点", at(2026, 11, 23, 15, 0)),  # said at 10:00: the afternoon
        ("9点", at(2026, 11, 23, 21, 0)),  # 9:00 has passed, 21:00 has not
        ("星期天", at(2026, 11, 29, 9, 0)),
    ],
)
def test_time_phrases(now, text, expected):
    got = parse_time(text, now)
    assert got == expected
    assert got.utcoffset().total_seconds() == 8 * 3600


@pytest.mark.parametrize("text", ["楼道灯坏了", "楼上半夜拖椅子", "晚上太吵", "我上周报修的灯", "", "灯能不能换个亮一点的", "我有两点建议"])
def test_no_time(now, text):
    assert parse_time(text, now) is None


def test_time_slot_in_understanding(engine, now):
    u = engine.understand("明天下午三点来修3栋的灯", now=now)
    assert u.slots["time"] == at(2026, 11, 24, 15, 0)
    assert u.to_dict()["slots"]["time"] == "2026-11-24T15:00:00+08:00"


def test_the_quick_check_for_any_time_word_changes_nothing(monkeypatch):
    import re
    from pathlib import Path

    import nlp
    from nlp import timephrase
    from nlp.normalize import normalize

    folder = Path(nlp.__file__).parent / "data" / "train"
    texts = [normalize(line) for path in sorted(folder.glob("*.txt"))
             for line in path.read_text("utf-8").splitlines() if line.strip() and not line.startswith("#")]
    texts += ["明天下午三点", "下周二", "10:30", "三点半", "亮一点", "两点建议", "你好", "12月3日", "3天后"]
    now = datetime(2026, 12, 7, 10, 0, tzinfo=timephrase.SHANGHAI)
    quick = [timephrase.parse_time(text, now) for text in texts]
    monkeypatch.setattr(timephrase, "_ANY_TIME", re.compile(""))  # every text looked at in full
    assert quick == [timephrase.parse_time(text, now) for text in texts]

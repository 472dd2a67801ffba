"""Matching a free question to a ticket: past-time windows and scores; rating words."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from handlers.rating import rating_of, rating_with_comment
from handlers.ticket_match import Window, best_matches, past_window, score

NOW = datetime(2026, 11, 25, 4, tzinfo=timezone.utc)  # Wednesday 25 Nov 2026, 12:00 in Shanghai


@pytest.mark.parametrize(("text", "first", "last"), [
    ("我上周报修的灯", date(2026, 11, 16), date(2026, 11, 22)),
    ("上个星期投诉的", date(2026, 11, 16), date(2026, 11, 22)),
    ("这周报的", date(2026, 11, 23), date(2026, 11, 25)),
    ("上周三报的", date(2026, 11, 18), date(2026, 11, 18)),
    ("周五报的", date(2026, 11, 20), date(2026, 11, 20)),  # a weekday still ahead means last week's
    ("周一报的", date(2026, 11, 23), date(2026, 11, 23)),
    ("昨天报修的水管", date(2026, 11, 24), date(2026, 11, 24)),
    ("前天", date(2026, 11, 23), date(2026, 11, 23)),
    ("3天前", date(2026, 11, 22), date(2026, 11, 22)),
    ("前几天", date(2026, 11, 18), date(2026, 11, 25)),
    ("上个月", date(2026, 10, 1), date(2026, 10, 31)),
    ("11月20日报的", date(2026, 11, 20), date(2026, 11, 20)),
    ("12月30号报的", date(2025, 12, 30), date(2025, 12, 30)),  # not yet this year: last year's
])
def test_past_windows(text, first, last):
    assert past_window(text, NOW) == Window(first, last)


def test_no_time_phrase_no_window():
    assert past_window("我报修的灯怎么还没人修", NOW) is None
    assert past_window("2月30日", NOW) is None


def _score(question, words, *, created=datetime(2026, 11, 18, 2, tzinfo=timezone.utc), kind="repair",
           category="lighting", description="3栋楼道灯坏了", categories=frozenset()):
    return score(created_at=created, kind=kind, category=category, description=description, question=question,
                 words=words, categories=set(categories), window=past_window(question, NOW))


def test_scores_add_up_category_kind_words_and_time():
    question = "我上周报修的灯怎么还没人修"
    words = ["我", "上周", "报修", "的", "灯", "怎么", "还", "没", "人", "修"]
    assert _score(question, words, categories={"lighting"}) == 2 + 1 + 1 + 2
    assert _score(question, words, kind="complaint", category="noise", description="楼上很吵",
                  created=datetime(2026, 11, 23, 2, tzinfo=timezone.utc)) == 0  # a day off alone is no evidence
    assert _score("昨天报的怎么样了", ["昨天", "报", "怎么样"], created=datetime(2026, 11, 24, 2, tzinfo=timezone.utc)) == 2


def test_best_matches_keeps_ties_and_drops_zero():
    assert best_matches([(3, "a"), (1, "b"), (3, "c")]) == ["a", "c"]
    assert best_matches([(0, "a"), (0, "b")]) == []


@pytest.mark.parametrize(("text", "rating"), [
    ("满意", "satisfied"), ("非常满意！", "satisfied"), ("满意的", "satisfied"), ("基本满意", "basic"),
    ("比较满意。", "basic"), ("不满意", "unsatisfied"), ("很不满意", "unsatisfied"), ("不太满意", "unsatisfied"),
    ("满意度调查是什么", None), ("我对物业不满意", None), ("", None),
    ("满意，谢谢！", "satisfied"), ("满意吗", None), ("不满意，灯还是不亮", "unsatisfied"), ("基本满意。还行", "basic"),
])
def test_rating_words_open_the_message(text, rating):
    assert rating_of(text) == rating


@pytest.mark.parametrize(("text", "found"), [
    ("不满意，灯还是不亮", ("unsatisfied", "灯还是不亮")), ("满意，谢谢！", ("satisfied", "谢谢")),
    ("很不满意！！", ("unsatisfied", None)), ("满意的", ("satisfied", None)), ("满意吧你说呢", None),
])
def test_what_follows_a_rating_is_the_comment(text, found):
    assert rating_with_comment(text) == found

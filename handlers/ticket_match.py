"""Which of a resident's tickets a free-text question is about ("我上周报修的灯怎么还没人修").

Pure functions: a time window from past-time phrases, and a score from the time, the category
and the words the question shares with each ticket's description.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Iterable

from nlp.cnnum import cn_to_int
from nlp.timephrase import SHANGHAI

_N = r"(\d{1,2}|[一二两三四五六七八九十]{1,3})"
_DAYS_AGO = {"今天": 0, "今早": 0, "今天早上": 0, "刚才": 0, "刚刚": 0, "昨天": 1, "昨晚": 1, "昨天晚上": 1,
             "前天": 2, "大前天": 3}
_RE_DAYS_AGO = re.compile("|".join(sorted(_DAYS_AGO, key=len, reverse=True)))
_RE_N_DAYS_AGO = re.compile(rf"{_N}天(?:前|之前|以前)")
_RE_FEW_DAYS = re.compile(r"前几天|这几天|最近|前些天|前两天|这两天")
_RE_WEEKDAY = re.compile(r"(上个?|这个?|本)?(?:周|星期|礼拜)([一二三四五六日天1-7])")
_RE_WEEK = re.compile(r"(上个?|这个?|本)(?:周|星期|礼拜)(?![一二三四五六日天1-7])")
_RE_MONTH = re.compile(r"(上个?|这个?|本)月(?!\d|[一二三四五六七八九十]+[日号])")
_RE_DATE = re.compile(rf"{_N}月{_N}(?:日|号)")
_WEEKDAYS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6}


@dataclass(frozen=True)
class Window:
    """Shanghai calendar days, first and last inclusive."""

    first: date
    last: date

    def distance(self, day: date) -> int:
        """0 inside the window, else how many days outside."""
        if day < self.first:
            return (self.first - day).days
        return max(0, (day - self.last).days)


def _num(text: str) -> int:
    return int(text) if text.isdigit() else cn_to_int(text)


def past_window(text: str, now: datetime) -> Window | None:
    """The days a question refers to: 昨天, 3天前, 前几天, 上周, 上周三, 这个月, 11月20日."""
    today = now.astimezone(SHANGHAI).date()
    if m := _RE_WEEKDAY.search(text):
        monday = today - timedelta(days=today.weekday())
        if m.group(1) and m.group(1).startswith("上"):
            monday -= timedelta(days=7)
        wanted = int(m.group(2)) - 1 if m.group(2).isdigit() else _WEEKDAYS[m.group(2)]
        day = monday + timedelta(days=wanted)
        if not m.group(1) and day > today:  # a bare "周五" on a Tuesday: last week's
            day -= timedelta(days=7)
        return Window(day, day)
    if m := _RE_WEEK.search(text):
        monday = today - timedelta(days=today.weekday())
        if m.group(1).startswith("上"):
            return Window(monday - timedelta(days=7), monday - timedelta(days=1))
        return Window(monday, today)
    if m := _RE_DATE.search(text):
        month, day = _num(m.group(1)), _num(m.group(2))
        for year in (today.year, today.year - 1):
            try:
                candidate = date(year, month, day)
            except ValueError:
                return None
            if candidate <= today:
                return Window(candidate, candidate)
        return None
    if m := _RE_MONTH.search(text):
        first = today.replace(day=1)
        if m.group(1).startswith("上"):
            last = first - timedelta(days=1)
            return Window(last.replace(day=1), last)
        return Window(first, today)
    if m := _RE_N_DAYS_AGO.search(text):
        day = today - timedelta(days=_num(m.group(1)))
        return Window(day, day)
    if m := _RE_DAYS_AGO.search(text):
        day = today - timedelta(days=_DAYS_AGO[m.group(0)])
        return Window(day, day)
    if _RE_FEW_DAYS.search(text):
        return Window(today - timedelta(days=7), today)
    return None


_KIND_WORDS = {"repair": re.compile(r"报修|修"), "complaint": re.compile(r"投诉|反映|举报"),
               "suggestion": re.compile(r"建议|意见")}
_STOP = frozenset("我 的 了 怎么 还 没 没有 人 修 来 报 报修 投诉 建议 工单 进度 什么 时候 为什么 一直 都 "
                  "上周 昨天 前天 今天 那个 这个 吗 呢 啊 管 处理 情况 问 问下 一下 请问 到底 多久".split())


def _useful(words: Iterable[str]) -> set[str]:
    return {w for w in words if w not in _STOP and re.search(r"[\u4e00-\u9fff]", w)}


def score(*, created_at: datetime, kind: str, category: str | None, description: str, question: str,
          words: Iterable[str], categories: set[str], window: Window | None) -> int:
    """How well one ticket fits the question; 0 means nothing points to it.

    A time inside the window counts on its own ("我昨天报的怎么样了"); a day or two off counts
    only next to other evidence (residents' "上周" is loose, but not evidence by itself).
    """
    points = 0
    if category and category in categories:
        points += 2
    if kind in _KIND_WORDS and _KIND_WORDS[kind].search(question):
        points += 1
    points += min(3, sum(1 for w in _useful(words) if w in description))
    if window is not None:
        distance = window.distance(created_at.astimezone(SHANGHAI).date())
        points += 2 if distance == 0 else 1 if distance <= 2 and points else 0
    return points


def best_matches(scored: list[tuple[int, object]]) -> list[object]:
    """The tickets with the best non-zero score (several when tied), in the given order."""
    top = max((s for s, _ in scored), default=0)
    return [item for s, item in scored if s == top] if top > 0 else []


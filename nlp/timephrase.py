"""Time phrases residents use for appointments ("明天下午三点", "周六上午", "3月5日").

Defaults when a phrase names a day but no clock time (documented in nlp/README.md):
早上 8:00, 上午 9:00, 中午 12:00, 下午 15:00, 傍晚 18:00, 晚上 20:00, 凌晨 6:00, and a
bare day ("后天", "下周一") 9:00, the start of office hours. A weekday alone ("周六") is the
next such day, today included; "下周X" is that day in the next calendar week (weeks start
on Monday). A clock time 1-6 with no period word is afternoon ("明天3点" = 15:00). A time
that has already passed today with no day named moves to tomorrow.
A period word alone ("晚上", "半夜") is not a time: complaints use it to describe, not to book.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone, tzinfo

from nlp.cnnum import cn_to_int
from nlp.patterns import any_of


def _shanghai() -> tzinfo:
    try:
        from zoneinfo import ZoneInfo

        return ZoneInfo("Asia/Shanghai")
    except Exception:  # no tz database: China has had no DST since 1991
        return timezone(timedelta(hours=8), "Asia/Shanghai")


SHANGHAI = _shanghai()

_N = r"(\d{1,2}|[零〇一二两三四五六七八九十]{1,3})"
_DAY_WORDS = {
    "大后天": 3, "后天": 2, "明天": 1, "明日": 1, "明早": 1, "明晚": 1,
    "今天": 0, "今日": 0, "今晚": 0, "今早": 0, "昨天": -1, "前天": -2,
}  # fmt: skip
_PERIOD_HOUR = {
    "凌晨": 6, "早上": 8, "早晨": 8, "清早": 8, "今早": 8, "明早": 8, "上午": 9, "中午": 12,
    "下午": 15, "傍晚": 18, "晚上": 20, "今晚": 20, "明晚": 20, "夜里": 21, "半夜": 0,
}  # fmt: skip
_PM = {"下午", "傍晚", "晚上", "今晚", "明晚", "夜里"}
_WEEKDAY = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6, "末": 5}

_RE_DAY_WORD = re.compile("|".join(sorted(_DAY_WORDS, key=len, reverse=True)))
_RE_PERIOD = re.compile("|".join(sorted(_PERIOD_HOUR, key=len, reverse=True)))
_RE_DATE = re.compile(rf"(?:(\d{{4}})年)?{_N}月{_N}(?:日|号)")
_RE_MONTH_DAY = re.compile(rf"(这个月|本月|下个?月){_N}(?:日|号)")
_RE_IN_DAYS = re.compile(rf"{_N}天(?:后|以后|之后)")
_RE_WEEKDAY = re.compile(r"(下下|下个?|这个?|本)?(?:周|星期|礼拜)([一二三四五六日天末1-7])")
_RE_NEXT_WEEK = re.compile(r"下个?(?:周|星期|礼拜)(?![一二三四五六日天末1-7])")
_RE_CLOCK = re.compile(rf"{_N}(?:点|时)(?:(半)|(一刻)|(三刻)|{_N}分?)?")
# "亮一点" (a bit brighter), "两点建议" (two points): a Chinese-numeral hour is a clock time only
# next to a day or period word, or followed by a clock word.
_CLOCK_TAIL = re.compile(r"钟|半|整|一刻|三刻|多|左右|前|以前|之前|后|以后|之后|[\d零〇一二三四五六七八九十]+分")
_RE_HHMM = re.compile(r"(?<!\d)([01]?\d|2[0-3])[:：]([0-5]\d)(?!\d)")


# Every pattern parse_time looks for (nlp.patterns): a message that matches none names no time.
_ANY_TIME = any_of((_RE_DATE, _RE_MONTH_DAY, _RE_DAY_WORD, _RE_IN_DAYS, _RE_WEEKDAY, _RE_NEXT_WEEK, _RE_PERIOD,
                    _RE_CLOCK, _RE_HHMM))


def parse_time(text: str, now: datetime) -> datetime | None:
    """The moment a message refers to, tz-aware Asia/Shanghai; None when it names none."""
    if not _ANY_TIME.search(text):
        return None
    now = now.astimezone(SHANGHAI) if now.tzinfo else now.replace(tzinfo=SHANGHAI)
    day, day_named = _day(text, now)
    period_m = _RE_PERIOD.search(text)
    period = period_m.group(0) if period_m else None
    clock = _clock(text, context=day is not None or period is not None)
    if day is None and clock is None:
        return None  # "晚上" alone is too vague ("楼上半夜拖椅子" names no appointment)
    base = day or now.date()
    hour, minute = _hour_minute(period, clock)
    result = datetime(base.year, base.month, base.day, tzinfo=SHANGHAI) + timedelta(hours=hour, minutes=minute)
    if not day_named and result < now:
        if clock and period is None and clock[0] < 12 and result + timedelta(hours=12) > now:
            result += timedelta(hours=12)  # "3点" said at 10:00 means 15:00
        else:
            result += timedelta(days=1)
    return result


def _day(text: str, now: datetime):
    """(date, named explicitly?) from date, relative-day and weekday phrases."""
    today = now.date()
    if m := _RE_DATE.search(text):
        return _month_day(today, m.group(1), m.group(2), m.group(3)), True
    if m := _RE_MONTH_DAY.search(text):
        month = today.month + (1 if m.group(1).startswith("下") else 0)
        year = today.year + (month - 1) // 12
        return _safe_date(year, (month - 1) % 12 + 1, cn_to_int(m.group(2))), True
    if m := _RE_DAY_WORD.search(text):
        return today + timedelta(days=_DAY_WORDS[m.group(0)]), True
    if m := _RE_IN_DAYS.search(text):
        n = cn_to_int(m.group(1))
        if n is not None:
            return today + timedelta(days=n), True
    if m := _RE_WEEKDAY.search(text):
        return _weekday(today, m.group(1) or "", m.group(2)), True
    if _RE_NEXT_WEEK.search(text):
        return today + timedelta(days=7 - today.weekday()), True
    return None, False


def _month_day(today, year, month, day):
    y = int(year) if year else today.year
    m, d = cn_to_int(month), cn_to_int(day)
    result = _safe_date(y, m, d)
    if result and not year and result < today:
        result = _safe_date(y + 1, m, d)  # "3月5日" said in November means next March
    return result


def _safe_date(year, month, day):
    from datetime import date

    try:
        return date(year, month, day)
    except (TypeError, ValueError):
        return None


def _weekday(today, prefix: str, char: str):
    target = int(char) - 1 if char.isdigit() else _WEEKDAY[char]
    target = min(target, 6)
    if prefix.startswith("下下"):
        return today + timedelta(days=14 - today.weekday() + target)
    if prefix.startswith("下"):
        return today + timedelta(days=7 - today.weekday() + target)
    if prefix:  # 这周 / 本周: this calendar week, even if already past
        return today + timedelta(days=target - today.weekday())
    return today + timedelta(days=(target - today.weekday()) % 7)


def _clock(text: str, context: bool) -> tuple[int, int] | None:
    if m := _RE_HHMM.search(text):
        return int(m.group(1)), int(m.group(2))
    for m in _RE_CLOCK.finditer(text):
        hour = cn_to_int(m.group(1))
        if hour is None or hour > 24:
            continue
        has_minutes = any(m.group(g) for g in (2, 3, 4, 5))
        if not (context or has_minutes or m.group(1).isdigit() or _CLOCK_TAIL.match(text, m.end())):
            continue
        if m.group(2):
            minute = 30
        elif m.group(3):
            minute = 15
        elif m.group(4):
            minute = 45
        else:
            minute = cn_to_int(m.group(5)) if m.group(5) else 0
        if minute is None or minute > 59:
            minute = 0
        return hour % 24, minute
    return None


def _hour_minute(period: str | None, clock: tuple[int, int] | None) -> tuple[int, int]:
    if clock is None:
        return (_PERIOD_HOUR[period] if period else 9), 0
    hour, minute = clock
    if period is None and 1 <= hour <= 6:
        hour += 12  # appointments are in the day: "明天3点" is 15:00; 凌晨 says otherwise
    elif period in _PM and hour < 12:
        hour += 12
    elif period == "中午" and hour < 6:
        hour += 12
    elif period in ("半夜", "凌晨") and hour == 12:
        hour = 0
    return hour, minute

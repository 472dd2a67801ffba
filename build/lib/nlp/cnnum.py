"""Chinese numerals to integers, for addresses and time phrases ("十二", "二十三", "五〇二")."""

from __future__ import annotations

# Index i maps to digit i % 10; both 〇 and 零 are zero and 两 is two.
CN_DIGITS = "〇一二三四五六七八九零"
_VALUE = {ch: i % 10 for i, ch in enumerate(CN_DIGITS)}
_VALUE["两"] = 2
_VALUE["俩"] = 2


def cn_to_int(text: str) -> int | None:
    """Value of a Chinese numeral below 1000, or Arabic digits; None when it is not one.

    Handles positional ("十二", "二十", "一百零五") and digit-by-digit ("五〇二") forms.
    """
    if not text:
        return None
    if text.isdigit():
        return int(text)
    if "十" not in text and "百" not in text:
        if all(ch in _VALUE for ch in text):
            return int("".join(str(_VALUE[ch]) for ch in text))
        return None
    total, current = 0, 0
    for ch in text:
        if ch in _VALUE:
            current = _VALUE[ch]
        elif ch == "十":
            total += (current or 1) * 10
            current = 0
        elif ch == "百":
            total += (current or 1) * 100
            current = 0
        else:
            return None
    return total + current

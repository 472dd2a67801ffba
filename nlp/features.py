"""Sparse features of a normalised message, shared by training and run time.

Character 1-3-grams survive typos, homophones and missing word boundaries in voice text;
jieba words add the community vocabulary ("楼道灯", "工单"). Digit runs collapse to "0" so
"3栋" and "12栋" are one feature: the model should learn "an address", not a number.
"""

from __future__ import annotations

import re

FEATURIZER_VERSION = "c13w1-v2"
MAX_CHARS = 500  # longer messages are classified on their opening, where the ask usually is
WORD_CHARS = 200  # jieba costs ~4 µs a character; words past this add little to char grams

_DIGITS = re.compile(r"\d+")
_SPACES = re.compile(r"\s+")


def featurize(normalized: str, words: list[str]) -> dict[str, int]:
    """Feature -> count. Char grams are prefixed "c", words "w"; "^"/"$" mark the ends."""
    text = _SPACES.sub(" ", _DIGITS.sub("0", normalized[:MAX_CHARS]))
    counts: dict[str, int] = {}
    padded = f"^{text}$"
    size = len(padded)
    for n in (1, 2, 3):
        for i in range(size - n + 1):
            gram = padded[i : i + n]
            if n == 1 and gram in "^$ ":
                continue
            key = "c" + gram
            counts[key] = counts.get(key, 0) + 1
    for word in words:
        key = "w" + _DIGITS.sub("0", word)
        counts[key] = counts.get(key, 0) + 1
    return counts


def message_features(normalized: str, words) -> dict[str, int]:
    """Features of a message; `words(text)` segments. Training and run time both call this."""
    head = normalized[:MAX_CHARS]
    return featurize(head, words(head[:WORD_CHARS]))

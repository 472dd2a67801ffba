"""Sparse features of a normalised message, shared by training and run time.

Character 1-3-grams survive typos, homophones and missing word boundaries in voice text;
jieba words add the community vocabulary ("楼道灯", "工单"). Digit runs collapse to "0" so
"3栋" and "12栋" are one feature: the model should learn "an address", not a number.
"""

from __future__ import annotations

import re
from collections import Counter

FEATURIZER_VERSION = "c13w1-v4"
MAX_CHARS = 300  # longer messages are classified on their opening, where the ask usually is
WORD_CHARS = 100  # jieba costs ~3 µs a character; words past this add little to char grams

_DIGITS = re.compile(r"\d+")
_SPACES = re.compile(r"\s+")


def featurize(normalized: str, words: list[str]) -> dict[str, int]:
    """Feature -> count. Char grams are the grams themselves ("^"/"$" mark the ends);
    words are prefixed with "\x01" so the word "楼道" and the bigram "楼道" stay apart."""
    text = _SPACES.sub(" ", _DIGITS.sub("0", normalized[:MAX_CHARS]))
    padded = f"^{text}$"
    size = len(padded)
    counts = Counter(padded[1:-1].replace(" ", ""))
    counts.update([padded[i : i + 2] for i in range(size - 1)])
    counts.update([padded[i : i + 3] for i in range(size - 2)])
    counts.update(["\x01" + _DIGITS.sub("0", w) for w in words])
    return counts


def message_features(normalized: str, words) -> dict[str, int]:
    """Features of a message; `words(text)` segments. Training and run time both call this."""
    head = normalized[:MAX_CHARS]
    return featurize(head, words(head[:WORD_CHARS]))

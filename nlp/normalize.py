"""Text normalisation: one canonical form for the classifier, the rules and the slots.

Residents type on phones, dictate through WeChat's speech recognition (which sprinkles
"。"), paste from elsewhere (full-width digits, traditional characters) and add emoji. Every
later stage is simpler when it sees one form: simplified, half-width, single spaces, Arabic
digits in addresses.
"""

from __future__ import annotations

import functools
import os
import re
import unicodedata
from operator import itemgetter

from nlp.cnnum import CN_DIGITS, cn_to_int
from nlp.patterns import any_of

# --- traditional -> simplified -------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def _t2s():
    """The OpenCC converter is built once; building it reads its dictionaries."""
    import opencc

    return opencc.OpenCC("t2s")


@functools.lru_cache(maxsize=1)
def _traditional_chars() -> frozenset[str]:
    """Characters that occur only in traditional text.

    OpenCC (pure Python) costs ~2 µs a character, so a message is converted only when it
    holds one of these. Excluded: characters that are also simplified (keys of
    STCharacters, or targets of TSCharacters such as "么", "覆", "沈"), which plenty of
    simplified messages contain.
    """
    import opencc

    base = os.path.join(os.path.dirname(opencc.__file__), "dictionary")
    simplified: set[str] = set()
    candidates: set[str] = set()
    with open(os.path.join(base, "STCharacters.txt"), encoding="utf-8") as f:
        simplified.update(line.split("\t", 1)[0] for line in f)
    with open(os.path.join(base, "TSCharacters.txt"), encoding="utf-8") as f:
        for line in f:
            key, _, value = line.rstrip("\n").partition("\t")
            targets = value.split(" ")
            simplified.update("".join(targets))
            if len(key) == 1 and key not in targets:
                candidates.add(key)
    return frozenset(candidates - simplified)


def to_simplified(text: str) -> str:
    """Traditional -> simplified, skipping OpenCC when no character needs it."""
    if _traditional_chars().isdisjoint(text):
        return text
    return _t2s().convert(text)


# --- characters ------------------------------------------------------------------------------

# Emoji, pictographs, symbols, variation selectors, private use (WeChat's own glyphs when
# pasted), tags, C0/C1 controls (tab and newline are kept for tidy_spacing), zero-width
# and bidi format characters, lone surrogates. One regex: a per-character Python loop
# cost ~1 ms on a long message.
_DROPPED = re.compile(
    "["
    "\U0001F000-\U0001FAFF\U000E0000-\U000E007F"
    "\u2190-\u21FF\u2300-\u23FF\u25A0-\u25FF\u2600-\u27BF\u2B00-\u2BFF"
    "\uFE00-\uFE0F\uE000-\uF8FF\uFFF0-\uFFFF"
    "\x00-\x08\x0B-\x1F\x7F-\x9F\u00AD\u200B-\u200F\u2028-\u202E\u2060-\u206F\uFEFF"
    "\uD800-\uDFFF"
    "]+"
)
_WECHAT_EMOTICON = re.compile(r"\[(?:[\u4e00-\u9fff]{1,4}|[a-zA-Z]{1,10})\]")
# Each step below first asks, in one search, whether any of its patterns occurs at all (nlp.patterns).
_EMOTICON_OR_DROPPED = any_of((_WECHAT_EMOTICON, _DROPPED))


def clean_chars(text: str) -> str:
    """NFKC (full-width -> half-width, compatibility forms) and drop emoji/control chars."""
    text = unicodedata.normalize("NFKC", text)
    if not _EMOTICON_OR_DROPPED.search(text):
        return text
    text = _WECHAT_EMOTICON.sub(" ", text)  # "[捂脸]" typed as text by WeChat
    return _DROPPED.sub("", text)


# --- whitespace and punctuation ---------------------------------------------------------------

_CJK = r"\u4e00-\u9fff"
_SPACES = re.compile(r"\s+")
_SPACE_BETWEEN_CJK = re.compile(rf"(?<=[{_CJK}\d]) (?=[{_CJK}])|(?<=[{_CJK}]) (?=[{_CJK}\d])")
_REPEATED_PUNCT = re.compile(r"([。,，!！?？.、~～…])\1+")
_TRAILING = re.compile(r"[\s。.,，、~～…]+$")
_LEADING = re.compile(r"^[\s。.,，、~～…!！?？:：;；]+")
# Whatever the five would change: a space (every other pattern needs one, or covers it), a
# repeated mark, one at the end, one at the start.
_NEEDS_TIDYING = re.compile(r"([。,，!！?？.、~～…])\1|\s|[。.,，、~～…]$|^[。.,，、~～…!！?？:：;；]")


# Replacements are functions, not r"\1" templates: sub hands a template to re._subx, Python code,
# on every call, matched or not — a function is called only for a match. (Every message.)
_first_group = itemgetter(1)


def _building(m: re.Match) -> str:
    return f"{m.group(1)}栋"


def tidy_spacing(text: str) -> str:
    """Collapse whitespace; voice recognition and typing add spaces between characters.

    A trailing "。" is what WeChat's speech-to-text appends to every utterance, so it is
    dropped; inner "。" are kept (they separate clauses) but runs are collapsed.
    """
    if not _NEEDS_TIDYING.search(text):
        return text
    text = _SPACES.sub(" ", text).strip()
    text = _SPACE_BETWEEN_CJK.sub("", text)
    text = _REPEATED_PUNCT.sub(_first_group, text)
    text = _TRAILING.sub("", text)
    return _LEADING.sub("", text)


# --- Chinese numerals in addresses --------------------------------------------------------------

_NUM = f"[{CN_DIGITS}十百]"
# "三号楼" -> "3栋", "十二栋" -> "12栋", "二单元" -> "2单元", "五楼" -> "5楼"
_ADDR_UNIT = re.compile(
    rf"({_NUM}{{1,4}})(号楼|栋|幢|座|单元|号院|期|层|楼(?![道梯房顶下上里面]))"
)
# "五〇二室" / "五零二" (digit-by-digit room numbers)
_DIGIT_RUN = re.compile(rf"[{CN_DIGITS}]{{3,4}}(?=室|号|$|[^{CN_DIGITS}十百])")
_UNIT_WORD = {"号楼": "栋", "幢": "栋", "座": "栋"}
_ARABIC_BUILDING = re.compile(r"(\d{1,3}) ?(?:号楼|幢)")
_ANY_ADDRESS_NUMBER = any_of((_ADDR_UNIT, _DIGIT_RUN, _ARABIC_BUILDING))


def _addr_unit(m: re.Match) -> str:
    num, unit = m.group(1), m.group(2)
    value = cn_to_int(num)
    if value is None:
        return m.group(0)
    return f"{value}{_UNIT_WORD.get(unit, unit)}"


def _digit_run(m: re.Match) -> str:
    run = m.group(0)
    start = m.string[max(0, m.start() - 3) : m.start()]
    # Only as a room number: after an address part, or spelled with 〇/零 which prose avoids.
    if not ("〇" in run or "零" in run or re.search(r"(单元|栋|楼|室|\d)$", start)):
        return run
    return "".join(str(CN_DIGITS.index(ch) % 10) for ch in run)


def arabic_addresses(text: str) -> str:
    """Chinese numerals next to address words become Arabic digits; 号楼/幢 become 栋."""
    if not _ANY_ADDRESS_NUMBER.search(text):
        return text
    text = _ADDR_UNIT.sub(_addr_unit, text)
    text = _DIGIT_RUN.sub(_digit_run, text)
    return _ARABIC_BUILDING.sub(_building, text)


# --- all together ----------------------------------------------------------------------------------


def normalize(text: str) -> str:
    """The canonical form used by every other stage. Never raises for a str."""
    if not text:
        return ""
    text = clean_chars(text)
    text = to_simplified(text)
    text = text.lower()
    text = tidy_spacing(text)
    return arabic_addresses(text)

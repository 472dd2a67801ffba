"""jieba word segmentation with the community dictionary.

A private `jieba.Tokenizer` (not the global one), so nothing else in the process can change
our dictionary. Start-up time is dominated by jieba un-marshalling its prefix dictionary:
~500k entries for the full 349k-word dictionary. We segment with jieba's words of
frequency >= MIN_FREQ (105k words: every common word; rare names and idioms fall back to
shorter words, which the character n-grams cover) merged with the community dictionary.
That dictionary file and jieba's prefix cache for it are written once to a writable cache
directory and then only read, so start-up stays well under a second.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import re
import tempfile
from importlib import resources

MIN_FREQ = 10
_PUNCT_OR_SPACE = re.compile(r"^[\s\W_]+$")


def cache_dir() -> str:
    """$LINLI_CACHE_DIR, else $XDG_CACHE_HOME/linli, else ~/.cache/linli, else the temp dir."""
    candidates = [
        os.environ.get("LINLI_CACHE_DIR"),
        os.path.join(os.environ["XDG_CACHE_HOME"], "linli") if os.environ.get("XDG_CACHE_HOME") else None,
        os.path.join(os.path.expanduser("~"), ".cache", "linli"),
    ]
    for path in candidates:
        if not path:
            continue
        try:
            os.makedirs(path, exist_ok=True)
        except OSError:
            continue
        if os.access(path, os.W_OK):
            return path
    return tempfile.gettempdir()


def community_dict_path() -> str:
    return str(resources.files("nlp") / "data" / "community_dict.txt")


def _jieba_dict_path() -> str:
    import jieba

    return os.path.join(os.path.dirname(jieba.__file__), "dict.txt")


def dictionary_lines(user_dict: str) -> list[str]:
    """jieba's common words plus ours (ours win on duplicates), in a stable order."""
    ours: dict[str, str] = {}
    with open(user_dict, encoding="utf-8") as f:
        for line in f:
            parts = line.split()
            if parts:
                freq = parts[1] if len(parts) > 1 and parts[1].isdigit() else "50"
                ours[parts[0]] = " ".join([parts[0], freq] + parts[2:3])
    lines = []
    with open(_jieba_dict_path(), encoding="utf-8") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 2 and int(parts[1]) >= MIN_FREQ and parts[0] not in ours:
                lines.append(line.rstrip("\n"))
    return lines + list(ours.values())


def build_dictionary(user_dict: str, directory: str) -> str:
    """Write the merged dictionary once; its name carries the hash of what it is made of."""
    h = hashlib.sha256(f"jieba-min-freq-{MIN_FREQ}".encode())
    with open(user_dict, "rb") as f:
        h.update(f.read())
    path = os.path.join(directory, f"linli-dict-{h.hexdigest()[:16]}.txt")
    if os.path.exists(path):
        return path
    fd, tmp = tempfile.mkstemp(dir=directory, suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write("\n".join(dictionary_lines(user_dict)) + "\n")
    os.replace(tmp, path)  # atomic: concurrent start-ups never read half a file
    return path


class WordTokenizer:
    """Segments normalised text into words; drops whitespace and punctuation tokens."""

    def __init__(self, user_dict: str | None = None) -> None:
        import jieba

        jieba.setLogLevel(logging.WARNING)
        logging.getLogger("jieba").setLevel(logging.WARNING)
        directory = cache_dir()
        self._jieba = jieba.Tokenizer(build_dictionary(user_dict or community_dict_path(), directory))
        self._jieba.tmp_dir = directory
        self._jieba.initialize()

    def cut(self, text: str) -> list[str]:
        """All tokens including punctuation (what jieba returns)."""
        return list(self._jieba.cut(text, HMM=False))

    def information(self, word: str) -> float:
        """Self-information of a word in jieba's general dictionary (nats): rare = informative."""
        total = self._jieba.total or 1
        freq = self._jieba.FREQ.get(word) or 0
        return math.log(total / max(freq, 1))

    def words(self, text: str) -> list[str]:
        """Tokens that carry meaning: no whitespace, no punctuation.

        No HMM for unknown words: it costs a third of the time and cross-validation shows
        no gain (the character n-grams already see unknown words).
        """
        return [t for t in self._jieba.cut(text, HMM=False) if not _PUNCT_OR_SPACE.match(t)]

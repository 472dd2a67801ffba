"""jieba word segmentation with the community dictionary.

A private `jieba.Tokenizer` (not the global one) so nothing else in the process can change
our dictionary, loaded once, with jieba's prefix-dictionary cache in a writable cache
directory: building the prefix dictionary takes ~1 s, loading the cache ~0.4 s.
"""

from __future__ import annotations

import logging
import math
import os
import re
import tempfile
from importlib import resources

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


class WordTokenizer:
    """Segments normalised text into words; drops whitespace and punctuation tokens."""

    def __init__(self, user_dict: str | None = None) -> None:
        import jieba

        jieba.setLogLevel(logging.WARNING)
        logging.getLogger("jieba").setLevel(logging.WARNING)
        self._jieba = jieba.Tokenizer()
        self._jieba.tmp_dir = cache_dir()
        self._jieba.initialize()
        self._jieba.load_userdict(user_dict or community_dict_path())

    def cut(self, text: str) -> list[str]:
        """All tokens including punctuation (what jieba returns)."""
        return list(self._jieba.cut(text, HMM=True))

    def information(self, word: str) -> float:
        """Self-information of a word in jieba's general dictionary (nats): rare = informative."""
        total = self._jieba.total or 1
        freq = self._jieba.FREQ.get(word) or 0
        return math.log(total / max(freq, 1))

    def words(self, text: str) -> list[str]:
        """Tokens that carry meaning: no whitespace, no punctuation."""
        return [t for t in self._jieba.cut(text, HMM=True) if not _PUNCT_OR_SPACE.match(t)]

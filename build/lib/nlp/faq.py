"""FAQ retrieval: BM25 over jieba tokens of each entry's question and keywords.

BM25 scores are not comparable across queries (they grow with query length), so "is this
a match?" is decided separately, by how much of the query's information the best entry
covers: the share of the query's content words, weighted by how informative each word is,
that occur in the entry. Informativeness is a word's self-information in jieba's general
dictionary (rare words like "驾照" weigh more than "带"), so a query whose topic word is
absent from the entry ("驾照怎么办理" against "居住证怎么办理") is rejected even though its
form words match. Form words ("怎么", "办理") are stopwords and never count.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from importlib import resources
from typing import Callable

# Words that carry the form of a question, not its topic.
STOPWORDS = frozenset(
    "的 了 吗 呢 吧 啊 呀 嘛 么 是 在 有 我 我们 你 你们 请问 请 问 问一下 一下 想 想问 要 需要 能 能不能 可以 "
    "怎么 怎么样 怎样 如何 什么 啥 哪里 哪儿 在哪 在哪里 哪 去 到 和 跟 与 及 还 也 都 就 这个 那个 这 那 "
    "多少 几 个 一个 办 弄 搞 咨询 了解 一些 谢谢 你好 您好 么样 么事 撒 咯 嘞 办理 申请 "
    "什么时候 时候 来 一下子 哪办 在哪办 去哪 去哪里 哪里办 咋办 咋 啥时候 能否 是否 请教 有没有 是不是 吗 可不可以 应该 得 地 把 给 被 让".split()
)


@dataclass
class FaqEntry:
    id: str
    question: str
    answer: str
    keywords: list[str] = field(default_factory=list)


class FaqIndex:
    """Search a small staff-kept FAQ; `best` returns None rather than a wrong answer."""

    MIN_COVERAGE = 0.6  # share of the query's idf mass that the entry must contain
    MIN_OVERLAP = 1  # content words shared with the entry

    def __init__(
        self,
        entries: list[FaqEntry],
        tokenizer: Callable[[str], list[str]],
        weight: Callable[[str], float] | None = None,
    ) -> None:
        """`weight(word)` is a word's informativeness; by default the tokenizer's owner's
        `word_information` (NluEngine.tokenize carries one), else the FAQ's own idf."""
        from rank_bm25 import BM25Okapi

        self.entries = list(entries)
        self._tokenize = tokenizer
        self._docs = [self._doc_tokens(e) for e in self.entries]
        self._doc_sets = [set(d) for d in self._docs]
        self._bm25 = BM25Okapi(self._docs) if self._docs else None
        owner = getattr(tokenizer, "__self__", None)
        self._weight = weight or getattr(owner, "word_information", None) or self._idf
        self._df: dict[str, int] = {}
        for tokens in self._doc_sets:
            for t in tokens:
                self._df[t] = self._df.get(t, 0) + 1

    def _doc_tokens(self, entry: FaqEntry) -> list[str]:
        tokens = self._terms(entry.question)
        for keyword in entry.keywords:
            tokens.extend(self._terms(keyword) or [keyword.lower()])
        return tokens

    def _terms(self, text: str) -> list[str]:
        return [t.lower() for t in self._tokenize(text) if t.strip()]

    def _idf(self, token: str) -> float:
        """Lucene's idf: always positive; unseen words get the largest value."""
        n, df = len(self.entries), self._df.get(token, 0)
        return math.log(1.0 + (n - df + 0.5) / (df + 0.5))

    def search(self, text: str, k: int = 3) -> list[tuple[FaqEntry, float]]:
        """Top k entries by BM25 with a positive score, best first."""
        if not self._bm25 or not text:
            return []
        query = self._terms(text)
        if not query:
            return []
        scores = self._bm25.get_scores(query)
        order = sorted(range(len(scores)), key=lambda i: (-scores[i], i))
        return [(self.entries[i], float(scores[i])) for i in order[:k] if scores[i] > 0]

    def coverage(self, text: str, entry: FaqEntry) -> tuple[float, int]:
        """(idf-weighted share of the query's content words found in entry, count found)."""
        words = {t for t in self._terms(text) if t not in STOPWORDS}
        if not words:
            return 0.0, 0
        doc = self._doc_sets[self.entries.index(entry)]
        total = sum(self._weight(w) for w in words)
        found = [w for w in words if w in doc]
        return sum(self._weight(w) for w in found) / total, len(found)

    def best(self, text: str) -> FaqEntry | None:
        """The top entry if it covers the question well enough, else None.

        Only the top one: a lower-ranked entry that shares the generic words ("几点开门")
        but not the topic would otherwise pass.
        """
        results = self.search(text, k=1)
        if not results:
            return None
        entry = results[0][0]
        share, overlap = self.coverage(text, entry)
        return entry if share >= self.MIN_COVERAGE and overlap >= self.MIN_OVERLAP else None


def load_entries(path: str | None = None) -> list[FaqEntry]:
    """Entries from a JSON list of {id, question, answer, keywords}; default the demo FAQ."""
    path = path or str(resources.files("nlp") / "data" / "faq_demo.json")
    with open(path, encoding="utf-8") as f:
        rows = json.load(f)
    return [FaqEntry(str(r["id"]), r["question"], r["answer"], list(r.get("keywords", []))) for r in rows]

"""The NLU entry point: one message in, an `Understanding` out. Pure and synchronous.

Order of work: normalise -> whole-message command rules (score 1.0) -> guards for input that
carries no Chinese words -> the statistical model -> slots. Nothing here raises for a str:
a resident's message must always get a reply, so a bug degrades to intent "other".
"""

from __future__ import annotations

import gc
import logging
import re
from dataclasses import dataclass, field
from datetime import datetime

from nlp import rules
from nlp.features import message_features
from nlp.intents import INTENTS
from nlp.model import IntentModel
from nlp.normalize import normalize
from nlp.slots import extract_slots
from nlp.timephrase import SHANGHAI
from nlp.tokenize import WordTokenizer

log = logging.getLogger(__name__)

# Chosen by 5-fold cross-validation on our own data (see bench/RESULTS.md): above it, the
# out-of-fold accuracy of confident answers is ~0.95; below it the bot asks back.
DEFAULT_THRESHOLD = 0.5
# Long messages keep their head and tail, where residents put the request, the address and
# the phone number; the classifier reads at most features.MAX_CHARS of the head.
HEAD_CHARS = 400
TAIL_CHARS = 100
_HAS_CJK = re.compile(r"[\u4e00-\u9fff]")


@dataclass(frozen=True)
class Understanding:
    intent: str
    score: float
    alternatives: list[tuple[str, float]]
    confident: bool
    slots: dict = field(default_factory=dict)
    normalized: str = ""

    def to_dict(self) -> dict:
        """JSON-able: datetimes become ISO strings, scores are rounded."""
        slots = {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in self.slots.items()}
        return {
            "intent": self.intent,
            "score": round(self.score, 4),
            "alternatives": [[i, round(s, 4)] for i, s in self.alternatives],
            "confident": self.confident,
            "slots": slots,
            "normalized": self.normalized,
        }


class NluEngine:
    """Holds the loaded tokenizer and model; `understand` is safe to call concurrently."""

    def __init__(self, model: IntentModel, tokenizer: WordTokenizer, threshold: float = DEFAULT_THRESHOLD) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.threshold = threshold

    def normalize(self, text: str) -> str:
        if len(text) > HEAD_CHARS + TAIL_CHARS:
            text = f"{text[:HEAD_CHARS]}\n{text[-TAIL_CHARS:]}"
        return normalize(text)

    def tokenize(self, text: str) -> list[str]:
        """Words of the normalised text (for the FAQ index and other search)."""
        return self.tokenizer.words(self.normalize(text))

    def word_information(self, word: str) -> float:
        """How informative a word is (used by nlp.faq to judge a match)."""
        return self.tokenizer.information(word)

    def understand(self, text: str, now: datetime | None = None) -> Understanding:
        try:
            return self._understand(text, now)
        except Exception:  # a reply matters more than the reason; the log keeps it
            log.exception("nlu failed on a message of %d chars", len(text) if isinstance(text, str) else -1)
            return Understanding("other", 0.0, [("other", 0.0)], False, {}, "")

    def _understand(self, text: str, now: datetime | None) -> Understanding:
        if not isinstance(text, str):
            text = "" if text is None else str(text)
        now = now or datetime.now(SHANGHAI)
        norm = self.normalize(text)
        hit = rules.match(norm)
        if hit:
            slots = extract_slots(norm, hit.intent, now)
            slots.update(hit.slots)
            # A rule is certain, so nobody asks back and the model's runners-up are never
            # needed: skipping the model halves the cost of the commonest messages.
            return Understanding(hit.intent, 1.0, [(hit.intent, 1.0)], True, slots, norm)
        if not _HAS_CJK.search(norm):
            # Empty, digits only, emoji only, English: nothing the model was trained on.
            # Slots still run (a bare "3" is a menu choice, 11 digits a phone number).
            return Understanding("other", 0.0, [("other", 0.0)], False, extract_slots(norm, None, now), norm)
        ranked = self._ranked(norm)
        intent, score = ranked[0]
        slots = extract_slots(norm, intent, now)
        return Understanding(intent, score, ranked[:3], score >= self.threshold, slots, norm)

    def _ranked(self, norm: str) -> list[tuple[str, float]]:
        probs = self.model.probabilities(message_features(norm, self.tokenizer.words))
        return sorted(zip(self.model.classes, probs), key=lambda p: -p[1])


def load_engine(threshold: float | None = None, model_path: str | None = None) -> NluEngine:
    """Load the dictionary, jieba (from its cache) and the shipped model. Call once."""
    model = IntentModel.load(model_path)
    unknown = set(model.classes) - set(INTENTS)
    if unknown:
        raise ValueError(f"model has intents not in INTENTS: {sorted(unknown)}")
    tokenizer = WordTokenizer()
    engine = NluEngine(model, tokenizer, DEFAULT_THRESHOLD if threshold is None else threshold)
    engine.understand("你好")  # first use loads OpenCC's character set and compiles regexes
    # jieba's prefix dictionary and the model are ~200k long-lived container objects; a full
    # cyclic-GC pass over them is a 3-5 ms pause in the middle of some message. Freezing moves
    # everything alive now out of the collector's view (they are never freed anyway).
    gc.freeze()
    return engine

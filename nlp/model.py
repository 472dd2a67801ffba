"""The intent model at run time: a linear model scored in pure Python.

Training needs scikit-learn; answering a message must not (memory, start-up time, and one
less thing to install on the server). The artifact holds, per feature, its idf and one
weight per intent; scoring is sublinear tf-idf, L2 norm, dot product, softmax — exactly what
`nlp.train` fitted, so the probabilities are the logistic regression's own.
"""

from __future__ import annotations

import gzip
import json
import math
from importlib import resources

ARTIFACT_FORMAT = 1


def default_artifact_path() -> str:
    return str(resources.files("nlp") / "data" / "intent_model.json.gz")


class IntentModel:
    """Multinomial logistic regression over hashed-free sparse features."""

    def __init__(self, classes: list[str], bias: list[float], features: dict[str, tuple], meta: dict) -> None:
        self.classes = classes
        self.bias = bias
        self.features = features
        self.meta = meta

    @classmethod
    def from_dict(cls, data: dict) -> "IntentModel":
        if data.get("format") != ARTIFACT_FORMAT:
            raise ValueError(f"intent model format {data.get('format')!r}, expected {ARTIFACT_FORMAT}")
        features = {f: (row[0], tuple(row[1:])) for f, row in data["features"].items()}
        meta = {k: v for k, v in data.items() if k not in ("features", "bias", "classes")}
        return cls(list(data["classes"]), list(data["bias"]), features, meta)

    @classmethod
    def load(cls, path: str | None = None) -> "IntentModel":
        with gzip.open(path or default_artifact_path(), "rt", encoding="utf-8") as f:
            return cls.from_dict(json.load(f))

    def probabilities(self, counts: dict[str, int]) -> list[float]:
        """Softmax over the linear scores; the uniform prior when no feature is known."""
        acc = [0.0] * len(self.classes)
        norm_sq = 0.0
        feats = self.features
        for feature, count in counts.items():
            entry = feats.get(feature)
            if entry is None:
                continue
            value = (1.0 + math.log(count)) * entry[0]
            norm_sq += value * value
            acc = [a + value * w for a, w in zip(acc, entry[1])]
        scale = 1.0 / math.sqrt(norm_sq) if norm_sq > 0 else 0.0
        logits = [b + scale * a for a, b in zip(acc, self.bias)]
        top = max(logits)
        exps = [math.exp(x - top) for x in logits]
        total = sum(exps)
        return [e / total for e in exps]

    def known_fraction(self, counts: dict[str, int]) -> float:
        """Share of the message's features seen in training: low means out of domain."""
        if not counts:
            return 0.0
        known = sum(1 for f in counts if f in self.features)
        return known / len(counts)

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
from operator import mul
from importlib import resources

ARTIFACT_FORMAT = 1


def default_artifact_path() -> str:
    return str(resources.files("nlp") / "data" / "intent_model.json.gz")


class IntentModel:
    """Multinomial logistic regression over sparse features, weights stored class-major."""

    def __init__(self, classes: list[str], bias: list[float], features: dict[str, list], meta: dict) -> None:
        self.classes = classes
        self.bias = bias
        self.meta = meta
        self.index = {f: i for i, f in enumerate(features)}
        self.idf = [row[0] for row in features.values()]
        # One flat list per class: scoring a class is then a C-level sum over a map.
        self.weights = [[row[k + 1] for row in features.values()] for k in range(len(classes))]

    @classmethod
    def from_dict(cls, data: dict) -> "IntentModel":
        if data.get("format") != ARTIFACT_FORMAT:
            raise ValueError(f"intent model format {data.get('format')!r}, expected {ARTIFACT_FORMAT}")
        meta = {k: v for k, v in data.items() if k not in ("features", "bias", "classes")}
        return cls(list(data["classes"]), list(data["bias"]), data["features"], meta)

    @classmethod
    def load(cls, path: str | None = None) -> "IntentModel":
        with gzip.open(path or default_artifact_path(), "rt", encoding="utf-8") as f:
            return cls.from_dict(json.load(f))

    def probabilities(self, counts: dict[str, int]) -> list[float]:
        """Softmax over the linear scores; the uniform prior when no feature is known."""
        index, idf, log = self.index, self.idf, math.log
        rows, values = [], []
        for feature, count in counts.items():
            i = index.get(feature)
            if i is not None:
                rows.append(i)
                values.append(idf[i] * (1.0 + log(count)) if count > 1 else idf[i])
        norm_sq = sum(map(mul, values, values))
        scale = 1.0 / math.sqrt(norm_sq) if norm_sq > 0 else 0.0
        logits = [b + scale * sum(map(mul, values, map(w.__getitem__, rows))) for w, b in zip(self.weights, self.bias)]
        top = max(logits)
        exps = [math.exp(x - top) for x in logits]
        total = sum(exps)
        return [e / total for e in exps]

    @property
    def n_features(self) -> int:
        return len(self.index)

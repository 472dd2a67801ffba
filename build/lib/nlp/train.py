"""Training the intent model (development time only: needs scikit-learn and numpy).

The output is a deterministic artifact: the same data, dictionary and code give the same
bytes, so the shipped model can be checked by retraining (see tests/nlp/test_model.py).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import math
import os
from dataclasses import dataclass
from importlib import resources

from nlp.features import FEATURIZER_VERSION, message_features
from nlp.intents import INTENTS
from nlp.model import ARTIFACT_FORMAT, IntentModel
from nlp.normalize import normalize
from nlp.tokenize import WordTokenizer, community_dict_path

# Chosen by 5-fold cross-validation on our own data (`linli nlu cv`), not on held-out sets.
C = 20.0
MIN_DF = 2
WEIGHT_DECIMALS = 4


@dataclass(frozen=True)
class Example:
    text: str
    intent: str


def default_data_dir() -> str:
    return str(resources.files("nlp") / "data" / "train")


def load_examples(data_dir: str | None = None) -> list[Example]:
    """<intent>.txt (one message a line, '#' comments) and *.jsonl ({"text", "intent"})."""
    data_dir = data_dir or default_data_dir()
    examples: list[Example] = []
    for name in sorted(os.listdir(data_dir)):
        path = os.path.join(data_dir, name)
        if name.endswith(".txt"):
            intent = name[: -len(".txt")]
            if intent not in INTENTS:
                raise ValueError(f"{name}: unknown intent {intent!r}")
            examples.extend(Example(t, intent) for t in _read_lines(path))
        elif name.endswith(".jsonl"):
            examples.extend(_read_jsonl(path))
    return examples


def _read_lines(path: str) -> list[str]:
    with open(path, encoding="utf-8") as f:
        lines = (line.strip() for line in f)
        return [line for line in lines if line and not line.startswith("#")]


def _read_jsonl(path: str) -> list[Example]:
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                row = json.loads(line)
                if row["intent"] not in INTENTS:
                    raise ValueError(f"{path}: unknown intent {row['intent']!r}")
                out.append(Example(row["text"], row["intent"]))
    return out


def data_hash(examples: list[Example]) -> str:
    h = hashlib.sha256()
    for ex in sorted(examples, key=lambda e: (e.intent, e.text)):
        h.update(f"{ex.intent}\t{ex.text}\n".encode())
    with open(community_dict_path(), "rb") as f:
        h.update(f.read())
    return h.hexdigest()


def featurize_all(texts: list[str], tokenizer: WordTokenizer) -> list[dict[str, int]]:
    out = []
    for text in texts:
        out.append(message_features(normalize(text), tokenizer.words))
    return out


def fit(examples: list[Example], tokenizer: WordTokenizer, c: float = C, feats=None) -> dict:
    """Fit and return the artifact as a dict (see nlp.model for its meaning)."""
    import numpy as np
    from scipy.sparse import csr_matrix
    from sklearn.linear_model import LogisticRegression

    feats = feats if feats is not None else featurize_all([e.text for e in examples], tokenizer)
    vocab, idf = _vocabulary(feats)
    index = {f: i for i, f in enumerate(vocab)}
    rows, cols, vals = [], [], []
    for r, counts in enumerate(feats):
        entries = [(index[f], (1.0 + math.log(n)) * idf[index[f]]) for f, n in counts.items() if f in index]
        norm = math.sqrt(sum(v * v for _, v in entries)) or 1.0
        for col, v in sorted(entries):
            rows.append(r)
            cols.append(col)
            vals.append(v / norm)
    x = csr_matrix((vals, (rows, cols)), shape=(len(feats), len(vocab)), dtype=np.float64)
    classes = [i for i in INTENTS if any(e.intent == i for e in examples)]
    y = np.array([classes.index(e.intent) for e in examples])
    from threadpoolctl import threadpool_limits

    clf = LogisticRegression(C=c, max_iter=5000, tol=1e-6, class_weight="balanced")
    with threadpool_limits(limits=1):  # one BLAS thread: the same sums in the same order
        clf.fit(x, y)
    coef = clf.coef_
    features = {}
    for f, i in index.items():
        weights = [_round(w) for w in coef[:, i]]
        features[f] = [_round(idf[i])] + weights
    return {
        "format": ARTIFACT_FORMAT,
        "featurizer": FEATURIZER_VERSION,
        "classes": classes,
        "bias": [_round(b) for b in clf.intercept_],
        "features": features,
        "config": {"C": c, "min_df": MIN_DF, "model": "LogisticRegression(lbfgs, balanced)"},
        "n_examples": len(examples),
        "data_sha256": data_hash(examples),
    }


def _vocabulary(feats: list[dict[str, int]]) -> tuple[list[str], list[float]]:
    """Features in >= MIN_DF messages, sorted; smoothed idf as in scikit-learn."""
    df: dict[str, int] = {}
    for counts in feats:
        for f in counts:
            df[f] = df.get(f, 0) + 1
    vocab = sorted(f for f, n in df.items() if n >= MIN_DF)
    n_docs = len(feats)
    idf = [math.log((1 + n_docs) / (1 + df[f])) + 1.0 for f in vocab]
    return vocab, idf


def _round(x: float) -> float:
    value = round(float(x), WEIGHT_DECIMALS)
    return 0.0 if value == 0 else value  # no "-0.0": keeps the bytes stable


def serialize(artifact: dict) -> bytes:
    """Stable bytes: sorted keys, no timestamps in the gzip header."""
    text = json.dumps(artifact, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return gzip.compress(text.encode("utf-8"), compresslevel=9, mtime=0)


def train(data_dir: str | None = None, out_path: str | None = None) -> tuple[str, dict]:
    """Train from data_dir and write the artifact; returns (path, artifact)."""
    from nlp.model import default_artifact_path

    examples = load_examples(data_dir)
    artifact = fit(examples, WordTokenizer())
    out_path = out_path or default_artifact_path()
    tmp = out_path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(serialize(artifact))
    os.replace(tmp, out_path)
    return out_path, artifact


def model_from_artifact(artifact: dict) -> IntentModel:
    return IntentModel.from_dict(artifact)

"""Cross-validation and a held-out split of our own training data (needs scikit-learn).

Used to choose C and the confidence threshold; never run on the external held-out sets.
"""

from __future__ import annotations

from dataclasses import dataclass

from nlp.evaluate import Report, evaluate
from nlp.intents import INTENTS
from nlp.train import Example, featurize_all, fit, model_from_artifact
from nlp.tokenize import WordTokenizer

SEED = 0


@dataclass(frozen=True)
class CvResult:
    folds: Report  # pooled out-of-fold predictions
    holdout: Report  # 80/20 stratified split
    scored: list[tuple[str, str, float]]  # (gold, predicted, probability) out of fold


def _predict(artifact: dict, feats: list[dict[str, int]]) -> list[tuple[str, float]]:
    model = model_from_artifact(artifact)
    out = []
    for counts in feats:
        probs = model.probabilities(counts)
        best = max(range(len(probs)), key=probs.__getitem__)
        out.append((model.classes[best], probs[best]))
    return out


def cross_validate(examples: list[Example], k: int = 5, c: float | None = None) -> CvResult:
    from sklearn.model_selection import StratifiedKFold, train_test_split

    tokenizer = WordTokenizer()
    feats = featurize_all([e.text for e in examples], tokenizer)
    labels = [e.intent for e in examples]
    kwargs = {} if c is None else {"c": c}
    gold, pred, scored = [], [], []
    folds = StratifiedKFold(n_splits=k, shuffle=True, random_state=SEED)
    for train_idx, test_idx in folds.split(feats, labels):
        artifact = fit([examples[i] for i in train_idx], tokenizer, feats=[feats[i] for i in train_idx], **kwargs)
        for i, (p, prob) in zip(test_idx, _predict(artifact, [feats[i] for i in test_idx])):
            gold.append(labels[i])
            pred.append(p)
            scored.append((labels[i], p, prob))
    train_idx, test_idx = train_test_split(
        list(range(len(examples))), test_size=0.2, random_state=SEED + 42, stratify=labels
    )
    artifact = fit([examples[i] for i in train_idx], tokenizer, feats=[feats[i] for i in train_idx], **kwargs)
    hold_pred = [p for p, _ in _predict(artifact, [feats[i] for i in test_idx])]
    holdout = evaluate([labels[i] for i in test_idx], hold_pred, INTENTS)
    return CvResult(evaluate(gold, pred, INTENTS), holdout, scored)


def threshold_table(scored: list[tuple[str, str, float]], steps=(0.3, 0.4, 0.5, 0.6, 0.7, 0.8)) -> str:
    """For each threshold: share answered confidently and accuracy of those answers."""
    lines = [f"{'threshold':>10}{'confident':>11}{'acc_confident':>15}{'acc_rest':>10}"]
    for t in steps:
        conf = [g == p for g, p, s in scored if s >= t]
        rest = [g == p for g, p, s in scored if s < t]
        share = len(conf) / len(scored)
        acc = sum(conf) / len(conf) if conf else 0.0
        acc_rest = sum(rest) / len(rest) if rest else 0.0
        lines.append(f"{t:>10.2f}{share:>11.3f}{acc:>15.3f}{acc_rest:>10.3f}")
    return "\n".join(lines)

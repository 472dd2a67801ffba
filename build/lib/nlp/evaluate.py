"""Classification metrics in plain Python (the eval command must not need scikit-learn)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Report:
    labels: list[str]  # intents among the gold labels, in a stable order
    per_label: dict[str, tuple[float, float, float, int]]  # precision, recall, f1, support
    confusion: dict[str, dict[str, int]]  # gold -> predicted -> count
    accuracy: float
    macro_f1: float
    n: int


def evaluate(gold: list[str], pred: list[str], order: tuple[str, ...] = ()) -> Report:
    """Macro-F1 averages over the intents that occur among the gold labels."""
    present = set(gold)
    labels = [i for i in order if i in present] + sorted(present - set(order))
    confusion: dict[str, dict[str, int]] = {g: {} for g in labels}
    for g, p in zip(gold, pred):
        confusion[g][p] = confusion[g].get(p, 0) + 1
    per_label = {}
    for label in labels:
        tp = confusion[label].get(label, 0)
        support = sum(confusion[label].values())
        predicted = sum(1 for p in pred if p == label)
        precision = tp / predicted if predicted else 0.0
        recall = tp / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_label[label] = (precision, recall, f1, support)
    n = len(gold)
    accuracy = sum(1 for g, p in zip(gold, pred) if g == p) / n if n else 0.0
    macro = sum(v[2] for v in per_label.values()) / len(labels) if labels else 0.0
    return Report(labels, per_label, confusion, accuracy, macro, n)


def format_report(report: Report) -> str:
    """Per-intent table, confusion matrix, and the summary line last (scripts parse it)."""
    lines = [f"{'intent':<18}{'precision':>10}{'recall':>10}{'f1':>10}{'support':>9}"]
    for label in report.labels:
        p, r, f, s = report.per_label[label]
        lines.append(f"{label:<18}{p:>10.3f}{r:>10.3f}{f:>10.3f}{s:>9d}")
    predicted = sorted({p for row in report.confusion.values() for p in row} - set(report.labels))
    columns = report.labels + predicted
    short = [c[:6] for c in columns]
    lines.append("")
    lines.append("confusion (rows = gold, columns = predicted)")
    lines.append(" " * 18 + "".join(f"{s:>8}" for s in short))
    for label in report.labels:
        row = report.confusion[label]
        lines.append(f"{label:<18}" + "".join(f"{row.get(c, 0):>8d}" for c in columns))
    lines.append(summary_line(report))
    return "\n".join(lines)


def summary_line(report: Report) -> str:
    return f"accuracy={report.accuracy:.3f} macro_f1={report.macro_f1:.3f} n={report.n}"

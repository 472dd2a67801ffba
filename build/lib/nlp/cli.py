"""`linli nlu ...`: classify one message, evaluate on a labelled file, train, cross-validate."""

from __future__ import annotations

import json
import time

import click

from nlp.evaluate import evaluate, format_report
from nlp.intents import INTENTS

nlu = click.Group("nlu", help="Natural-language understanding: intents and slots.")


@nlu.command("classify")
@click.argument("text")
@click.option("--threshold", type=float, default=None, help="Confidence threshold (default: the engine's).")
def classify(text: str, threshold: float | None) -> None:
    """Print the understanding of TEXT as JSON."""
    from nlp import load_engine

    u = load_engine(threshold=threshold).understand(text)
    click.echo(json.dumps(u.to_dict(), ensure_ascii=False))


@nlu.command("eval")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def eval_(path: str) -> None:
    """Evaluate on a JSONL file of {"text", "intent"}; the last line is the summary."""
    from nlp import load_engine

    engine = load_engine()
    gold, pred = [], []
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                text, intent = row["text"], row["intent"]
            except (ValueError, KeyError, TypeError) as exc:
                raise click.ClickException(f"{path}:{number}: expected {{\"text\", \"intent\"}}: {exc}")
            gold.append(intent)
            pred.append(engine.understand(text).intent)
    if not gold:
        raise click.ClickException(f"{path}: no examples")
    click.echo(format_report(evaluate(gold, pred, INTENTS)))


@nlu.command("train")
@click.option("--data", "data_dir", type=click.Path(exists=True, file_okay=False), default=None,
              help="Directory of <intent>.txt / *.jsonl (default: nlp/data/train).")
@click.option("--out", "out_path", type=click.Path(dir_okay=False), default=None,
              help="Artifact path (default: nlp/data/intent_model.json.gz).")
def train_cmd(data_dir: str | None, out_path: str | None) -> None:
    """Train the intent model and write the artifact (deterministic)."""
    from nlp.train import train

    started = time.perf_counter()
    path, artifact = train(data_dir, out_path)
    click.echo(
        f"wrote {path}: {artifact['n_examples']} examples, {len(artifact['features'])} features, "
        f"data {artifact['data_sha256'][:12]}, {time.perf_counter() - started:.1f} s"
    )


@nlu.command("cv")
@click.option("--data", "data_dir", type=click.Path(exists=True, file_okay=False), default=None)
@click.option("--folds", type=int, default=5, show_default=True)
def cv_cmd(data_dir: str | None, folds: int) -> None:
    """K-fold cross-validation and an 80/20 held-out split of the training data."""
    from nlp.crossval import cross_validate, threshold_table
    from nlp.evaluate import summary_line
    from nlp.train import load_examples

    result = cross_validate(load_examples(data_dir), k=folds)
    click.echo(f"== {folds}-fold cross-validation (model only, no rules)")
    click.echo(format_report(result.folds))
    click.echo("\n== confidence threshold (out-of-fold)")
    click.echo(threshold_table(result.scored))
    click.echo("\n== held-out 20% split")
    click.echo(f"cv {summary_line(result.folds)}")
    click.echo(f"holdout {summary_line(result.holdout)}")

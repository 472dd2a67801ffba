import gzip
import json
import os

from nlp.model import IntentModel, default_artifact_path
from nlp.train import load_examples, train
from nlp.intents import INTENTS


def test_artifact_is_shipped_and_small():
    path = default_artifact_path()
    assert os.path.exists(path)
    assert os.path.getsize(path) < 10 * 1024 * 1024


def test_artifact_loads():
    model = IntentModel.load()
    assert model.classes == list(INTENTS)
    assert model.meta["n_examples"] >= 1500
    probs = model.probabilities({})
    assert abs(sum(probs) - 1.0) < 1e-9


def test_training_data_is_rich_enough():
    examples = load_examples()
    for intent in INTENTS:
        assert sum(1 for e in examples if e.intent == intent) >= 150, intent


def test_retraining_reproduces_the_shipped_artifact(tmp_path):
    out = tmp_path / "model.json.gz"
    train(out_path=str(out))
    with open(default_artifact_path(), "rb") as f:
        shipped = f.read()
    assert out.read_bytes() == shipped, "shipped model is stale: run `linli nlu train`"
    with gzip.open(out, "rt", encoding="utf-8") as f:
        assert json.load(f)["format"] == 1

import json
import re

from click.testing import CliRunner

from nlp.cli import nlu


def test_classify_prints_json():
    result = CliRunner().invoke(nlu, ["classify", "3栋2单元楼道灯坏了"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["intent"] == "repair"
    assert data["slots"]["address"] == "3栋2单元"
    assert "楼道灯" in result.output  # ensure_ascii=False


def test_eval_last_line(tmp_path):
    rows = [
        {"text": "楼道灯坏了", "intent": "repair"},
        {"text": "转人工", "intent": "handoff"},
        {"text": "你好", "intent": "greeting"},
        {"text": "明天星期几", "intent": "other"},
    ]
    path = tmp_path / "gold.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    result = CliRunner().invoke(nlu, ["eval", str(path)])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert re.fullmatch(r"accuracy=\d\.\d{3} macro_f1=\d\.\d{3} n=4", lines[-1])
    assert lines[-1] == "accuracy=1.000 macro_f1=1.000 n=4"
    assert any(line.startswith("repair") for line in lines)
    assert any("confusion" in line for line in lines)


def test_eval_rejects_bad_lines(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"text": "x"}\n', encoding="utf-8")
    result = CliRunner().invoke(nlu, ["eval", str(path)])
    assert result.exit_code != 0


def test_train_writes_artifact(tmp_path):
    data = tmp_path / "train"
    data.mkdir()
    (data / "repair.txt").write_text("楼道灯坏了\n电梯坏了\n水管坏了\n", encoding="utf-8")
    (data / "greeting.txt").write_text("你好\n你好呀\n您好\n", encoding="utf-8")
    out = tmp_path / "m.json.gz"
    result = CliRunner().invoke(nlu, ["train", "--data", str(data), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.exists() and "examples" in result.output

"""NLU benchmark (run by hand): readiness, memory, throughput and latency on one core.

    .venv/bin/python bench/nlu.py                      # our own training messages
    .venv/bin/python bench/nlu.py --data ../shared/data/teddycup2020-gov-messages/messages_unlabeled.csv

Each message goes through the whole `understand`: normalisation, rules, tokenisation,
the model and slots. Readiness and memory are measured in a fresh subprocess (import +
load_engine + first classify). The last line is `msgs_per_s=N p99_ms=N`.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

_CHILD = r"""
import time, sys
t0 = time.perf_counter()
def rss_kb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
before = rss_kb()
from nlp import load_engine
engine = load_engine()
engine.understand("3栋2单元楼道灯坏了")
ready = time.perf_counter() - t0
for text in ["楼上半夜拖椅子吵得睡不着", "居住证怎么办理", "我上周报修的灯怎么还没人修"] * 50:
    engine.understand(text)
print(ready, before, rss_kb())
"""


def readiness() -> dict:
    """Process start -> first answer, in a fresh interpreter; and the RSS the NLU adds."""
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", _CHILD], capture_output=True, text=True, cwd=ROOT, check=True)
    wall = time.perf_counter() - started
    ready_in_process, before_kb, after_kb = proc.stdout.split()
    return {
        "process_wall_s": round(wall, 3),
        "import_load_classify_s": round(float(ready_in_process), 3),
        "added_rss_mb": round((int(after_kb) - int(before_kb)) / 1024, 1),
    }


def own_messages() -> list[str]:
    from nlp.train import load_examples

    return [e.text for e in load_examples()]


def file_messages(path: str, limit: int) -> list[str]:
    """Texts from a CSV (column `text`, plus `title` when present), JSONL or plain text."""
    out: list[str] = []
    with open(path, encoding="utf-8") as f:
        if path.endswith(".csv"):
            for row in csv.DictReader(f):
                out.extend(t for t in (row.get("title"), row.get("text")) if t)
        elif path.endswith(".jsonl"):
            out = [json.loads(line)["text"] for line in f if line.strip()]
        else:
            out = [line.strip() for line in f if line.strip()]
    return out[:limit]


def run(messages: list[str], rounds: int) -> dict:
    from nlp import load_engine

    engine = load_engine()
    for text in messages[:200]:  # warm-up
        engine.understand(text)
    latencies = []
    intents: dict[str, int] = {}
    started = time.perf_counter()
    for _ in range(rounds):
        for text in messages:
            t = time.perf_counter_ns()
            u = engine.understand(text)
            latencies.append(time.perf_counter_ns() - t)
            intents[u.intent] = intents.get(u.intent, 0) + 1
    elapsed = time.perf_counter() - started
    latencies.sort()
    pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] / 1e6  # noqa: E731
    return {
        "messages": len(latencies),
        "mean_chars": round(sum(map(len, messages)) / len(messages), 1),
        "msgs_per_s": int(len(latencies) / elapsed),
        "p50_ms": round(pick(0.50), 3),
        "p99_ms": round(pick(0.99), 3),
        "max_ms": round(latencies[-1] / 1e6, 3),
        "intents": dict(sorted(intents.items(), key=lambda kv: -kv[1])),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", help="CSV/JSONL/TXT of realistic messages (default: our training texts)")
    parser.add_argument("--limit", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core
    print("readiness:", json.dumps(readiness()))
    messages = file_messages(args.data, args.limit) if args.data else own_messages()
    result = run(messages, args.rounds)
    print("run:", json.dumps(result, ensure_ascii=False))
    print(f"msgs_per_s={result['msgs_per_s']} p99_ms={result['p99_ms']}")


if __name__ == "__main__":
    main()

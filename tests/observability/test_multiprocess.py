"""Several `linli serve` workers behind one port: in multiprocess mode (PROMETHEUS_MULTIPROC_DIR)
any worker's /metrics adds up every worker's counters and histograms, and the scheduler lag is
the most recent one written. The single-process mode is what the other tests in this folder use."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from prometheus_client import generate_latest

from bot.observability import metrics
from tests.observability.conftest import Scrape

ROOT = Path(__file__).resolve().parents[2]


def _worker(directory: Path, messages: int, lag: float) -> int:
    env = {**os.environ, metrics.MULTIPROCESS_ENV: str(directory)}
    done = subprocess.run([sys.executable, "-m", "tests.observability.metrics_worker", str(messages), str(lag)],
                          cwd=ROOT, env=env, capture_output=True, text=True, check=True, timeout=60)
    return int(done.stdout.split()[0])


def test_two_workers_are_added_up_in_multiprocess_mode(tmp_path):
    pids = [_worker(tmp_path, 3, 0.25), _worker(tmp_path, 2, 1.5)]
    # the env var switched prometheus_client to files, one per process
    assert sorted(p.name for p in tmp_path.glob("counter_*.db")) == sorted(f"counter_{pid}.db" for pid in pids)
    merged = Scrape(generate_latest(metrics.registry(path=str(tmp_path))).decode())
    assert merged.value("linli_messages_total", type="text", intent="greeting") == 5
    assert merged.value("linli_reply_latency_seconds_count") == 2
    assert merged.value("linli_scheduler_lag_seconds", job="reminders") == 1.5  # the later write
    assert merged.find("process_cpu_seconds_total") == []  # per-process collectors have no meaning merged


def test_single_process_mode_shows_this_process_only():
    assert metrics.multiprocess_dir() is None
    own = Scrape(generate_latest(metrics.registry()).decode())
    assert own.find("process_cpu_seconds_total") or own.find("python_info")
    assert own.find("linli_deadline_misses_total")

"""Smoke tests of the experiments' benches: each runs end to end on a tiny run of the bundled sample."""
from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import ROOT

ENV = {**os.environ, "CNN_DASH_DATA_DIR": "/nonexistent", "CNN_DASH_DOWNLOAD": "0"}


def run(*args: str) -> str:
    done = subprocess.run([sys.executable, "-m", *args], cwd=ROOT, env=ENV, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_bench_experiments_prints_the_sentences_and_the_table():
    out = run("bench.bench_experiments", "--experiments", "shifted_copies", "--datasets", "MNIST", "--seeds", "0",
              "--images", "100", "--epochs", "1", "--shift", "1", "--source", "bundled", "--threads", "1")
    assert "Test images moved by 1 pixels" in out and "| MNIST | mean |" in out
    row = next(line for line in out.splitlines() if line.startswith("| MNIST | 0 |"))
    assert "Shifted copies" in row or "Without shifted copies" in row  # the page's sentence, in the table


def test_bench_race_prints_the_compute_of_every_preset():
    out = run("bench.bench_race", "--compute-only")
    for name in ("Quick demo", "Locality vs sharing", "FC net with shifted copies vs CNN without", "The 99% race"):
        assert name in out
    assert "billion training multiply-adds in all" in out


def test_bench_race_prints_the_time_to_the_target_and_the_frontier():
    out = run("bench.bench_race", "--source", "bundled", "--images", "200", "--epochs", "1", "--seeds", "0,1",
              "--threads", "1")
    assert out.count("time to 99.0%:") == 4 and "CPU-s" in out
    frontier = out.split("accuracy-versus-time frontier over these runs:")[1].strip().splitlines()
    accs = [float(line.split("%")[0]) for line in frontier]
    assert accs and accs == sorted(set(accs))  # each point more accurate than every sooner one

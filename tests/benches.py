"""Run a bench end to end at a tiny size, as a smoke test does: its own process, the bundled sample, no downloads."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCHES = sorted(p.stem for p in (ROOT / "bench").glob("*.py") if p.stem not in ("__init__", "server_stats"))
# The bundled sample: an empty CNN_DASH_DATA_DIR is no folder (and keeps bench_train off ../shared/datasets).
ENV = {"CNN_DASH_DATA_DIR": "", "CNN_DASH_DOWNLOAD": "0", "CNN_DASH_LIMITS": "shared"}


def run_bench(name: str, *args: str, timeout_s: float = 300) -> str:
    """`python3 -m bench.<name> args...` from the repository's root; its output, after checking it exited with 0."""
    done = subprocess.run([sys.executable, "-m", f"bench.{name}", *args], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, **ENV}, timeout=timeout_s)
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"bench.{name} exited with {done.returncode}:\n{output[-3000:]}"
    return output

"""The run-time estimate beside the measured wall time, for the Quick demo, the Training page's defaults,
tutorial 000 and a data-efficiency sweep. Each case runs in a fresh process, as the first run after a server
start: the process imports the app's modules and loads the data (as the page has done before it shows an
estimate), computes the estimate the page shows (cnn_dash.estimate, with the scheduler's threads), then trains
through the scheduler and times from the click (submit) to the end of the run. Prints; asserts nothing.

    python3 -m bench.bench_estimate [--data bundled|full] [--cases demo,defaults,000,sweep]

The full datasets come from CNN_DASH_DATA_DIR (default ../shared/datasets). Aim: within ±35%.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
AIM = 0.35

CHILD = r'''
import json, sys, time
case, source = sys.argv[1], sys.argv[2]
t0 = time.perf_counter()
from dataclasses import replace
from cnn_dash.data import load_dataset
from cnn_dash.estimate import estimate_run, estimate_sweep
from cnn_dash.presets import PRESETS, quick_demo
from cnn_dash.runs import Run
from cnn_dash.scheduler import Scheduler
from cnn_dash.specs import ModelConfig, OptimizerSpec, TrainSettings
from cnn_dash.sweep import plan_sweep
from cnn_dash.tutorials import TUTORIALS
imported = time.perf_counter() - t0
src = None if source == "full" else "bundled"
ds = load_dataset("MNIST", source=src)
train_size, test_size = len(ds.train_labels), len(ds.test_labels)
sgd = OptimizerSpec("sgd", 0.01, 0.9)
defaults = (TrainSettings("MNIST", min(10_000, train_size), 64, 2, 0),
            (ModelConfig("A", PRESETS["Small CNN (batch norm)"], sgd),
             ModelConfig("B", PRESETS["FCNet (CNN notebook)"], sgd)))
cases = {"demo": quick_demo(), "defaults": defaults, "000": (TUTORIALS["000"].settings, TUTORIALS["000"].models),
         "tiny": (replace(defaults[0], train_subset=1_000, epochs=1), defaults[1])}  # tiny: the smoke test's
sched = Scheduler(max_running=1)
settings, models = cases["defaults" if case == "sweep" else case]
settings = replace(settings, source=src, train_subset=min(settings.train_subset or train_size, train_size))
if settings.train_subset == train_size:
    settings = replace(settings, train_subset=None)
t1 = time.perf_counter()
if case == "sweep":
    plan = plan_sweep(settings, models, train_size)
    estimate = estimate_sweep(plan, train_size, test_size, threads=sched.threads_per_run)
    runs = [Run(s, plan.models) for s in plan.runs]
else:
    estimate = estimate_run(settings, models, train_size, test_size, threads=sched.threads_per_run).seconds
    runs = [Run(settings, tuple(models))]
timing = time.perf_counter() - t1
start = time.perf_counter()
for run in runs:
    sched.submit(run.training)
while any(r.active for r in runs):
    time.sleep(0.02)
measured = time.perf_counter() - start
print(json.dumps({"case": case, "estimate": estimate, "measured": measured, "imports": imported, "timing": timing,
                  "steps": sum(r.history[-1].step for r in runs if r.history), "runs": len(runs),
                  "status": [str(r.status) for r in runs]}))
'''


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", choices=("bundled", "full"), default="full")
    parser.add_argument("--cases", default="demo,defaults,000,sweep")
    args = parser.parse_args()
    env = {**os.environ, "CNN_DASH_DOWNLOAD": "0",
           "CNN_DASH_DATA_DIR": os.environ.get("CNN_DASH_DATA_DIR", str(ROOT.parent / "shared" / "datasets"))}
    print(f"{'case':10} {'estimate':>9} {'measured':>9} {'est/meas':>9}  aim ±{AIM:.0%}  (data: {args.data}; "
          f"a fresh process per case; timing the steps for the estimate took apart)")
    for case in args.cases.split(","):
        print(run_case(case, args.data, env))


def run_case(case: str, data: str, env: dict[str, str] | None = None) -> str:
    """One case in a fresh process: its line of the table."""
    env = env or {**os.environ, "CNN_DASH_DOWNLOAD": "0"}
    out = subprocess.run([sys.executable, "-c", CHILD, case, data], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=3600)
    if out.returncode != 0:
        return f"{case:10} failed: {out.stderr.strip().splitlines()[-1:]}"
    r = json.loads(out.stdout.strip().splitlines()[-1])
    ratio = r["estimate"] / r["measured"]
    verdict = "within" if abs(ratio - 1) <= AIM else "OUTSIDE"
    return (f"{case:10} {r['estimate']:8.1f}s {r['measured']:8.1f}s {ratio:9.2f}  {verdict}  ({r['runs']} run(s), "
            f"{r['steps']:,} steps, imports {r['imports']:.1f}s, estimate's timing {r['timing']:.1f}s, "
            f"{', '.join(r['status'])})")


if __name__ == "__main__":
    main()

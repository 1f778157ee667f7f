"""The 99% race, and what every one-click preset costs.

    python3 -m bench.bench_race [--seeds 0,1,2] [--target 0.99] [--epochs 2,3,4] [--threads N] [--compute-only]

First the compute of each preset (the quick demo and cnn_dash.experiments): per model, parameters and forward
multiply-adds per image, and the run's training multiply-adds (images × epochs × 3 × forward, all models). Then the
race preset trained on full MNIST as the page trains it (its test evaluations count in the wall time), once per
seed and number of epochs (default: the preset's), every test evaluation printed as (seconds, accuracy), each
model's time to the target, and the run's wall and CPU seconds. Last, the CNN's accuracy-versus-time frontier over
those runs: the evaluations no other run beat sooner. Timings depend on the machine's load, printed beside them
(--threads 1 gives CPU-seconds that load distorts least). Set CNN_DASH_DATA_DIR for the full datasets (default:
../shared/datasets when present).
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SHARED = ROOT.parent / "shared" / "datasets"
if "CNN_DASH_DATA_DIR" not in os.environ and SHARED.is_dir():
    os.environ["CNN_DASH_DATA_DIR"] = str(SHARED)

import torch  # noqa: E402

from cnn_dash.compute import BACKWARD_FACTOR  # noqa: E402
from cnn_dash.data import load_dataset  # noqa: E402
from cnn_dash.experiments import EXPERIMENTS, race_sentence, time_to  # noqa: E402
from cnn_dash.presets import quick_demo  # noqa: E402
from cnn_dash.shapes import net_cost  # noqa: E402
from cnn_dash.train import Trainer  # noqa: E402


def presets() -> dict[str, tuple]:
    """Preset name -> (settings, models), as the Training page starts them."""
    out = {"Quick demo": quick_demo()}
    for key, make in EXPERIMENTS.items():
        exp = make()
        out[exp.title] = (exp.settings, exp.models)
    return out


def print_compute(train_size: int) -> None:
    print(f"Compute of each preset (training multiply-adds = images × epochs × {BACKWARD_FACTOR} × forward):")
    for name, (settings, models) in presets().items():
        images = min(settings.train_subset or train_size, train_size)
        total = sum(net_cost(m.net)[1] for m in models) * images * settings.epochs * BACKWARD_FACTOR
        print(f"  {name}: {images:,} images × {settings.epochs} epochs, batch {settings.batch_size}; "
              f"{total / 1e9:,.0f} billion training multiply-adds in all")
        for m in models:
            params, macs = net_cost(m.net)
            print(f"    {m.label}: {params:,} parameters, {macs:,} multiply-adds per image forward, "
                  f"{macs * images * settings.epochs * BACKWARD_FACTOR / 1e9:,.1f} billion to train")


def race(seed: int, target: float, epochs: int | None, images: int | None = None,
         source: str | None = None) -> list[tuple[float, float, str]]:
    """Train the race once; the CNN's (seconds, test accuracy, which run) at every evaluation."""
    exp = EXPERIMENTS["race"]("MNIST", seed)
    settings = replace(exp.settings, source=source, **({"epochs": epochs} if epochs else {}),
                       **({"train_subset": images} if images else {}))
    load_before = os.getloadavg()[0]
    trainer = Trainer(settings, exp.models)
    start, cpu = time.perf_counter(), time.process_time()
    history = list(trainer)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    print(f"\nThe 99% race (seed {seed}): {', '.join(m.label for m in exp.models)}; {settings.epochs} epochs of "
          f"{len(trainer.data.train_labels):,} images, batch {settings.batch_size}, {settings.evals_per_epoch} "
          f"test evaluations per epoch; {torch.get_num_threads()} threads on {os.cpu_count()} cores; "
          f"load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after; {wall:.1f} s in all, "
          f"{cpu:.1f} CPU-s")
    for m in exp.models:
        frontier = [(p.elapsed_s, p.test_acc) for p in history if p.label == m.label and p.test_acc is not None]
        print(f"  {m.label}: " + ", ".join(f"{acc:.2%} at {s:.1f} s" for s, acc in frontier))
        hit = time_to(history, m.label, target)
        print(f"    time to {target:.1%}: " + (f"{hit.elapsed_s:.1f} s (epoch {hit.epoch:.2f})" if hit else "not reached"))
    print("  " + race_sentence(history, exp.models, target))
    cnn = exp.models[0].label
    return [(p.elapsed_s, p.test_acc, f"seed {seed}, {settings.epochs} epochs, epoch {p.epoch:.2f}")
            for p in history if p.label == cnn and p.test_acc is not None]


def print_frontier(points: list[tuple[float, float, str]]) -> None:
    """The evaluations that no other was as accurate as, sooner: the best accuracy each time buys."""
    best, front = -1.0, []
    for seconds, acc, where in sorted(points, key=lambda p: (p[0], -p[1])):
        if acc > best:
            best = acc
            front.append(f"{acc:.2%} at {seconds:.1f} s ({where})")
    print("\nThe CNN's accuracy-versus-time frontier over these runs:\n  " + "\n  ".join(front))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", default="0", help="comma-separated seeds, one race each")
    parser.add_argument("--target", type=float, default=0.99)
    parser.add_argument("--epochs", default="", help="comma-separated epochs, one race each (default: the preset's)")
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's)")
    parser.add_argument("--images", type=int, help="training images (default: all; fewer only for smoke tests)")
    parser.add_argument("--source", help="a data source to force, e.g. bundled (tests)")
    parser.add_argument("--compute-only", action="store_true", help="print the presets' compute, train nothing")
    args = parser.parse_args()
    print_compute(len(load_dataset("MNIST", source=args.source).train_labels))
    if args.compute_only:
        return
    if args.threads:
        torch.set_num_threads(args.threads)
    points = []
    for epochs in [int(e) for e in args.epochs.split(",") if e] or [None]:
        for seed in [int(s) for s in args.seeds.split(",")]:
            points += race(seed, args.target, epochs, args.images, args.source)
    print_frontier(points)


if __name__ == "__main__":
    main()

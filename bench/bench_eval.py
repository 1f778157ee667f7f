"""Time to evaluate two models on 10,000 test images: cnn_dash.metrics against a seed-notebook style loop.

Run: python3 bench/bench_eval.py [--images 10000] [--pairs 5] [--repeat 5]   (uses CNN_DASH_DATA_DIR's full test
set when set, else the bundled sample repeated to 10,000 images). Prints seconds per pair and the ratio, measured
side by side. --images, --pairs (the first N) and --repeat make it tiny for the smoke test.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from cnn_dash import metrics  # noqa: E402
from cnn_dash.build import build_model  # noqa: E402
from cnn_dash.data import load_dataset, normalize  # noqa: E402
from cnn_dash.presets import PRESETS  # noqa: E402
from cnn_dash.presets import quick_demo  # noqa: E402

N = 10_000
PAIRS = (  # the quick-demo pair first (the classroom preset), then the seed tutorials' networks
    ("quick demo", "quick demo"),
    ("ConvNet + ReLU (CNN notebook)", "FCNet (CNN notebook)"),
    ("LeNet-5", "MLP 784-128-10"),
    ("Three-conv 'same' CNN (Fashion-MNIST tutorial)", "MLP 784-256-128-10"),
    ("Two-block 5×5 CNN (2020 tutorial)", "MLP 784-256-128-10"),
)


def best_of(repeats: int, fn) -> tuple[float, float]:
    """The fastest of `repeats` runs of fn(): (wall seconds, CPU seconds of this process).

    CPU seconds are less disturbed than wall time when other processes share the cores.
    """
    runs = []
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        fn()
        runs.append((time.perf_counter() - wall, time.process_time() - cpu))
    return min(runs)


def seed_style(models, images, labels, dataset) -> None:
    """The seed notebooks' way: batches of 64, float conversion per batch, predictions collected in Python."""
    for model in models.values():
        preds = []
        with torch.no_grad():
            for start in range(0, len(images), 64):
                x = normalize(images[start : start + 64], dataset)
                preds.extend(model(x).argmax(1).tolist())
        metrics.confusion_matrix(labels, preds, 10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", type=int, default=N, help=f"test images (default {N:,})")
    parser.add_argument("--pairs", type=int, default=len(PAIRS), help="the first N pairs (default all)")
    parser.add_argument("--repeat", type=int, default=5, help="best of this many timings (default 5; the seed "
                                                                  "loop: 3 at most)")
    args = parser.parse_args()
    n = args.images
    data = load_dataset("MNIST")
    reps = -(-n // len(data.test_labels))
    images, labels = data.test_images.repeat(reps, 1, 1)[:n], data.test_labels.repeat(reps)[:n]
    print(f"{n:,} test images ({data.source}), torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"{'pair (CNN + FC)':<60} {'evaluate wall/cpu':>18} {'seed loop wall/cpu':>19} {'ratio':>6}")
    for cnn, fc in PAIRS[:args.pairs]:
        torch.manual_seed(0)
        if cnn == "quick demo":
            configs = quick_demo()[1]
            models = {m.label: build_model(m.net).eval() for m in configs}
            cnn, fc = models
        else:
            models = {cnn: build_model(PRESETS[cnn]).eval(), fc: build_model(PRESETS[fc]).eval()}
        metrics.evaluate(models, images[:500], labels[:500], data, data.classes)  # warm-up
        ours = best_of(args.repeat, lambda: metrics.evaluate(models, images, labels, data, data.classes))
        seed = best_of(min(3, args.repeat), lambda: seed_style(models, images, labels, data))
        print(f"{(cnn + ' + ' + fc)[:60]:<60} {ours[0]:>8.3f}s/{ours[1]:>6.3f}s {seed[0]:>9.3f}s/{seed[1]:>6.3f}s "
              f"{seed[0] / ours[0]:>5.1f}×")


if __name__ == "__main__":
    main()

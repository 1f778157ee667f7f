"""Time of the shift-robustness curve (issue 18): two models on the whole test set, shifted 0…4 px four ways.

Run: python3 -m bench.bench_shift   (CNN_DASH_DATA_DIR's full 10,000 test images when set, else the bundled
sample repeated to 10,000). Prints the seconds per curve and images classified per second.
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from cnn_dash.build import build_model  # noqa: E402
from cnn_dash.data import load_dataset, normalize  # noqa: E402
from cnn_dash.presets import PRESETS  # noqa: E402
from cnn_dash.shift import shift_curve  # noqa: E402
from cnn_dash.presets import quick_demo  # noqa: E402

N, MAX_SHIFT = 10_000, 4


def main() -> None:
    data = load_dataset("MNIST")
    reps = -(-N // len(data.test_labels))
    images, labels = data.test_images.repeat(reps, 1, 1)[:N], data.test_labels.repeat(reps)[:N]
    print(f"{N:,} test images ({data.source}), shifts 0…{MAX_SHIFT} px in 4 directions "
          f"({1 + 4 * MAX_SHIFT} passes per model), torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    torch.manual_seed(0)
    pairs = {"quick demo": {m.label: build_model(m.net).eval() for m in quick_demo()[1]},
             "ConvNet + FCNet (CNN notebook)": {n: build_model(PRESETS[n]).eval()
                                                for n in ("ConvNet (CNN notebook)", "FCNet (CNN notebook)")}}
    prepare = lambda b: normalize(b, data)  # noqa: E731
    for name, models in pairs.items():
        shift_curve(models, images[:500], labels[:500], prepare, 1)  # warm-up
        runs = []
        for _ in range(3):
            start = time.perf_counter()
            shift_curve(models, images, labels, prepare, MAX_SHIFT)
            runs.append(time.perf_counter() - start)
        best = min(runs)
        passes = len(models) * (1 + 4 * MAX_SHIFT) * N
        print(f"shift curve, {name:<32} {best:6.2f} s  ({passes / best:,.0f} images/s, best of 3)")


if __name__ == "__main__":
    main()

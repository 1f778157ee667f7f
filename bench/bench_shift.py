"""Time of the shift-robustness curve (issues 18, 14): two models, shifted 0…4 px four ways, side by side:

- the page's curve: the 2,000-image stratified subset (200 per class), every shift of a few images in one forward;
- the same on 10,000 images (what the page computed before);
- the previous method on the 2,000: one pass per shift and direction, batches of 256 (the reference).

Run: python3 -m bench.bench_shift [--images 2000] [--repeat 3]   (BENCH_SHIFT_FULL=1 adds the 10,000-image and
reference timings, minutes on 2 cores; CNN_DASH_DATA_DIR's full 10,000 test images when set, else the bundled
sample repeated to 10,000). Prints seconds and images classified per second. --images (the page's subset size)
and --repeat make it tiny for the smoke test.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from cnn_dash.build import build_model  # noqa: E402
from cnn_dash.data import load_dataset, normalize  # noqa: E402
from cnn_dash.presets import PRESETS  # noqa: E402
from cnn_dash.presets import quick_demo  # noqa: E402
from cnn_dash.inference import placed  # noqa: E402
from cnn_dash.shift import DIRECTIONS, SUBSET, shift_curve, shift_images, stratified_subset  # noqa: E402

N, MAX_SHIFT = 10_000, 4


def per_pass_reference(models, images, labels, prepare, max_shift):
    """The previous method: every model, shift and direction in its own pass over the images, batches of 256."""
    for model in models.values():
        with torch.inference_mode():
            for uy, ux in [(0, 0)] + [d for d in DIRECTIONS.values() for _ in range(max_shift)]:
                for start in range(0, len(images), 256):
                    model(prepare(shift_images(images[start : start + 256], uy, ux))).argmax(1)


def best(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", type=int, default=SUBSET, help=f"the page's subset (default {SUBSET:,})")
    parser.add_argument("--repeat", type=int, default=3, help="best of this many timings (default 3)")
    args = parser.parse_args()
    data = load_dataset("MNIST")
    reps = -(-N // len(data.test_labels))
    images, labels = data.test_images.repeat(reps, 1, 1)[:N], data.test_labels.repeat(reps)[:N]
    keep = stratified_subset(labels, args.images)
    sub_images, sub_labels = images[keep], labels[keep]
    passes = 1 + 4 * MAX_SHIFT
    print(f"shifts 0…{MAX_SHIFT} px in 4 directions ({passes} passes per model) on {len(keep):,} (page) and {N:,} "
          f"test images ({data.source}), torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    torch.manual_seed(0)
    # placed as a run's trained models are (Run.trained_models): channels-last CNNs on a CPU
    pairs = {"quick demo": {m.label: placed(build_model(m.net)).eval() for m in quick_demo()[1]},
             "ConvNet + FCNet (CNN notebook)": {n: placed(build_model(PRESETS[n])).eval()
                                                for n in ("ConvNet (CNN notebook)", "FCNet (CNN notebook)")}}
    prepare = lambda b: normalize(b, data)  # noqa: E731
    for name, models in pairs.items():
        shift_curve(models, images[:300], labels[:300], prepare, 1)  # warm-up
        page = best(lambda: shift_curve(models, sub_images, sub_labels, prepare, MAX_SHIFT), args.repeat)
        n_page = len(models) * passes * len(keep)
        print(f"{name}:\n  page curve, {len(keep):,} images   {page:6.2f} s  ({n_page / page:,.0f} images/s, "
              f"best of {args.repeat})")
        if os.environ.get("BENCH_SHIFT_FULL"):
            full = best(lambda: shift_curve(models, images, labels, prepare, MAX_SHIFT), 1)
            old = best(lambda: per_pass_reference(models, sub_images, sub_labels, prepare, MAX_SHIFT), 1)
            print(f"  same on {N:,} images      {full:6.2f} s  ({n_page * N / len(keep) / full:,.0f} images/s)"
                  f"\n  per-pass reference, {len(keep):,} {old:6.2f} s  (batched is {old / page:.2f}× faster; "
                  f"the page is {full / page:.1f}× faster than on {N:,})")


if __name__ == "__main__":
    main()

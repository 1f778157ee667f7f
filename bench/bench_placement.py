"""Where and how big a digit is drawn, per pair: the Quick demo's pair and the draw page's pair built for drawing
off-centre (presets.placement_pair), each trained on its settings with one thread, then scored on 1,000 test digits
centred, moved 4 px, at half size and at half size in a corner (cnn_dash/placement.py), and the sentence the draw
page prints from those numbers. Run from the repository's root:

    CNN_DASH_DATA_DIR=/path/to/datasets python3 -m bench.bench_placement     # full MNIST, as the page trains it
    python3 -m bench.bench_placement --images 2000                           # a smaller training set

CPU seconds are for one thread (torch.set_num_threads(1)): the time one quiet core needs, nearly unchanged by the
machine's load; the load average is printed beside them.
"""
from __future__ import annotations

import argparse
import os
import time
from dataclasses import replace

import torch

from cnn_dash import hints, inference
from cnn_dash.data import load_dataset
from cnn_dash.placement import PLACEMENTS, placement_accuracy
from cnn_dash.presets import placement_pair, quick_demo
from cnn_dash.train import Trainer, prepare_data

SHORT = ("centred", "moved 4 px", "half size", "half, corner")  # the columns: PLACEMENTS in order
PAIRS = {"Quick demo": quick_demo, "pair built for drawing off-centre": placement_pair}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=None, help="training images (default: the pair's own)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    dataset = load_dataset("MNIST")
    print(f"MNIST from the {dataset.source}; 1 thread; load average {os.getloadavg()[0]:.1f}")
    print(f"{'model':<56}{'CPU s':>7}" + "".join(f"{short:>14}" for short in SHORT))
    for title, plan in PAIRS.items():
        settings, models = plan("MNIST")
        n = len(dataset.train_labels)
        settings = replace(settings, train_subset=min(args.images or settings.train_subset or n, n))
        data = prepare_data(settings, dataset)
        modules, cpu = {}, {}
        for model in models:  # one at a time, for each model's own CPU seconds (the same batches either way)
            start = time.process_time()
            trainer = Trainer(settings, (model,), data=data)
            list(trainer)
            cpu[model.label] = time.process_time() - start
            modules.update(trainer.modules)
        accs = placement_accuracy(modules, data.test_images, data.test_labels,
                                  lambda batch: inference.model_input(batch, settings))
        print(f"{title}: {len(data.train_labels):,} images, {settings.epochs} epochs, batch {settings.batch_size}")
        for model in models:
            print(f"  {model.label:<54}{cpu[model.label]:7.1f}"
                  + "".join(f"{accs[model.label][place]:14.1%}" for place in PLACEMENTS))
        print(f"  page: {hints.placement_reading(models, accs)}")


if __name__ == "__main__":
    main()

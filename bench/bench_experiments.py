"""The experiments that take the CNN's win apart, over datasets and seeds, with the sentences the page prints.

    python3 -m bench.bench_experiments [--datasets MNIST,FashionMNIST] [--seeds 0,1,2] [--threads N]
                                       [--experiments decomposition,shifted_copies] [--images N] [--epochs N]

For every dataset, seed and experiment (cnn_dash.experiments, exactly as the Training page starts it unless
--images / --epochs shrink it): each model's final test accuracy and the sentences the page shows under the run —
what the experiment says, then what each model loses on the page's 1,000 stratified test images (--shift-images)
moved by --shift pixels (cnn_dash.shift). Then one table per experiment: a row per dataset and seed with every
model's test accuracy and the page's sentences, and the mean over the seeds; CPU-seconds and wall seconds of each run
beside the load. Set CNN_DASH_DATA_DIR (default: ../shared/datasets when present).
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

from cnn_dash.data import load_dataset  # noqa: E402
from cnn_dash.inference import model_input  # noqa: E402
from cnn_dash.experiments import (EXPERIMENTS, SHIFT, SHIFT_IMAGES, Augmentation, Decomposition,  # noqa: E402
                                  augmentation_sentence, cost_line, decomposition_sentence, shift_drop_sentence)
from cnn_dash.records import summarize  # noqa: E402
from cnn_dash.shift import shift_curve, stratified_subset  # noqa: E402
from cnn_dash.train import Trainer  # noqa: E402


def one(key: str, dataset: str, seed: int, images: int | None, epochs: int | None, shift: int,
        source: str | None, shift_images: int = SHIFT_IMAGES) -> tuple[list[float], str, str]:
    """Train one experiment; (final test accuracies in model order, the page's sentence, the shift sentence)."""
    exp = EXPERIMENTS[key](dataset, seed)
    settings = replace(exp.settings, source=source, **({"train_subset": images} if images else {}),
                       **({"epochs": epochs} if epochs else {}))
    trainer = Trainer(settings, exp.models)
    start, cpu = time.perf_counter(), time.process_time()
    history = list(trainer)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    results = summarize(history)
    accs = [results[m.label].test_acc for m in exp.models]
    said = (decomposition_sentence(Decomposition(*accs)) if key == "decomposition"
            else augmentation_sentence(Augmentation(*accs)))
    ds = trainer.data.dataset
    keep = stratified_subset(ds.test_labels, shift_images)
    models = {label: module.eval() for label, module in trainer.modules.items()}
    curves = shift_curve(models, ds.test_images[keep], ds.test_labels[keep],
                         lambda batch: model_input(batch, settings), shift)
    names = {m.label: m.named for m in exp.models}
    moved = shift_drop_sentence({names[c.label]: (c.at(0), c.at(shift)) for c in curves}, shift)
    print(f"  {dataset} seed {seed}: {seconds:.0f} s ({cpu:.0f} CPU-s), load {os.getloadavg()[0]:.1f}; "
          + ", ".join(f"{m.named} {a:.2%}" for m, a in zip(exp.models, accs)), flush=True)
    print(f"    {said}\n    {moved}", flush=True)
    return accs, said, moved


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", default="MNIST,FashionMNIST")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--experiments", default="decomposition,shifted_copies")
    parser.add_argument("--images", type=int, help="training images (default: the experiment's own)")
    parser.add_argument("--epochs", type=int, help="epochs (default: the experiment's own)")
    parser.add_argument("--shift", type=int, default=SHIFT, help="pixels the test images are moved for robustness")
    parser.add_argument("--source", help="a data source to force, e.g. bundled (tests)")
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's; 1 on a loaded machine, where "
                        "two threads spin and spend several times the CPU-seconds)")
    parser.add_argument("--shift-images", type=int, default=SHIFT_IMAGES,
                        help="stratified test images for the shift curve")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    datasets, seeds = args.datasets.split(","), [int(s) for s in args.seeds.split(",")]
    for key in args.experiments.split(","):
        exp = EXPERIMENTS[key]()
        print(f"== {exp.title}: {cost_line(exp.models)}")
        table: dict[str, list[tuple[list[float], str]]] = {}
        for dataset in datasets:
            ds = load_dataset(dataset, source=args.source)
            print(f" {dataset}: {len(ds.train_labels):,} train images from the {ds.source}", flush=True)
            for seed in seeds:
                accs, said, moved = one(key, dataset, seed, args.images, args.epochs, args.shift, args.source,
                                        args.shift_images)
                table.setdefault(dataset, []).append((accs, f"{said} {moved}"))
        names = [m.named for m in exp.models]
        print(f"\n| dataset | seed | {' | '.join(names)} | what the page says |\n|---|---|{'---|' * (len(names) + 1)}")
        for dataset, rows in table.items():
            for seed, (accs, said) in zip(seeds, rows):
                print(f"| {dataset} | {seed} | " + " | ".join(f"{a:.2%}" for a in accs) + f" | {said} |")
            means = [sum(col) / len(col) for col in zip(*(accs for accs, _ in rows))]
            print(f"| {dataset} | mean | " + " | ".join(f"{a:.2%}" for a in means) + " | |")
        print()


if __name__ == "__main__":
    main()

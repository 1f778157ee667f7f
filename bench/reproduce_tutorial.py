"""Train one seed tutorial's preset to the end and print the tutorial's numbers beside the run's.

    CNN_DASH_DATA_DIR=/work/shared/datasets CNN_DASH_LIMITS=local python3 bench/reproduce_tutorial.py 003

Needs the full dataset (CNN_DASH_DATA_DIR in torchvision's layout) and limits that admit the run (the `local`
profile). Prints every model's test accuracy at each epoch's end as it goes, then the comparison table.
"""
from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from cnn_dash.estimate import describe_seconds, estimate_run  # noqa: E402
from cnn_dash.limits import current  # noqa: E402
from cnn_dash.records import Progress  # noqa: E402
from cnn_dash.train import Trainer  # noqa: E402
from cnn_dash.tutorials import TUTORIALS, measured  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("key", choices=sorted(TUTORIALS), help="the seed tutorial to reproduce")
    parser.add_argument("--threads", type=int, default=None, help="torch intra-op threads (default: torch's)")
    parser.add_argument("--source", default=None, help="force a data source, e.g. data_dir or bundled")
    parser.add_argument("--images", type=int, default=None, help="train on this many images (smoke test)")
    parser.add_argument("--epochs", type=int, default=None, help="train this many epochs (smoke test)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    tutorial = TUTORIALS[args.key]
    settings = tutorial.settings
    for name, value in (("source", args.source), ("train_subset", args.images), ("epochs", args.epochs)):
        settings = replace(settings, **{name: value}) if value else settings
    active = current()
    print(f"{tutorial.title}\nlimits: {active.name} profile {' '.join(active.notes)}", flush=True)
    trainer = Trainer(settings, tutorial.models)
    data = trainer.data
    print(f"data: {data.dataset.source}, {len(data.train_labels):,} train / {len(data.test_labels):,} test; "
          f"torch threads {torch.get_num_threads()}", flush=True)
    guess = estimate_run(settings, tutorial.models, len(data.train_labels), len(data.test_labels),
                         threads=torch.get_num_threads())
    print(f"estimated: {describe_seconds(guess.seconds)} ({guess.seconds:,.0f} s)", flush=True)
    start = time.perf_counter()
    history: list[Progress] = []
    for p in trainer:
        history.append(p)
        if p.test_acc is not None:
            print(f"  epoch {p.epoch:5.2f}  {p.label:<18} test acc {p.test_acc:.4f}  test loss {p.test_loss:.4f}  "
                  f"train acc {p.train_acc if p.train_acc is not None else float('nan'):.4f}  "
                  f"{time.perf_counter() - start:7.0f} s", flush=True)
    took = time.perf_counter() - start
    print(f"\ntrained in {took:,.0f} s (estimated {guess.seconds:,.0f} s, ratio {took / guess.seconds:.2f})")
    print(f"{'model':<26}{'metric':<11}{'epoch':>6}{'tutorial':>10}{'this run':>10}{'diff':>9}")
    for row in measured(tutorial, history):
        run = row["this run"]
        print(f"{row['model']:<26}{row['metric']:<11}{row['epoch']:>6}{row['tutorial']:>10.4f}"
              + (f"{run:>10.4f}{run - row['tutorial']:>+9.4f}" if run is not None else f"{'—':>10}"))


if __name__ == "__main__":
    main()

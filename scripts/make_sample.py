"""Derive the bundled, stratified sample from the full datasets, deterministically.

    python scripts/make_sample.py --src ../shared/datasets

Writes cnn_dash/sample_data/<Dataset>/{train,test}-{images,labels}.xz: the same number of images of
every class (1,000 train and 200 test by default), chosen by a seeded permutation and kept in their
original order, so running the script again gives byte-identical files.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from cnn_dash.idx import read_idx, write_idx

OUT = Path(__file__).resolve().parents[1] / "cnn_dash" / "sample_data"
RAW = {"train": "train", "test": "t10k"}


def stratified_indices(labels: np.ndarray, per_class: int, seed: int) -> np.ndarray:
    """The first `per_class` indices of each class in a seeded permutation, in ascending order."""
    order = np.random.default_rng(seed).permutation(len(labels))
    chosen = [order[labels[order] == c][:per_class] for c in np.unique(labels)]
    if any(len(c) < per_class for c in chosen):
        raise SystemExit(f"a class has fewer than {per_class} images")
    return np.sort(np.concatenate(chosen))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--src", type=Path, required=True, help="root in torchvision's layout")
    parser.add_argument("--train-per-class", type=int, default=1000)
    parser.add_argument("--test-per-class", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    for name in ("MNIST", "FashionMNIST"):
        out = OUT / name
        out.mkdir(parents=True, exist_ok=True)
        for split, per_class in (("train", args.train_per_class), ("test", args.test_per_class)):
            raw = args.src / name / "raw"
            images = read_idx(raw / f"{RAW[split]}-images-idx3-ubyte")
            labels = read_idx(raw / f"{RAW[split]}-labels-idx1-ubyte")
            keep = stratified_indices(labels, per_class, args.seed)
            write_idx(out / f"{split}-images.xz", images[keep])
            write_idx(out / f"{split}-labels.xz", labels[keep])
            print(f"{name} {split}: {len(keep):,} images")
    total = sum(p.stat().st_size for p in OUT.rglob("*.xz"))
    print(f"bundled sample: {total / 1e6:.2f} MB in {OUT}")


if __name__ == "__main__":
    main()

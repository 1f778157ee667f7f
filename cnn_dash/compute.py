"""Training curves against what training cost: images, optimizer steps, time, multiply-adds. No torch.

A CNN may win per epoch only because it does more work per image (the seed pair: the ConvNet does about 75× the FC
net's multiply-adds per image, with 1.08× its parameters); plotted against training multiply-adds, the curves
compare the architectures at equal compute.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping

import pandas as pd

from cnn_dash.specs import batches_per_epoch

BACKWARD_FACTOR = 3  # training one image ≈ 3 × its forward multiply-adds: the forward, then gradients with
# respect to the inputs and to the weights, each about one forward's work (Kaplan et al. 2020 count it so)

# Axis name -> what it means, for the page
X_AXES: dict[str, str] = {
    "epoch": "passes over the training subset",
    "training images": "images each model has trained on (one epoch = the whole subset)",
    "optimizer steps": "updates of the weights (one per batch)",
    "training time (s)": "seconds of each model's own training steps (the models take turns on every batch, so "
                         "the run's clock would charge each model for the others' steps)",
    "training multiply-adds": f"training images × {BACKWARD_FACTOR} × the model's forward multiply-adds per image "
                              f"(forward + backward)",
}

GROW = 1.5  # a time axis that a model overruns grows by this factor at a time: a few steps, never a jump per redraw


def run_x_end(x: str, epochs: int, images_per_epoch: int, batch_size: int, macs_per_image: Iterable[int],
              estimated_s: float | None = None, reached: float = 0.0) -> float:
    """Where a run's horizontal axis `x` ends, known before its first record so that the live chart never jumps:
    its epochs, images (`images_per_epoch` × epochs), optimizer steps, or training multiply-adds of its costliest
    model. Training time is not known in advance: the slowest model's `estimated_s` (cnn_dash.estimate), grown
    GROW times at a time while a model's time `reached` passes it; without an estimate, `reached` itself."""
    images = epochs * images_per_epoch
    if x == "epoch":
        return float(epochs)
    if x == "training images":
        return float(images)
    if x == "optimizer steps":
        return float(epochs * batches_per_epoch(images_per_epoch, batch_size))  # the last batch of an epoch may be short
    if x == "training multiply-adds":
        return float(images * BACKWARD_FACTOR * max(macs_per_image, default=0))
    if x != "training time (s)":
        raise ValueError(f"unknown axis {x!r}: one of {', '.join(X_AXES)}")
    if not estimated_s or estimated_s <= 0:
        return max(reached, 1e-3)
    end = estimated_s
    while end < reached:
        end *= GROW
    return end


def compute_frame(frame: pd.DataFrame, images_per_epoch: Mapping[str, int],
                  macs_per_image: Mapping[tuple[str, str], int]) -> pd.DataFrame:
    """curves_frame's rows with one column per axis of X_AXES: `images_per_epoch` by run name, the forward
    multiply-adds per image by (run name, model label)."""
    out = frame.copy()
    images = out["epoch"] * out["run"].map(images_per_epoch).astype(float)  # exact at every epoch's end
    out["training images"] = images.round()
    out["optimizer steps"] = out["step"]
    speed = out["samples_per_s"].where(out["samples_per_s"] > 0)  # the model's images per second of its own steps
    out["training time (s)"] = images / speed
    macs = [macs_per_image[(run, model)] for run, model in zip(out["run"], out["model"])]
    out["training multiply-adds"] = images * BACKWARD_FACTOR * pd.Series(macs, index=out.index, dtype=float)
    return out


def compute_sentence(frame: pd.DataFrame, x: str, names: Mapping[str, str]) -> str:
    """At the largest x every model reached, each model's test accuracy there (the last test at or before it);
    `names` gives each model label's name to print (ModelConfig.named)."""
    tested = frame.dropna(subset=["test_acc", x])
    if tested.empty:
        return ""
    common = tested.groupby("model", sort=False)[x].max().min()  # the furthest point all models got to
    parts = []
    for model, group in tested.groupby("model", sort=False):
        before = group[group[x] <= common]
        if not before.empty:
            parts.append(f"{names[model]} {before['test_acc'].iloc[-1]:.1%}")
    return f"Test accuracy at {x} = {common:,.3g} (as far as every model got): " + " · ".join(parts)

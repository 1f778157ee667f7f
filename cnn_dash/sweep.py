"""The data-efficiency sweep: one CNN and one FC net trained on training subsets of growing size, one ordinary
run per size, and the table of test accuracy against training images that the sweep's chart draws.

The sizes are 100, 300, 1,000, 3,000, 10,000 and all images, kept within the dataset and the limits. Every run
uses the form's seed, batch size, optimizers and options, so with one seed each smaller subset is part of
every larger one (train.prepare_data takes the first n of one seeded permutation). Only the epochs change
with the size (`sweep_epochs`). Torch-free: the scheduler turns a `SweepPlan` into runs.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Iterable

import pandas as pd

from cnn_dash.compute import BACKWARD_FACTOR
from cnn_dash.limits import Limits, check_run, default_limits, estimate_macs
from cnn_dash.shapes import net_cost
from cnn_dash.specs import ModelConfig, TrainSettings, batches_per_epoch

if TYPE_CHECKING:
    from cnn_dash.runs import Run

SIZES = (100, 300, 1_000, 3_000, 10_000)  # then the whole training set
MIN_STEPS = 500  # optimizer steps a size gets at least, where the epoch and compute limits allow
LEVEL = 0.01  # a CNN less than a point ahead of the FC net is level with it: the two points overlap on the chart
FRAME_COLUMNS = ("images", "model", "kind", "test_acc", "epochs", "run", "status", "training multiply-adds")


class SweepError(ValueError):
    """A sweep that cannot be planned from this form; the message says what to change."""


@dataclass(frozen=True)
class SweepPlan:
    """What a sweep trains: the CNN and the FC net, and one run's settings per training-set size."""

    models: tuple[ModelConfig, ModelConfig]  # (CNN, FC net)
    sizes: tuple[int, ...]  # training images of each run, growing
    runs: tuple[TrainSettings, ...]  # one per size
    skipped: tuple[str, ...] = ()  # sizes left out, each with the limit that left it out


def sweep_models(models: Iterable[ModelConfig]) -> tuple[ModelConfig, ModelConfig]:
    """The first CNN and the first FC net of the form; SweepError saying which kind is missing."""
    models = list(models)
    cnn = next((m for m in models if m.net.is_cnn), None)
    fc = next((m for m in models if not m.net.is_cnn), None)
    if cnn is None or fc is None:
        missing = ("a CNN (a network with a convolution)" if cnn is None
                   else "an FC net (a network without convolutions)")
        raise SweepError(f"A data-efficiency sweep compares a CNN with an FC net, and none of the models is "
                         f"{missing}: pick one for a model.")
    return cnn, fc


def sweep_sizes(train_size: int, limits: Limits | None = None) -> tuple[int, ...]:
    """SIZES within the limits' training-subset range and below the dataset's size, then the largest subset
    allowed (the whole training set when the limits allow it)."""
    lim = limits or default_limits()
    top = min(train_size, lim.max_train_subset)
    if top < lim.min_train_subset:
        return ()
    return (*(n for n in SIZES if lim.min_train_subset <= n < top), top)


def sweep_epochs(settings: TrainSettings, models: tuple[ModelConfig, ...], images: int,
                 limits: Limits | None = None, min_steps: int = MIN_STEPS) -> int:
    """Epochs for a run on `images` images: the form's epochs, or more on a small subset, enough for `min_steps`
    optimizer steps (100 images in batches of 64 are 2 steps an epoch: 2 epochs would barely move the weights);
    then at most the limits' epochs and as many as the multiply-add limit of a run allows (at least 1)."""
    lim = limits or default_limits()
    steps_per_epoch = batches_per_epoch(images, settings.batch_size)
    wanted = max(settings.epochs, math.ceil(min_steps / steps_per_epoch))
    per_epoch = estimate_macs(models, replace(settings, epochs=1))  # counted as check_run counts it
    affordable = lim.max_run_macs // per_epoch if per_epoch else wanted
    return max(1, min(wanted, lim.max_epochs, affordable))


def size_settings(settings: TrainSettings, models: tuple[ModelConfig, ...], images: int,
                  limits: Limits | None = None, min_steps: int = MIN_STEPS) -> TrainSettings:
    """The form's settings for a run on `images` images: its epochs by `sweep_epochs`, one test evaluation per
    epoch (the sweep keeps the last one), everything else (seed, batch, options) unchanged. The subset is always
    a number, the whole training set included, so the limits count its multiply-adds exactly."""
    sized = replace(settings, train_subset=images, evals_per_epoch=1)
    return replace(sized, epochs=sweep_epochs(sized, models, images, limits, min_steps))


def plan_sweep(settings: TrainSettings, models: Iterable[ModelConfig], train_size: int,
               limits: Limits | None = None, min_steps: int = MIN_STEPS) -> SweepPlan:
    """The sweep of the form's first CNN and first FC net; a size whose run is over a limit even at one epoch is
    left out (and named in `skipped`). SweepError or LimitError when no size can train."""
    lim = limits or default_limits()
    pair = sweep_models(models)
    sizes = sweep_sizes(train_size, lim)
    if not sizes:
        raise SweepError(f"This dataset has {train_size:,} training images, fewer than the {lim.min_train_subset:,} "
                         f"a run needs.")
    kept: list[tuple[int, TrainSettings]] = []
    skipped: list[str] = []
    first_error: ValueError | None = None
    for images in sizes:
        sized = size_settings(settings, pair, images, lim, min_steps)
        try:
            check_run(sized, pair, lim)
        except ValueError as exc:  # LimitError, or ShapeError for a network that does not fit
            first_error = first_error or exc
            skipped.append(f"{images:,} images: {exc}")
            continue
        kept.append((images, sized))
    if not kept:
        raise first_error  # type: ignore[misc]  # every size failed, so there was an error
    return SweepPlan(pair, tuple(n for n, _ in kept), tuple(s for _, s in kept), tuple(skipped))


def sweep_runs(runs: Iterable[Run]) -> dict[str, list[Run]]:
    """Sweep id -> its runs, smallest subset first; sweeps in the order they were started."""
    out: dict[str, list[Run]] = {}
    for run in runs:
        if run.sweep is not None:
            out.setdefault(run.sweep.id, []).append(run)
    return {key: sorted(group, key=lambda r: r.sweep.index) for key, group in out.items()}


def sweep_frame(runs: Iterable[Run]) -> pd.DataFrame:
    """One row per run and model: training images, model label, kind (CNN or FC), final test accuracy (None until
    the model has been tested), epochs, run name, status (the model's, or the run's before it trains), and the
    training multiply-adds of the whole run as cnn_dash.compute counts them (images × epochs × the backward factor
    × forward multiply-adds per image), known before the run trains."""
    rows = []
    for run in runs:
        results = run.results
        for m in run.models:
            result = results.get(m.label)
            macs = run.sweep.images * run.settings.epochs * BACKWARD_FACTOR * net_cost(m.net)[1]
            rows.append((run.sweep.images, m.label, "CNN" if m.net.is_cnn else "FC",
                         result.test_acc if result else None, run.settings.epochs, run.name,
                         str(result.status if result else run.status), macs))
    return pd.DataFrame(rows, columns=list(FRAME_COLUMNS)).astype({"test_acc": float})


def images_to_match(frame: pd.DataFrame) -> tuple[float, int, int] | None:
    """(the FC net's best test accuracy, its images, the fewest images on which the CNN did at least as well),
    from the finished rows of a sweep frame; None when the CNN never matched it or a model has no result."""
    done = frame[(frame["status"] == "finished") & frame["test_acc"].notna()]
    fc, cnn = done[done["kind"] == "FC"], done[done["kind"] == "CNN"]
    if fc.empty or cnn.empty:
        return None
    best = fc.loc[fc["test_acc"].idxmax()]
    matched = cnn[cnn["test_acc"] >= best["test_acc"]]
    if matched.empty:
        return None
    return float(best["test_acc"]), int(best["images"]), int(matched["images"].min())


def fc_level_or_ahead(frame: pd.DataFrame, within: float = LEVEL) -> list[int]:
    """The finished sizes at which the FC net's test accuracy is within `within` of the CNN's or above it: where
    the chart does not show the lesson, for the page to explain."""
    done = frame[(frame["status"] == "finished") & frame["test_acc"].notna()]
    out = []
    for images, group in done.groupby("images"):
        cnn, fc = group[group["kind"] == "CNN"], group[group["kind"] == "FC"]
        if not cnn.empty and not fc.empty and fc["test_acc"].max() >= cnn["test_acc"].max() - within:
            out.append(int(images))
    return out

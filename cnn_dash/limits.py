"""Training limits a visitor cannot exceed, so one run cannot sink a shared 2-core, ~2.7 GB server."""
from __future__ import annotations

from dataclasses import dataclass

from cnn_dash.shapes import MAX_PARAMS, net_cost
from cnn_dash.specs import SCALINGS, ModelConfig, TrainSettings

FULL_TRAIN_SET = 60_000  # both datasets; a run without a subset is counted at this size


class LimitError(ValueError):
    """A training request over a limit; the message names the value, the limit and what to change."""


@dataclass(frozen=True)
class Limits:
    """The caps checked before a run is queued (see `check_run`)."""

    max_models: int = 4
    max_epochs: int = 20
    max_batch_size: int = 1024
    min_train_subset: int = 100
    max_train_subset: int = FULL_TRAIN_SET
    max_evals_per_epoch: int = 10
    max_seed: int = 2**31 - 1
    max_lr: float = 10.0  # large enough to watch a run diverge on purpose
    max_params: int = MAX_PARAMS  # per model, the same cap as the shape calculator
    # Forward multiply-adds over one epoch, per model: about 3 minutes of one core for the whole epoch
    # (training costs ~3x the forward pass). The 2020 tutorial's CNN on all 60,000 images fits.
    max_epoch_macs: int = 1_000_000_000_000
    max_run_macs: int = 2_000_000_000_000  # all models, all epochs
    max_session_params: int = 20_000_000  # trained weights a session keeps over all its runs (80 MB)


LIMITS = Limits()


def _check(ok: bool, message: str) -> None:
    if not ok:
        raise LimitError(message)


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_settings(settings: TrainSettings, limits: Limits = LIMITS) -> None:
    """LimitError unless epochs, batch size, subset, seed and evaluations are within the limits."""
    s, lim = settings, limits
    _check(_whole(s.epochs) and 1 <= s.epochs <= lim.max_epochs,
           f"Epochs must be between 1 and {lim.max_epochs} (got {s.epochs}).")
    _check(_whole(s.batch_size) and 1 <= s.batch_size <= lim.max_batch_size,
           f"Batch size must be between 1 and {lim.max_batch_size} (got {s.batch_size}).")
    _check(s.train_subset is None or (_whole(s.train_subset)
                                      and lim.min_train_subset <= s.train_subset <= lim.max_train_subset),
           f"The training subset must be between {lim.min_train_subset:,} and {lim.max_train_subset:,} images "
           f"(got {s.train_subset}).")
    _check(_whole(s.seed) and 0 <= s.seed <= lim.max_seed, f"The seed must be between 0 and {lim.max_seed:,}.")
    _check(_whole(s.evals_per_epoch) and 1 <= s.evals_per_epoch <= lim.max_evals_per_epoch,
           f"Test evaluations per epoch must be between 1 and {lim.max_evals_per_epoch}.")
    _check(s.scaling in SCALINGS, f"The input scaling must be one of {', '.join(SCALINGS)} (got {s.scaling!r}).")


def check_models(models: tuple[ModelConfig, ...], settings: TrainSettings, limits: Limits = LIMITS) -> None:
    """LimitError (or ShapeError for an invalid network) unless every model and their total cost fit."""
    lim = limits
    _check(1 <= len(models) <= lim.max_models, f"A run trains 1 to {lim.max_models} models (got {len(models)}).")
    labels = [m.label for m in models]
    _check(len(set(labels)) == len(labels) and all(label.strip() for label in labels),
           "Every model of a run needs its own non-empty name.")
    images = settings.train_subset or FULL_TRAIN_SET
    total = 0
    for m in models:
        opt = m.optimizer
        _check(opt.name in ("sgd", "adam"), f"{m.label}: the optimizer must be SGD or Adam (got {opt.name!r}).")
        _check(isinstance(opt.lr, (int, float)) and 0 < opt.lr <= lim.max_lr,
               f"{m.label}: the learning rate must be above 0 and at most {lim.max_lr:g} (got {opt.lr}).")
        _check(isinstance(opt.momentum, (int, float)) and 0 <= opt.momentum < 1,
               f"{m.label}: momentum must be at least 0 and below 1 (got {opt.momentum}).")
        params, macs = net_cost(m.net)
        _check(params <= lim.max_params, f"{m.label} has {params:,} parameters; the limit is {lim.max_params:,}.")
        epoch = macs * images
        _check(epoch <= lim.max_epoch_macs,
               f"{m.label} needs {epoch / 1e9:,.0f} billion multiply-adds per epoch on {images:,} images; the "
               f"limit is {lim.max_epoch_macs / 1e9:,.0f} billion. Use fewer images or a smaller network.")
        total += epoch * settings.epochs
    _check(total <= lim.max_run_macs,
           f"This run needs {total / 1e9:,.0f} billion multiply-adds in all (models × epochs × images); the "
           f"limit is {lim.max_run_macs / 1e9:,.0f} billion. Use fewer epochs or images.")


def check_run(settings: TrainSettings, models: tuple[ModelConfig, ...], limits: Limits = LIMITS) -> None:
    """Every training limit at once: the core calls it before a run is queued and before it trains."""
    check_settings(settings, limits)
    check_models(tuple(models), settings, limits)


def describe(limits: Limits = LIMITS) -> list[str]:
    """The limits in words, for the page."""
    lim = limits
    return [
        f"up to {lim.max_models} models per run and one run training or queued per session",
        f"1–{lim.max_epochs} epochs, batch size 1–{lim.max_batch_size:,}, "
        f"{lim.min_train_subset:,}–{lim.max_train_subset:,} training images",
        f"at most {lim.max_params:,} parameters per model and {lim.max_session_params:,} kept over a "
        f"session's runs",
        f"at most {lim.max_epoch_macs / 1e9:,.0f} billion multiply-adds per model and epoch, "
        f"{lim.max_run_macs / 1e9:,.0f} billion for the whole run",
    ]


def estimate_macs(models: tuple[ModelConfig, ...], settings: TrainSettings) -> int:
    """Forward multiply-adds of the whole run (all models, epochs and images), for the page to show."""
    images = settings.train_subset or FULL_TRAIN_SET
    return sum(net_cost(m.net)[1] for m in models) * images * settings.epochs

"""Why a run contradicts the lesson, in sentences a student can act on: rules over settings, models and results.

`before_run` warns about settings that cannot teach (a batch larger than the subset, a CNN without an
activation); `why_cnn_lost` explains a finished run whose best FC net beat its best CNN. Torch-free.
"""
from __future__ import annotations

import math

from cnn_dash.records import ModelResult, Status
from cnn_dash.specs import ModelConfig, TrainSettings

ACTIVATIONS = ("ReLU", "LeakyReLU", "ELU", "GELU", "SiLU", "Tanh", "Sigmoid", "Softplus", "Mish", "PReLU",
               "ReLU6", "Hardswish", "Hardtanh")
FEW_STEPS = 200  # fewer optimizer steps than this is a short run for any CNN
SLOW_SGD = 0.2  # an SGD step (lr / (1 - momentum)) below this needs thousands of steps for a CNN without batch norm


def steps_per_model(settings: TrainSettings, train_size: int) -> int:
    """Optimizer steps each model takes in the run."""
    images = min(settings.train_subset or train_size, train_size)
    return math.ceil(images / settings.batch_size) * settings.epochs


def _linear_cnn(m: ModelConfig) -> bool:
    return m.net.is_cnn and not any(layer.type in ACTIVATIONS for layer in m.net.layers)


def before_run(settings: TrainSettings, models: list[ModelConfig] | tuple[ModelConfig, ...],
               train_size: int) -> list[str]:
    """Warnings about settings that cannot show the lesson, before anything trains."""
    out = []
    images = min(settings.train_subset or train_size, train_size)
    if settings.batch_size > images:
        out.append(f"The batch size ({settings.batch_size}) is larger than the {images:,} training images, so "
                   f"each epoch is a single step on all of them: choose a batch of at most {images // 4:,}.")
    for m in models:
        if _linear_cnn(m):
            out.append(f"{m.label} has no activation: its convolutions and linear layers collapse into one linear "
                       f"map, no better than a linear classifier. Pick a CNN with ReLU (e.g. 'ConvNet + ReLU').")
    return out


def cnn_lost(models: tuple[ModelConfig, ...], results: dict[str, ModelResult]) -> bool:
    """True when the best FC net's test accuracy is above the best CNN's (both evaluated); a locally connected net
    is neither."""
    def best(is_cnn: bool) -> float | None:
        accs = [results[m.label].test_acc for m in models if m.net.is_cnn == is_cnn and not m.net.is_local
                and m.label in results and results[m.label].test_acc is not None]
        return max(accs) if accs else None

    cnn, fc = best(True), best(False)
    return cnn is not None and fc is not None and fc > cnn


def why_cnn_lost(settings: TrainSettings, models: tuple[ModelConfig, ...], results: dict[str, ModelResult],
                 train_size: int) -> str | None:
    """One sentence on why the FC net beat the CNN on this run and what to change; None if the CNN won."""
    if not cnn_lost(models, results):
        return None
    cnns = [m for m in models if m.net.is_cnn]
    for m in cnns:
        r = results.get(m.label)
        if r is not None and r.status == Status.DIVERGED:
            return (f"{m.label} diverged ({r.note}): its learning rate {m.optimizer.lr:g} is too large; "
                    f"try {m.optimizer.lr / 10:g}.")
    shifted = [i for i in range(len(models)) if settings.shift_pixels and (settings.shifted_models is None
                                                                             or i in settings.shifted_models)]
    if shifted and not any(models[i].net.is_cnn for i in shifted):
        return (f"The FC net trained on copies of the images moved by up to {settings.shift_pixels} pixels, and the "
                f"CNN did not: the data taught the FC net some of what the CNN's architecture builds in. That is "
                f"the shifted-copies experiment's point.")
    if settings.permute_pixels:
        return ("The pixels were shuffled: a convolution's small windows now see pixels that are not neighbours, "
                "so the CNN loses its edge over the FC net. That is the experiment's point; untick the shuffle "
                "to see the CNN ahead again.")
    warnings = before_run(settings, models, train_size)
    if warnings:
        return warnings[0]
    steps = steps_per_model(settings, train_size)
    # SGD's effective step is lr / (1 - momentum); below SLOW_SGD a CNN without batch norm starts slowly.
    slow = [m for m in cnns if m.optimizer.name == "sgd" and m.optimizer.lr / (1 - m.optimizer.momentum) < SLOW_SGD
            and not any(layer.type.startswith("BatchNorm") for layer in m.net.layers)]
    if slow and steps < 10 * FEW_STEPS:
        m = slow[0]
        return (f"Too few steps for SGD at this rate: {steps:,} steps of lr {m.optimizer.lr:g} leave "
                f"{m.label} (no batch norm) far from trained, while an FC net starts faster. Train more epochs or "
                f"images, use a smaller batch, a larger learning rate, Adam, or the 'Small CNN (batch norm)'.")
    if steps < FEW_STEPS:
        return (f"Only {steps:,} steps per model: too short for the CNN to pull ahead. Train more epochs or "
                f"images, or use a smaller batch.")
    return ("The FC net led on this run; the CNN usually pulls ahead with more training (epochs or images) or "
            "a better-suited learning rate. Start again from the page's defaults to compare.")

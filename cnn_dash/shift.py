"""Shift robustness: test accuracy of each model on test images moved by 0…k pixels (zero fill, no wrap-around).

A CNN with pooling shares its kernels across positions and pools away small moves, so its accuracy falls slowly;
an FC net has one weight per pixel position, so a digit moved by a few pixels looks like a different input.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
from torch import nn

from cnn_dash.inference import model_input

if TYPE_CHECKING:
    from cnn_dash.runs import Run

# Direction name -> unit step (dy, dx); "down" moves the picture towards the bottom (rows grow).
DIRECTIONS: dict[str, tuple[int, int]] = {"up": (-1, 0), "down": (1, 0), "left": (0, -1), "right": (0, 1)}

Prepare = Callable[[torch.Tensor], torch.Tensor]  # uint8 (B, H, W) -> the model's float input (B, 1, H, W)


def shift_images(images: torch.Tensor, dy: int, dx: int) -> torch.Tensor:
    """Images (N, H, W) moved `dy` rows down and `dx` columns right; uncovered pixels are 0, nothing wraps."""
    n, h, w = images.shape
    out = torch.zeros_like(images)
    if abs(dy) >= h or abs(dx) >= w:
        return out  # moved entirely out of the frame
    src_rows, dst_rows = slice(max(-dy, 0), h - max(dy, 0)), slice(max(dy, 0), h - max(-dy, 0))
    src_cols, dst_cols = slice(max(-dx, 0), w - max(dx, 0)), slice(max(dx, 0), w - max(-dx, 0))
    out[:, dst_rows, dst_cols] = images[:, src_rows, src_cols]
    return out


@dataclass(frozen=True)
class ShiftCurve:
    """One model's test accuracy at shifts 0…k: averaged over the four directions, and per direction."""

    label: str
    shifts: tuple[int, ...]
    accuracy: tuple[float, ...]  # mean of the four directions at each shift
    by_direction: tuple[tuple[str, tuple[float, ...]], ...]  # (direction, accuracy at each shift)

    def at(self, shift: int) -> float:
        """The mean accuracy at `shift` pixels."""
        return self.accuracy[self.shifts.index(shift)]


SUBSET = 2_000  # test images the page shifts: 200 per class, the same ones every time
FORWARD_BATCH = 512  # inputs per forward pass: every shift of a few images at once (best of 128-1024 here)


def stratified_subset(labels: torch.Tensor, n: int = SUBSET, seed: int = 0) -> torch.Tensor:
    """Indices (sorted) of up to `n` images, as many of every class as it has (n / classes), chosen by `seed`."""
    labels = torch.as_tensor(labels).flatten()
    if n >= len(labels):
        return torch.arange(len(labels))
    classes = labels.unique()
    per_class = max(1, n // len(classes))
    order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(seed))
    picked = [order[labels[order] == c][:per_class] for c in classes]
    return torch.cat(picked).sort().values


def _moves(max_shift: int) -> list[tuple[int, int]]:
    """(dy, dx) of every pass: no shift, then each direction at 1…max_shift."""
    return [(0, 0)] + [(uy * s, ux * s) for uy, ux in DIRECTIONS.values() for s in range(1, max_shift + 1)]


def _correct(models: Mapping[str, nn.Module], images: torch.Tensor, labels: torch.Tensor, prepare: Prepare,
             moves: list[tuple[int, int]]) -> dict[str, torch.Tensor]:
    """Right answers per model and move (len(moves),): every move of a few images goes through in one forward."""
    correct = {label: torch.zeros(len(moves), dtype=torch.int64) for label in models}
    step = max(1, FORWARD_BATCH // len(moves))
    with torch.inference_mode():
        for start in range(0, len(images), step):
            batch, truth = images[start : start + step], labels[start : start + step]
            # prepare sees each shifted batch as a person would (the run's pixel shuffle comes after the shift)
            x = torch.cat([prepare(shift_images(batch, dy, dx)) for dy, dx in moves])  # (moves*B, 1, H, W)
            for label, model in models.items():
                device = next(model.parameters()).device
                preds = model(x.to(device)).argmax(1).cpu().view(len(moves), -1)  # (moves, B)
                correct[label] += (preds == truth).sum(1)
    return correct


def shift_curve(models: Mapping[str, nn.Module], images: torch.Tensor, labels: torch.Tensor, prepare: Prepare,
                max_shift: int = 4) -> list[ShiftCurve]:
    """For each model, test accuracy on `images` shifted by 0…max_shift pixels up, down, left and right.

    The models answer in eval mode, and are put back in their own mode afterwards; placed as a run's are
    (inference.placed), a CNN answers faster. `images` are the unshifted uint8 test images as a person sees them (never pixel-shuffled): `prepare` turns a
    shifted batch into the model's input (normalisation, and the run's pixel shuffle after the shift).
    """
    if max_shift < 0:
        raise ValueError(f"max_shift must be at least 0, not {max_shift}")
    labels = torch.as_tensor(labels).flatten()
    shifts = tuple(range(max_shift + 1))
    moves = _moves(max_shift)
    modes = {label: model.training for label, model in models.items()}
    try:
        for model in models.values():
            model.eval()
        correct = _correct(models, images, labels, prepare, moves)
    finally:
        for label, model in models.items():
            model.train(modes[label])
    total = max(len(images), 1)
    curves = []
    for label in models:
        acc = (correct[label].double() / total).tolist()
        base, rest = acc[0], acc[1:]  # shift 0 is the same in every direction
        per_dir = tuple((name, tuple([base] + rest[d * max_shift : (d + 1) * max_shift]))
                        for d, name in enumerate(DIRECTIONS))
        mean = tuple(sum(accs[i] for _, accs in per_dir) / len(per_dir) for i in range(len(shifts)))
        curves.append(ShiftCurve(label, shifts, mean, per_dir))
    return curves


def run_prepare(run: Run) -> Prepare:
    """The input preparation of a trained `run`: shift first, then the run's own pixel shuffle, if any, and
    scaling (inference.model_input, the one place that knows how a run's models see an image)."""
    return lambda batch: model_input(batch, run.settings)  # (B, 1, H, W)


def run_shift_curve(run: Run, max_shift: int = 4, n: int = SUBSET) -> tuple[list[ShiftCurve], float]:
    """The shift curves of every trained model of `run` on `n` of its (unshuffled) test images, 200 per class by
    default (stratified_subset, the same every time), and the seconds taken."""
    start = time.perf_counter()
    dataset = run.dataset
    keep = stratified_subset(dataset.test_labels, n)
    curves = shift_curve(run.trained_models(), dataset.test_images[keep], dataset.test_labels[keep],
                         run_prepare(run), max_shift)
    return curves, time.perf_counter() - start

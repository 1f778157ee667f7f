"""Shift robustness: test accuracy of each model on test images moved by 0…k pixels (zero fill, no wrap-around).

A CNN with pooling shares its kernels across positions and pools away small moves, so its accuracy falls slowly;
an FC net has one weight per pixel position, so a digit moved by a few pixels looks like a different input.
"""
from __future__ import annotations

import copy
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import torch
from torch import nn

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


def accuracy(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, prepare: Prepare,
             batch_size: int = 256) -> float:
    """The share of uint8 `images` (N, H, W) that `model` classifies as `labels`, without autograd."""
    device = next(model.parameters()).device
    correct = 0
    with torch.inference_mode():
        for start in range(0, len(images), batch_size):
            x = prepare(images[start : start + batch_size]).to(device)  # (B, 1, H, W) float
            correct += int((model(x).argmax(1).cpu() == labels[start : start + batch_size]).sum())
    return correct / max(len(images), 1)


def _fast(model: nn.Module) -> nn.Module:
    """An eval-mode copy; channels-last for a CNN on the CPU (up to twice as fast, see metrics.predict)."""
    model = copy.deepcopy(model).eval()
    is_cnn = any(isinstance(m, nn.Conv2d) for m in model.modules())
    if is_cnn and next(model.parameters()).device.type == "cpu":
        model = model.to(memory_format=torch.channels_last)
    return model


def shift_curve(models: Mapping[str, nn.Module], images: torch.Tensor, labels: torch.Tensor, prepare: Prepare,
                max_shift: int = 4) -> list[ShiftCurve]:
    """For each model, test accuracy on `images` shifted by 0…max_shift pixels up, down, left and right.

    `images` are the unshifted uint8 test images as a person sees them (never pixel-shuffled): `prepare` turns a
    shifted batch into the model's input (normalisation, and the run's pixel shuffle after the shift).
    """
    if max_shift < 0:
        raise ValueError(f"max_shift must be at least 0, not {max_shift}")
    labels = torch.as_tensor(labels).flatten()
    shifts = tuple(range(max_shift + 1))
    curves = []
    for label, model in models.items():
        model = _fast(model)
        base = accuracy(model, images, labels, prepare)  # shift 0 is the same in every direction
        per_dir = []
        for name, (uy, ux) in DIRECTIONS.items():
            accs = [base] + [accuracy(model, shift_images(images, uy * s, ux * s), labels, prepare)
                             for s in shifts[1:]]
            per_dir.append((name, tuple(accs)))
        mean = tuple(sum(accs[i] for _, accs in per_dir) / len(per_dir) for i in range(len(shifts)))
        curves.append(ShiftCurve(label, shifts, mean, tuple(per_dir)))
    return curves


def run_prepare(run) -> Prepare:
    """The input preparation of a trained `run` (a runs.Run): shift first, then the run's own pixel shuffle, if
    any, and scaling (drawing.model_input, the one place that knows how a run's models see an image)."""
    from cnn_dash.drawing import model_input

    return lambda batch: model_input(batch, run.settings)  # (B, 1, H, W)


def run_shift_curve(run, max_shift: int = 4) -> tuple[list[ShiftCurve], float]:
    """The shift curves of every trained model of `run` on its whole (unshuffled) test set, and the seconds taken."""
    start = time.perf_counter()
    dataset = run.dataset
    curves = shift_curve(run.trained_models(), dataset.test_images, dataset.test_labels, run_prepare(run), max_shift)
    return curves, time.perf_counter() - start

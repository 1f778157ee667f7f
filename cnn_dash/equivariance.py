"""Equivariance you can see: move the input, and a CNN's feature maps move with it; an FC net's hidden units do not.

A convolution applies one kernel at every position, so moving the image by `stride` pixels moves its output by one
cell (away from the borders). A fully connected layer has one weight per pixel: its hidden units have no positions,
and a moved digit gives another pattern altogether.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from cnn_dash.shift import shift_images

Prepare = Callable[[torch.Tensor], torch.Tensor]  # uint8 (B, H, W) -> the model's float input (B, 1, H, W)


def _first_output(model: nn.Module, kind: type[nn.Module], x: torch.Tensor) -> np.ndarray:
    """The output of the model's first `kind` layer for a batch (B, ...), captured with a forward hook."""
    layer = next(m for m in model.modules() if isinstance(m, kind))
    captured: list[torch.Tensor] = []
    handle = layer.register_forward_hook(lambda _m, _i, out: captured.append(out.detach()))
    try:
        with torch.inference_mode():
            model.eval()(x.to(next(model.parameters()).device))
    finally:
        handle.remove()
    return captured[0].float().cpu().numpy()


def _correlation(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a.ravel() - a.mean(), b.ravel() - b.mean()
    scale = float(np.linalg.norm(a) * np.linalg.norm(b))
    return float(a @ b) / scale if scale else 1.0


@dataclass(frozen=True)
class Equivariance:
    """One image and its moved copy, as the CNN's first convolution and the FC net's first hidden layer see them."""

    shift: tuple[int, int]  # (dy, dx) pixels
    stride: tuple[int, int]  # the first convolution's
    images: np.ndarray  # (2, H, W) uint8: the image, then moved
    cnn_maps: np.ndarray  # (2, C, H', W'): the first convolution's output for each
    fc_hidden: np.ndarray  # (2, units): the first linear layer's output for each
    cnn_match: float  # correlation of the moved image's maps with the image's maps moved by shift / stride
    fc_match: float  # correlation of the moved image's hidden units with the image's

    @property
    def map_shift(self) -> tuple[int, int]:
        """Cells the maps should move: the shift divided by the stride (rounded)."""
        return tuple(round(d / s) for d, s in zip(self.shift, self.stride))  # type: ignore[return-value]


def equivariance(cnn: nn.Module, fc: nn.Module, image: np.ndarray, dy: int, dx: int,
                 prepare: Prepare) -> Equivariance:
    """Move one uint8 image (H, W) by (dy, dx) and compare what each model's first layer makes of both."""
    base = torch.as_tensor(np.asarray(image, dtype=np.uint8))[None]  # (1, H, W)
    images = torch.cat([base, shift_images(base, dy, dx)])  # (2, H, W)
    x = prepare(images)  # (2, 1, H, W)
    conv = next(m for m in cnn.modules() if isinstance(m, nn.Conv2d))
    maps = _first_output(cnn, nn.Conv2d, x)  # (2, C, H', W')
    hidden = _first_output(fc, nn.Linear, x)  # (2, units)
    my, mx = (round(d / s) for d, s in zip((dy, dx), conv.stride))
    moved = shift_images(torch.as_tensor(maps[0]), my, mx).numpy()  # the image's maps moved: the prediction
    h, w = maps.shape[-2:]
    inner = (slice(max(my, 0) + 1, h - max(-my, 0) - 1), slice(max(mx, 0) + 1, w - max(-mx, 0) - 1))
    cnn_match = _correlation(maps[1][:, inner[0], inner[1]], moved[:, inner[0], inner[1]])
    return Equivariance((dy, dx), tuple(conv.stride), images.numpy(), maps, hidden,  # type: ignore[arg-type]
                        cnn_match, _correlation(hidden[1], hidden[0]))


def as_grid(values: np.ndarray) -> np.ndarray:
    """A vector of hidden units as the most nearly square grid (rows, cols), padded with NaN, to draw as an image."""
    n = len(values)
    cols = int(np.ceil(np.sqrt(n)))
    rows = int(np.ceil(n / cols))
    grid = np.full(rows * cols, np.nan, dtype=np.float32)
    grid[:n] = values
    return grid.reshape(rows, cols)


def equivariance_sentence(e: Equivariance) -> str:
    """What the two models did with the moved image, in the measured correlations."""
    dy, dx = e.shift
    if (dy, dx) == (0, 0):
        return "Move the image with the sliders: the CNN's maps will move with it, the FC net's units will not."
    my, mx = e.map_shift
    exact = all(d % s == 0 for d, s in zip(e.shift, e.stride))
    cells = f"({my}, {mx}) cells of its stride-{e.stride[0]} maps" + ("" if exact else ", rounded")
    return (f"Moved by ({dy}, {dx}) pixels (down, right): the CNN's feature maps are its maps of the original moved "
            f"by {cells} — correlation {e.cnn_match:.2f} away from the borders. The FC net's hidden units are "
            f"another pattern (correlation {e.fc_match:.2f} with the original's): they have no positions to move.")

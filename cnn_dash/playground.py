"""Convolution playground: your own kernels through F.conv2d, then max vs average pooling (seed tutorial 002).

`nn.Conv2d` learns its kernels; to choose a kernel yourself you call `torch.nn.functional.conv2d` with it.
Every output shape here is checked first with `cnn_dash.shapes`, so a setting torch would reject is explained
in words instead of failing inside torch.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from cnn_dash import shapes
from cnn_dash.features import conv_layers
from cnn_dash.inference import model_input
from cnn_dash.specs import LayerSpec, TrainSettings

_SOBEL_X = [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]
PRESETS: dict[str, list[list[float]]] = {
    "Identity": [[0, 0, 0], [0, 1, 0], [0, 0, 0]],
    "Edge (Laplacian)": [[0, -1, 0], [-1, 4, -1], [0, -1, 0]],
    "Sobel x (vertical edges)": _SOBEL_X,
    "Sobel y (horizontal edges)": [list(row) for row in zip(*_SOBEL_X)],  # the transpose
    "Box blur 3×3": [[1 / 9] * 3 for _ in range(3)],
    "Box blur 5×5": [[1 / 25] * 5 for _ in range(5)],
    "Sharpen": [[0, -1, 0], [-1, 5, -1], [0, -1, 0]],
}
POOLS = ("MaxPool2d", "AvgPool2d")


@dataclass(frozen=True)
class Convolved:
    """One kernel slid over one image: the output and the shape the shape calculator predicts for it."""

    output: np.ndarray  # float32 (H_out, W_out)
    shape: tuple[int, ...]  # (1, H_out, W_out), from shapes.output_shape
    layer: LayerSpec  # the equivalent nn.Conv2d(1, 1, ...) layer


def preset(name: str) -> np.ndarray:
    """A preset kernel as float32 (kH, kW)."""
    return np.asarray(PRESETS[name], dtype=np.float32)


def conv_spec(kernel_size: tuple[int, int], stride: int = 1, padding: int = 0, dilation: int = 1) -> LayerSpec:
    """The nn.Conv2d(1, 1, ...) that a single hand-made kernel is: what the shape calculator checks."""
    return LayerSpec.of("Conv2d", in_channels=1, out_channels=1, kernel_size=tuple(kernel_size), stride=stride,
                        padding=padding, dilation=dilation, bias=False)


def as_float(image: np.ndarray) -> torch.Tensor:
    """uint8 (H, W) -> float32 (1, 1, H, W) in [0, 1]: one grey channel, a batch of one."""
    return torch.as_tensor(np.asarray(image), dtype=torch.float32).div(255.0)[None, None]


def apply_kernel(image: np.ndarray, kernel: np.ndarray, stride: int = 1, padding: int = 0,
                 dilation: int = 1) -> Convolved:
    """Slide `kernel` (kH, kW) over a uint8 image (H, W) scaled to [0, 1] with F.conv2d; ShapeError explains
    a setting torch would refuse."""
    kernel = np.asarray(kernel, dtype=np.float32)
    if kernel.ndim != 2 or not np.isfinite(kernel).all():
        raise shapes.ShapeError("the kernel must be a grid of finite numbers (no empty cells)")
    layer = conv_spec(kernel.shape, stride, padding, dilation)
    shape = shapes.output_shape(layer, (1, *np.shape(image)))
    weight = torch.tensor(kernel)[None, None]  # (out_channels 1, in_channels 1, kH, kW)
    out = F.conv2d(as_float(image), weight, stride=stride, padding=padding, dilation=dilation)  # (1, 1, H', W')
    return Convolved(out[0, 0].numpy(), shape, layer)


def pool(feature: np.ndarray, kind: str, kernel_size: int, stride: int | None = None) -> tuple[np.ndarray, tuple]:
    """Max or average pooling (`kind` in POOLS) of one map (H, W) -> (pooled (H', W'), shape (1, H', W'))."""
    if kind not in POOLS:
        raise ValueError(f"pooling must be one of {POOLS}, not {kind!r}")
    layer = LayerSpec.of(kind, kernel_size=kernel_size, stride=stride)
    shape = shapes.output_shape(layer, (1, *feature.shape))
    fn = F.max_pool2d if kind == "MaxPool2d" else F.avg_pool2d
    x = torch.tensor(np.asarray(feature, dtype=np.float32))[None, None]  # (1, 1, H, W)
    return fn(x, kernel_size, stride)[0, 0].numpy(), shape


def first_conv(model: nn.Module) -> nn.Conv2d | None:
    """The model's first 2-D convolution, or None for an FC net."""
    convs = conv_layers(model)
    return convs[0][1] if convs else None


def apply_first_layer(model: nn.Module, image: np.ndarray, settings: TrainSettings) -> np.ndarray:
    """A trained CNN's first-layer kernels (with their bias) slid over one uint8 image (28, 28) through F.conv2d,
    on the image standardised as in training but never pixel-shuffled -> (out_channels, H', W')."""
    conv = first_conv(model)
    if conv is None:
        raise ValueError("this model has no convolution")
    if conv.in_channels != 1:
        raise shapes.ShapeError(f"the first convolution expects {conv.in_channels} channels, not 1 grey one")
    unshuffled = replace(settings, permute_pixels=False)  # every other input setting kept
    x = model_input(np.asarray(image)[None], unshuffled)  # (1, 1, 28, 28)
    weight = conv.weight.detach().float().cpu()
    bias = None if conv.bias is None else conv.bias.detach().float().cpu()
    padding = conv.padding if conv.padding_mode == "zeros" else 0
    if conv.padding_mode != "zeros":  # reflect / replicate / circular: pad first, as the module does
        x = F.pad(x, conv._reversed_padding_repeated_twice, mode=conv.padding_mode)
    with torch.inference_mode():
        out = F.conv2d(x, weight, bias, conv.stride, padding, conv.dilation, conv.groups)
    return out[0].numpy()

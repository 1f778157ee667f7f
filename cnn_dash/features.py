"""Inside a CNN: the first convolution's learned kernels and every convolution's feature maps."""
from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

# A run's models are shared by every page and session that shows it (runs.Run.trained_models): one capture at
# a time, so that no forward pass sees another's hooks. A capture is one image's forward pass: milliseconds.
_HOOKS = threading.Lock()


def conv_layers(model: nn.Module) -> list[tuple[str, nn.Conv2d]]:
    """The model's 2-D convolutions with their module names, in forward order."""
    return [(name, m) for name, m in model.named_modules() if isinstance(m, nn.Conv2d)]


def first_conv_kernels(model: nn.Module) -> np.ndarray:
    """The first convolution's weights, (out_channels, in_channels / groups, kH, kW); empty for an FC net."""
    convs = conv_layers(model)
    if not convs:
        return np.zeros((0, 0, 0, 0), dtype=np.float32)
    return convs[0][1].weight.detach().float().cpu().numpy().copy()


@dataclass(frozen=True)
class FeatureMaps:
    """One convolution's output for one image."""

    name: str  # module name in the model, e.g. "0" for the first layer of a Sequential
    label: str  # readable, e.g. "Conv2d #1: 1→16, 3×3"
    maps: np.ndarray  # (out_channels, H_out, W_out)


def _label(index: int, conv: nn.Conv2d) -> str:
    kh, kw = conv.kernel_size
    return f"Conv2d #{index}: {conv.in_channels}→{conv.out_channels}, {kh}×{kw}"


def feature_maps(model: nn.Module, image: torch.Tensor) -> list[FeatureMaps]:
    """Feature maps of every convolution for one normalised image (1, H, W), captured with forward hooks."""
    captured: dict[str, torch.Tensor] = {}

    def keep(name: str):
        def hook(_module: nn.Module, _inputs: tuple, output: torch.Tensor) -> None:
            captured[name] = output.detach()

        return hook

    convs = conv_layers(model)
    with _HOOKS:
        handles = [m.register_forward_hook(keep(name)) for name, m in convs]
        try:
            model.eval()
            device = next(model.parameters()).device
            with torch.inference_mode():
                model(image.unsqueeze(0).to(device))  # (1, C, H, W)
        finally:
            for h in handles:
                h.remove()
    return [
        FeatureMaps(name, _label(i + 1, m), captured[name][0].float().cpu().numpy())
        for i, (name, m) in enumerate(convs)
    ]


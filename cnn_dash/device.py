"""Where torch computes: a GPU when there is one, else the CPU. Training (the scheduler) and inference (the
Evaluation page's metrics and shift curves) both ask here; everything works on a CPU-only machine."""
from __future__ import annotations

import copy

import torch
from torch import nn


def default_device() -> torch.device:
    """A GPU when torch sees one, else the CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def inference_copy(model: nn.Module) -> nn.Module:
    """An eval-mode copy of `model` to run many images through on this machine: on the GPU when there is one, else
    on the CPU with a CNN's weights channels-last (up to twice as fast for a small CNN, MaxPool2d above all,
    measured against NCHW at batch 32-256). The caller's model is left as it was."""
    model = copy.deepcopy(model).eval()
    device = default_device()
    if device.type != "cpu":
        return model.to(device)
    if any(isinstance(m, nn.Conv2d) for m in model.modules()):
        model = model.to(memory_format=torch.channels_last)
    return model

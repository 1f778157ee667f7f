"""Where torch computes: a GPU when there is one, else the CPU. Training (the scheduler, with its concurrency per
device) and inference (a run's models, built once for every page: Training.trained_models) both ask here; everything
works on a CPU-only machine."""
from __future__ import annotations

import torch


def default_device() -> torch.device:
    """A GPU when torch sees one, else the CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")

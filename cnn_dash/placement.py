"""Where and how big a digit is drawn: test images moved off-centre and shrunk, every model scored on each.

MNIST's digits are centred by their centre of mass and scaled to 20×20, and the draw page does the same to a
drawing unless the student asks to keep it as drawn. This module measures, on a run's own test images, what that
costs each model, so the page can say what holds for that run and nothing more (hints.placement_reading).
"""
from __future__ import annotations

from collections.abc import Callable, Mapping

import torch
import torch.nn.functional as F
from torch import nn

from cnn_dash.shift import shift_images, stratified_subset

SIZE = 28
Prepare = Callable[[torch.Tensor], torch.Tensor]  # uint8 (B, H, W) -> the model's input (B, 1, H, W)


def shrink(images: torch.Tensor, side: int) -> torch.Tensor:
    """uint8 images (N, 28, 28) scaled down to side×side (anti-aliased) and placed in the middle of the field."""
    small = F.interpolate(images[:, None].float(), size=(side, side), mode="bilinear", antialias=True,
                          align_corners=False)[:, 0]  # (N, side, side)
    out = torch.zeros(images.shape, dtype=torch.float32)
    top = (SIZE - side) // 2
    out[:, top:top + side, top:top + side] = small
    return out.round().clamp(0, 255).to(torch.uint8)


# What a student does on the canvas, as a change to a centred test image. Each keeps the whole digit in the field.
PLACEMENTS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "centred, as in the test set": lambda x: x,
    "moved 4 px right and 4 px down": lambda x: shift_images(x, 4, 4),
    "drawn at half size": lambda x: shrink(x, 14),
    "half size, in a corner": lambda x: shift_images(shrink(x, 14), -6, -6),
}


def placement_accuracy(models: Mapping[str, nn.Module], images: torch.Tensor, labels: torch.Tensor,
                       prepare: Prepare, n: int = 1_000) -> dict[str, dict[str, float]]:
    """Label -> placement -> test accuracy on `n` of the images (the same stratified ones every time)."""
    keep = stratified_subset(labels, n)
    images, labels = images[keep], torch.as_tensor(labels)[keep]
    out: dict[str, dict[str, float]] = {label: {} for label in models}
    with torch.inference_mode():
        for name, place in PLACEMENTS.items():
            x = prepare(place(images))  # (n, 1, 28, 28)
            for label, model in models.items():
                model.eval()
                device = next(model.parameters()).device
                preds = model(x.to(device)).argmax(1).cpu()
                out[label][name] = (preds == labels).double().mean().item()
    return out

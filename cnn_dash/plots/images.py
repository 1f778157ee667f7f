"""Dataset images as tiles for `st.image`: plain PNGs, no chart library for the browser to load."""
from __future__ import annotations

import numpy as np
import torch

SCALE = 3  # 28×28 pixels drawn as 84×84 screen pixels


def tiles(images: torch.Tensor, scale: int = SCALE) -> list[np.ndarray]:
    """uint8 (N, H, W) images, each enlarged `scale` times by repeating pixels (sharp edges, no blur)."""
    big = images.repeat_interleave(scale, dim=1).repeat_interleave(scale, dim=2)
    return list(big.numpy())

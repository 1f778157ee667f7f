"""Equivariance: a convolution's maps of a moved image are its maps moved by shift / stride; an FC layer's are not."""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from cnn_dash.equivariance import as_grid, equivariance, equivariance_sentence


def prepare(batch: torch.Tensor) -> torch.Tensor:
    return (batch.float() / 255)[:, None]  # (B, 1, H, W): zero stays zero, as the maps' zero padding


def test_the_cnn_maps_move_by_shift_over_stride_and_the_fc_units_do_not():
    torch.manual_seed(0)
    cnn = nn.Sequential(nn.Conv2d(1, 4, 5, stride=2, padding=2), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 14 * 14, 10))
    fc = nn.Sequential(nn.Flatten(), nn.Linear(784, 64), nn.ReLU(), nn.Linear(64, 10))
    image = np.zeros((28, 28), dtype=np.uint8)
    image[8:20, 10:16] = 200  # a bar away from the borders
    e = equivariance(cnn, fc, image, 4, -2, prepare)
    assert e.map_shift == (2, -1) and e.cnn_maps.shape == (2, 4, 14, 14) and e.fc_hidden.shape == (2, 64)
    assert e.cnn_match > 0.999  # exact away from the borders
    assert e.fc_match < 0.9
    # the oracle: the conv of the moved image, cell by cell, is the conv of the image two rows down, one left
    np.testing.assert_allclose(e.cnn_maps[1][:, 3:12, 1:12], e.cnn_maps[0][:, 1:10, 2:13], atol=1e-5)
    text = equivariance_sentence(e)
    assert f"correlation {e.cnn_match:.2f}" in text and f"correlation {e.fc_match:.2f}" in text
    assert "moved by (2, -1) cells of its stride-2 maps" in text
    assert "rounded" in equivariance_sentence(equivariance(cnn, fc, image, 3, 0, prepare))


def test_hidden_units_drawn_as_a_grid():
    grid = as_grid(np.arange(10, dtype=np.float32))
    assert grid.shape == (3, 4) and np.isnan(grid[-1, -2:]).all() and grid[0, 1] == 1

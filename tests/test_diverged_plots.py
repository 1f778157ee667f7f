"""A diverged model reads right: kernels and feature maps scaled to their finite values, no warning, no 'nan%'."""
from __future__ import annotations

import warnings

import numpy as np
import torch
from torch import nn

from cnn_dash import metrics
from cnn_dash.plots.confusion import feature_maps_figure, kernels_figure


def test_kernels_are_scaled_to_their_finite_weights_and_the_rest_are_gaps():
    kernels = np.full((4, 1, 3, 3), 0.5, dtype=np.float32)
    kernels[0, 0, 0, 0], kernels[1, 0, 1, 1], kernels[2, 0, 2, 2] = np.inf, np.nan, -2.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a RuntimeWarning in the server log fails the test
        fig = kernels_figure(kernels)
    heatmap = fig.data[0]
    assert (heatmap.zmin, heatmap.zmax) == (-2.0, 2.0)  # the largest finite weight, not infinity
    z = np.asarray(heatmap.z, dtype=float)
    assert np.isnan(z).sum() - np.isnan(kernels_figure(np.zeros((4, 1, 3, 3))).data[0].z).sum() == 2
    assert "2 weights not finite" in fig.layout.title.text.replace("<br>", " ")


def test_feature_maps_scale_each_channel_to_its_finite_values_without_warnings():
    maps = np.stack([np.arange(16.0).reshape(4, 4), np.full((4, 4), np.nan), np.full((4, 4), 3.0)])
    maps[0, 0, 0] = np.inf
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = feature_maps_figure(maps, "maps")
    z = np.asarray(fig.data[0].z, dtype=float)
    first = z[:4, :4]
    assert np.isnan(first[0, 0]) and first[0, 1] == 0.0 and first[3, 3] == 1.0  # 1..15 scaled to 0..1
    assert np.isnan(z[:4, 5:9]).all() and (z[:4, 10:14] == 0).all()  # all NaN: gaps; constant: 0


class Overflow(nn.Module):
    """A model whose logits overflow, as a diverged model's last finite weights can."""

    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(torch.tensor(1e30))

    def forward(self, x):
        logits = x.flatten(1)[:, :10] * self.scale * 1e30  # (B, 10): inf where a pixel is lit
        logits[:, 3] = float("nan")
        return logits


def test_a_model_with_overflowing_logits_gets_numbers_not_nan():
    images = torch.zeros(5, 28, 28, dtype=torch.uint8)
    images[:, 0, 2] = 255
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        p = metrics.predict(Overflow(), images, (0.0, 1.0))
    assert np.isfinite(p.probs).all() and np.isfinite(p.confidence).all()
    assert "nan" not in f"{p.confidence[0]:.0%}"

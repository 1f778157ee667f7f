"""Kernels and feature maps against the model's own layers and a plain forward pass."""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from cnn_dash import features
from cnn_dash.plots import confusion as plots


def make_cnn() -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),  # (6, 14, 14)
        nn.Conv2d(6, 4, 3), nn.ReLU(),  # (4, 12, 12)
        nn.Flatten(), nn.Linear(4 * 12 * 12, 10),
    ).eval()


def test_first_conv_kernels_are_the_first_conv_weights():
    model = make_cnn()
    k = features.first_conv_kernels(model)
    assert k.shape == (6, 1, 5, 5) and k.dtype == np.float32
    np.testing.assert_array_equal(k, model[0].weight.detach().numpy())
    k[0, 0, 0, 0] = 123.0  # a copy: the model is untouched
    assert model[0].weight[0, 0, 0, 0].item() != 123.0


def test_fc_net_has_no_kernels_or_maps():
    fc = nn.Sequential(nn.Flatten(), nn.Linear(784, 10))
    assert features.first_conv_kernels(fc).size == 0
    assert features.feature_maps(fc, torch.zeros(1, 28, 28)) == []


def test_feature_maps_match_a_forward_pass():
    model = make_cnn()
    image = torch.randn(1, 28, 28)
    maps = features.feature_maps(model, image)
    assert [m.name for m in maps] == ["0", "3"]
    assert [m.maps.shape for m in maps] == [(6, 28, 28), (4, 12, 12)]
    with torch.no_grad():
        x = image.unsqueeze(0)
        first = model[0](x)
        second = model[3](model[2](model[1](first)))
    np.testing.assert_allclose(maps[0].maps, first[0].numpy(), atol=1e-6)
    np.testing.assert_allclose(maps[1].maps, second[0].numpy(), atol=1e-6)
    assert maps[0].label == "Conv2d #1: 1→6, 5×5"
    # hooks are removed afterwards
    assert all(not m._forward_hooks for m in model.modules())


def test_grids_hold_every_tile():
    model = make_cnn()
    fig = plots.kernels_figure(features.first_conv_kernels(model))
    z = np.asarray(fig.data[0].z, dtype=float)
    assert z.shape == (5, 6 * 6 - 1)  # six 5x5 kernels in one row, a blank pixel between them
    assert np.isnan(z).sum() == 5 * 5
    maps = features.feature_maps(model, torch.randn(1, 28, 28))
    fig = plots.feature_maps_figure(maps[0].maps, maps[0].label, columns=4)
    z = np.asarray(fig.data[0].z, dtype=float)
    assert z.shape == (2 * 29 - 1, 4 * 29 - 1)
    assert np.nanmin(z) == 0 and np.nanmax(z) == 1  # each map scaled to its own range

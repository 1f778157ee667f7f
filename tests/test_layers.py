"""LocallyConnected2d against a plain loop over output positions and, with every position's kernel tied to one,
against nn.Conv2d; its parameters against the shape calculator, and its place in specs, code export and training."""
from __future__ import annotations

import itertools

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from cnn_dash.build import build_model, to_code
from cnn_dash.layers import LocallyConnected2d
from cnn_dash.shapes import ShapeError, net_cost, output_shape, trace
from cnn_dash.specs import LayerSpec, NetSpec

L = LayerSpec.of
WINDOWS = [  # kernel_size, stride, padding, dilation, in_size
    (3, 1, 0, 1, (7, 7)), (5, 2, 2, 1, (9, 8)), ((3, 2), (2, 1), (1, 0), 1, (6, 7)), (3, 1, 2, 2, (7, 6)),
    (1, 3, 0, 1, (5, 5)), ((2, 3), 1, 1, (2, 1), (6, 9)),
]


def loop_reference(local: LocallyConnected2d, x: torch.Tensor) -> torch.Tensor:
    """The definition, one output value at a time: position (i, j)'s own kernel times the window it reads."""
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = local.kernel_size, local.stride, local.padding, local.dilation
    oh, ow = local.out_size
    padded = F.pad(x, (pw, pw, ph, ph))  # (B, C, H + 2ph, W + 2pw)
    out = torch.zeros(x.shape[0], local.out_channels, oh, ow, dtype=x.dtype)
    for i, j in itertools.product(range(oh), range(ow)):
        kernel = local.weight[i * ow + j].view(local.out_channels, local.in_channels, kh, kw)
        for a, b in itertools.product(range(kh), range(kw)):
            tap = padded[:, :, i * sh + a * dh, j * sw + b * dw]  # (B, C)
            out[:, :, i, j] += tap @ kernel[:, :, a, b].T
        if local.bias is not None:
            out[:, :, i, j] += local.bias[:, i, j]
    return out


@pytest.mark.parametrize("kernel, stride, padding, dilation, size", WINDOWS)
@pytest.mark.parametrize("bias", [True, False])
def test_matches_a_loop_over_positions(kernel, stride, padding, dilation, size, bias):
    torch.manual_seed(0)
    local = LocallyConnected2d(3, 4, kernel, size, stride, padding, dilation, bias=bias).double()
    x = torch.randn(2, 3, *size, dtype=torch.float64)
    torch.testing.assert_close(local(x), loop_reference(local, x))


@pytest.mark.parametrize("kernel, stride, padding, dilation, size", WINDOWS)
def test_tied_weights_compute_a_convolution(kernel, stride, padding, dilation, size):
    torch.manual_seed(1)
    conv = nn.Conv2d(2, 5, kernel, stride, padding, dilation)
    local = LocallyConnected2d.tied_to(conv, size)
    x = torch.randn(3, 2, *size)
    torch.testing.assert_close(local(x), conv(x), rtol=1e-5, atol=1e-5)
    # and the gradient a position's kernel receives, summed over positions, is the shared kernel's gradient
    conv(x).square().sum().backward()
    local(x).square().sum().backward()
    torch.testing.assert_close(local.weight.grad.sum(0), conv.weight.grad.flatten(1), rtol=1e-4, atol=1e-4)


def test_untied_positions_differ_from_any_convolution():
    torch.manual_seed(2)
    local = LocallyConnected2d(1, 1, 3, (6, 6))
    x = torch.zeros(1, 1, 6, 6)
    x[0, 0, 1, 1] = x[0, 0, 4, 4] = 1.0  # the same dot at two places gives two different answers
    y = local(x) - local.bias  # (1, 1, 4, 4): each dot sits at the centre of the window of output (0, 0), (3, 3)
    assert not torch.allclose(y[0, 0, 0, 0], y[0, 0, 3, 3])


@pytest.mark.parametrize("kernel, stride, padding, dilation, size", WINDOWS)
def test_the_calculator_counts_its_shape_and_parameters(kernel, stride, padding, dilation, size):
    spec = L("LocallyConnected2d", in_channels=3, out_channels=4, kernel_size=kernel, stride=stride,
             padding=padding, dilation=dilation)
    out = output_shape(spec, (3, *size))
    conv_out = output_shape(L("Conv2d", in_channels=3, out_channels=4, kernel_size=kernel, stride=stride,
                              padding=padding, dilation=dilation), (3, *size))
    assert out == conv_out  # the same windows as a convolution
    module = build_model(NetSpec("one", (spec,), (3, *size)))
    assert tuple(module(torch.zeros(1, 3, *size)).shape[1:]) == out
    row = trace(NetSpec("one", (spec,), (3, *size)))[0]
    assert row.params == sum(p.numel() for p in module.parameters())
    assert row.macs == row.params  # each weight multiplies one input per image


def test_it_costs_the_multiply_adds_of_the_convolution_with_its_windows():
    conv = NetSpec("c", (L("Conv2d", out_channels=8, kernel_size=5, stride=2, padding=2),))
    local = NetSpec("l", (L("LocallyConnected2d", out_channels=8, kernel_size=5, stride=2, padding=2),))
    (conv_params, conv_macs), (local_params, local_macs) = net_cost(conv), net_cost(local)
    assert local_macs == conv_macs == 208 * 196
    assert local_params == conv_params * 14 * 14


@pytest.mark.parametrize("layer, in_shape, words", [
    (L("LocallyConnected2d", out_channels=4, kernel_size=3, padding="same"), (1, 8, 8), "number for padding"),
    (L("LocallyConnected2d", out_channels=4, kernel_size=3, in_size=(9, 9)), (1, 8, 8), "one input size"),
    (L("LocallyConnected2d", out_channels=4, kernel_size=9), (1, 8, 8), "larger than the padded input"),
    (L("LocallyConnected2d", out_channels=4, kernel_size=3), (8,), "expects an input of shape"),
    (L("LocallyConnected2d", out_channels=4, kernel_size=3, groups=2), (1, 8, 8), "has no argument 'groups'"),
])
def test_rejections_are_explained(layer, in_shape, words):
    with pytest.raises(ShapeError, match=words):
        output_shape(layer, in_shape)


def test_exported_code_runs_without_cnn_dash():
    net = NetSpec("lc", (L("LocallyConnected2d", out_channels=3, kernel_size=3, stride=2), L("ReLU"), L("Flatten"),
                         L("Linear", out_features=10)))
    code = to_code(net)
    assert "cnn_dash" not in code.replace("cnn_dash/layers.py", "")
    namespace: dict = {}
    exec(compile(code, "<exported>", "exec"), namespace)  # noqa: S102 - our own generated code
    assert namespace["y"].shape == (1, 10)


def test_it_trains():
    torch.manual_seed(0)
    model = build_model(NetSpec("lc", (L("LocallyConnected2d", out_channels=4, kernel_size=3), L("ReLU"),
                                       L("Flatten"), L("Linear", out_features=2)), (1, 6, 6)))
    x, y = torch.randn(32, 1, 6, 6), torch.randint(0, 2, (32,))
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    first = F.cross_entropy(model(x), y).item()
    for _ in range(50):
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()
    assert F.cross_entropy(model(x), y).item() < first / 2

"""The single-layer explanation against torch: which inputs one output reads, and pooling values."""
from __future__ import annotations

import random

import numpy as np
import pytest
import torch
from torch import nn

from cnn_dash.shapes import ShapeError, output_shape
from cnn_dash.specs import LayerSpec
from cnn_dash.windows import explain, pool2d, rounding_text
from tests.test_shapes import gen_adaptive, gen_conv, gen_pool

N_CONFIGS = 300


def valid_configs(gen, kind: str, seed: str, count: int, keep=lambda layer: True):
    """`count` seeded random layers that torch and the calculator both accept."""
    rng, found = random.Random(seed), []
    while len(found) < count:
        layer, shape = gen(rng, kind)
        if not keep(layer):
            continue
        try:
            output_shape(layer, shape)
        except ShapeError:
            continue
        found.append((layer, shape))
    return found


def read_positions(module: nn.Module, shape: tuple[int, ...], cell: tuple[int, ...]) -> set[tuple[int, ...]]:
    """The input positions whose gradient at one output cell is non-zero: what that output reads."""
    x = torch.rand((1, 1, *shape[1:]), requires_grad=True)
    module(x)[(0, 0, *cell)].backward()
    return {tuple(i) for i in torch.nonzero(x.grad[0, 0]).tolist()}


def predicted_positions(layer: LayerSpec, shape: tuple[int, ...], cell: tuple[int, ...]) -> set[tuple[int, ...]]:
    dims = explain(layer, shape).dims
    rows, cols = ([x for x in d.taps(o) if 0 <= x < d.size] for d, o in zip(dims, cell))
    return {(r, c) for r in rows for c in cols}


def one_channel(layer: LayerSpec) -> LayerSpec:
    kw = {**layer.kwargs(), "in_channels": 1, "out_channels": 1, "groups": 1, "bias": False}
    return LayerSpec.of(layer.type, **kw)


@pytest.mark.filterwarnings("ignore:Using padding=.same.")
@pytest.mark.parametrize("kind", ["Conv2d", "ConvTranspose2d", "AvgPool2d", "AdaptiveAvgPool2d"])
def test_window_taps_match_torch_gradients(kind):
    gen = {"AvgPool2d": gen_pool, "AdaptiveAvgPool2d": gen_adaptive}.get(kind, gen_conv)
    zeros = lambda layer: layer.get("padding_mode", "zeros") == "zeros"  # noqa: E731
    rng = random.Random(kind)
    for layer, shape in valid_configs(gen, kind, f"taps-{kind}", N_CONFIGS, zeros):
        if "Conv" in kind:
            layer = one_channel(layer)
        shape = (1, *shape[1:])
        module = getattr(nn, kind)(**layer.kwargs())
        if "Conv" in kind:
            nn.init.ones_(module.weight)  # every tap counts, so no gradient cancels to zero
        out = output_shape(layer, shape)
        cell = tuple(rng.randrange(n) for n in out[1:])
        assert read_positions(module, shape, cell) == predicted_positions(layer, shape, cell), (layer, shape, cell)


@pytest.mark.parametrize("kind", ["MaxPool2d", "AvgPool2d"])
def test_pool2d_matches_torch(kind):
    rng = np.random.default_rng(0)
    for layer, shape in valid_configs(gen_pool, kind, f"pool-{kind}", N_CONFIGS, lambda lay: not lay.get("return_indices")):
        image = rng.integers(0, 256, size=shape[1:]).astype(np.float64)
        want = getattr(nn, kind)(**layer.kwargs())(torch.from_numpy(image)[None, None])[0, 0].numpy()
        np.testing.assert_allclose(pool2d(image, layer), want, rtol=1e-6, err_msg=str(layer))


def test_explanation_agrees_with_the_calculator():
    for kind, gen in (("Conv1d", gen_conv), ("Conv2d", gen_conv), ("Conv3d", gen_conv), ("ConvTranspose2d", gen_conv),
                      ("MaxPool2d", gen_pool), ("AvgPool2d", gen_pool), ("AdaptiveAvgPool2d", gen_adaptive)):
        for layer, shape in valid_configs(gen, kind, f"explain-{kind}", 100, lambda lay: not lay.get("return_indices")):
            expl = explain(layer, shape)
            assert expl.out_shape == output_shape(layer, shape)
            assert tuple(d.out for d in expl.dims) == expl.out_shape[1:]
            for d in expl.dims:
                general, numbers = d.latex()
                assert numbers.endswith(f"= {d.out}") or d.kind == "adaptive"
                assert rounding_text(d)


def test_floor_leaves_input_rows_uncovered():
    # 28 wide, kernel 3, stride 3: 25/3 rounds down, so the last input column is never read
    (dim,) = explain(LayerSpec.of("Conv1d", out_channels=1, kernel_size=3, stride=3), (1, 28)).dims
    assert (dim.out, dim.uncovered, dim.uncovered_input) == (9, 1, 1)
    assert "1 position" in rounding_text(dim) and "1 of the input" in rounding_text(dim)
    assert r"\left\lfloor \tfrac{25}{3} \right\rfloor + 1 = 9" in dim.latex()[1]


def test_ceil_mode_drop_is_explained():
    # 6 wide, padding 1, kernel 2, stride 4: ceil gives 3 windows, the third would start past the input
    layer = LayerSpec.of("MaxPool2d", kernel_size=2, stride=4, padding=1, ceil_mode=True)
    dim = explain(layer, (1, 6, 6)).dims[0]
    assert dim.out == 2 and dim.dropped_last
    assert dim.latex()[1].endswith("= 3 - 1 = 2")
    assert "drops" in rounding_text(dim)


def test_params_and_macs_of_one_layer():
    expl = explain(LayerSpec.of("Conv2d", out_channels=16, kernel_size=3, padding=1), (1, 28, 28))
    assert (expl.params, expl.macs) == (160, 160 * 28 * 28)
    assert expl.layer.get("in_channels") == 1


def test_window_figure_lights_the_taps_and_the_chosen_cell():
    from cnn_dash.plots.window import OUT_PICKED, PAD, TAP, TAP_PAD, drawable, window_figure

    layer = LayerSpec.of("Conv2d", out_channels=1, kernel_size=3, padding=2, stride=2, dilation=2)
    expl = explain(layer, (1, 9, 9))
    assert drawable(expl)
    fig = window_figure(expl, (0, 2))
    grid, out = np.array(fig.data[0].z), np.array(fig.data[1].z)
    assert grid.shape == (13, 13)  # 9 input positions and 2 of padding on each side
    # output (0, 2) reads rows -2, 0, 2 and columns 2, 4, 6: one row of taps falls on the padding
    assert (grid == TAP).sum() == 6 and (grid == TAP_PAD).sum() == 3 and (grid == PAD).sum() == 169 - 81 - 3
    assert out.shape == (5, 5) and out[0, 2] == OUT_PICKED and (out == OUT_PICKED).sum() == 1
    assert not drawable(explain(layer, (1, 500, 500)))


def test_window_figure_marks_the_cells_no_window_covers():
    from cnn_dash.plots.window import UNCOVERED, window_figure

    # 7×7, kernel 2, stride 2: three windows cover rows and columns 0-5; row 6 and column 6 are never read
    expl = explain(LayerSpec.of("MaxPool2d", kernel_size=2, stride=2), (1, 7, 7))
    fig = window_figure(expl, (0, 0))
    (marks,) = [t for t in fig.data if t.name == UNCOVERED]
    cells = set(zip(marks.y, marks.x))
    assert cells == {(6, c) for c in range(7)} | {(r, 6) for r in range(7)}
    assert fig.layout.showlegend and marks.showlegend is not False
    # 8×8 with the same windows: every cell is read, nothing marked, no legend
    fig = window_figure(explain(LayerSpec.of("MaxPool2d", kernel_size=2, stride=2), (1, 8, 8)), (0, 0))
    assert not [t for t in fig.data if t.name == UNCOVERED] and not fig.layout.showlegend
    # stride 3 past a kernel of 2: the gaps between windows are marked too (columns 2 and 5 of 6)
    fig = window_figure(explain(LayerSpec.of("Conv1d", out_channels=1, kernel_size=2, stride=3), (1, 6)), (0,))
    (marks,) = [t for t in fig.data if t.name == UNCOVERED]
    assert sorted(marks.x) == [2, 5]

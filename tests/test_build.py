"""Built modules and exported code against torch: every preset and random valid stacks run to the traced shape."""
from __future__ import annotations

import random

import pytest
import torch
from torch import nn

from cnn_dash.build import build_model, layer_code, to_code
from cnn_dash.shapes import net_cost
from cnn_dash.presets import PRESETS
from cnn_dash.shapes import ShapeError, trace
from cnn_dash.specs import LayerSpec, NetSpec

L = LayerSpec.of


def run_code(code: str) -> torch.Size:
    """Execute exported code as a user would paste it; return the shape it printed and asserted."""
    namespace: dict = {}
    exec(compile(code, "<exported>", "exec"), namespace)  # noqa: S102 - our own generated code
    assert isinstance(namespace["model"], nn.Sequential)
    return namespace["y"].shape


def layer_shapes(model: nn.Module, input_shape: tuple[int, ...]) -> list[tuple[int, ...]]:
    shapes = []
    hooks = [m.register_forward_hook(lambda _m, _i, out: shapes.append(tuple(out.shape[1:]))) for m in model]
    with torch.no_grad():
        model.eval()(torch.zeros((2, *input_shape)))
    for h in hooks:
        h.remove()
    return shapes


@pytest.mark.parametrize("name", list(PRESETS))
def test_presets_export_code_that_runs_to_the_traced_shape(name):
    net = PRESETS[name]
    rows = trace(net)
    assert run_code(to_code(net)) == (1, *rows[-1].out_shape)
    model = build_model(net)
    assert layer_shapes(model, net.input_shape) == [r.out_shape for r in rows]
    assert net_cost(net)[0] == sum(p.numel() for p in model.parameters())


def test_seed_parameter_counts():
    assert net_cost(PRESETS["ConvNet (CNN notebook)"])[0] == 13_686
    assert net_cost(PRESETS["FCNet (CNN notebook)"])[0] == 12_730


def random_layer(rng: random.Random, shape: tuple[int, ...]) -> LayerSpec:
    if len(shape) == 1:
        return rng.choice([L("Linear", out_features=rng.randint(1, 40), bias=rng.random() < 0.8), L("ReLU"),
                           L("Dropout", p=0.25), L("BatchNorm1d"), L("Tanh")])
    k = rng.choice([1, 2, 3, 5, (3, 1), (2, 3)])
    choices = [
        L("Conv2d", out_channels=rng.choice([2, 4, 6, 8]), kernel_size=k, stride=rng.choice([1, 1, 2, (1, 2)]),
          padding=rng.choice([0, 1, 2, (1, 0)]), dilation=rng.choice([1, 1, 2]), groups=rng.choice([1, 1, 2]),
          bias=rng.random() < 0.8, padding_mode=rng.choice(["zeros", "zeros", "reflect", "replicate", "circular"])),
        L("Conv2d", out_channels=rng.choice([3, 4]), kernel_size=k, padding=rng.choice(["same", "valid"]),
          dilation=rng.choice([1, 2])),
        L("ConvTranspose2d", out_channels=rng.choice([2, 4]), kernel_size=rng.choice([2, 3]), stride=rng.choice([1, 2]),
          padding=rng.choice([0, 1]), output_padding=rng.choice([0, 1])),
        L("MaxPool2d", kernel_size=rng.choice([2, 3, (2, 1)]), stride=rng.choice([None, 1, 2]), padding=rng.choice([0, 1]),
          dilation=rng.choice([1, 2]), ceil_mode=rng.random() < 0.5),
        L("AvgPool2d", kernel_size=rng.choice([2, 3]), stride=rng.choice([None, 1, 2]), padding=rng.choice([0, 1]),
          ceil_mode=rng.random() < 0.5, count_include_pad=rng.random() < 0.5),
        L("AdaptiveAvgPool2d", output_size=rng.choice([1, 2, 4, (3, None), (None, 2)])),
        L("BatchNorm2d"), L("ReLU"), L("LeakyReLU", negative_slope=0.1), L("Dropout", p=0.1), L("GELU"),
        L("Flatten"), L("Flatten"),
    ]
    return rng.choice(choices)


def random_stack(rng: random.Random) -> NetSpec:
    """A valid random network: each layer drawn until the calculator accepts it, then a classifier head."""
    net = NetSpec("random", (), input_shape=(rng.randint(1, 3), rng.randint(6, 24), rng.randint(6, 24)))
    for _ in range(rng.randint(1, 8)):
        for _attempt in range(20):
            candidate = NetSpec(net.name, (*net.layers, random_layer(rng, net.input_shape if not net.layers
                                                                        else trace(net)[-1].out_shape)), net.input_shape)
            try:
                trace(candidate)
            except ShapeError:
                continue
            net = candidate
            break
    tail = (L("Flatten"),) if not net.layers or len(trace(net)[-1].out_shape) > 1 else ()
    return NetSpec(net.name, (*net.layers, *tail, L("Linear", out_features=10)), net.input_shape)


@pytest.mark.filterwarnings("ignore:Using padding=.same.")
def test_random_valid_stacks_export_code_that_runs_to_the_traced_shape():
    rng = random.Random(7)
    torch.manual_seed(0)
    types = set()
    for _ in range(150):
        net = random_stack(rng)
        rows = trace(net)
        types |= {layer.type for layer in net.layers}
        assert run_code(to_code(net)) == (1, *rows[-1].out_shape), to_code(net)
        model = build_model(net)
        assert layer_shapes(model, net.input_shape) == [r.out_shape for r in rows], net
        assert net_cost(net)[0] == sum(p.numel() for p in model.parameters())
    assert len(types) >= 12  # the stacks really mix the layer types


def test_in_features_follow_the_input_shape():
    net = PRESETS["LeNet-5"]
    bigger = NetSpec(net.name, net.layers, input_shape=(1, 32, 32))
    linear = [r.layer for r in trace(bigger) if r.layer.type == "Linear"][0]
    assert linear.get("in_features") == 16 * 6 * 6
    assert build_model(bigger)[-5].in_features == 576


def test_layer_code_uses_torch_names_in_torch_order():
    layer = L("Conv2d", padding="same", kernel_size=(3, 5), out_channels=8, in_channels=1)
    assert layer_code(layer) == "nn.Conv2d(in_channels=1, out_channels=8, kernel_size=(3, 5), padding='same')"


def test_invalid_network_is_refused_before_torch_sees_it():
    with pytest.raises(ShapeError, match="layer 2"):
        build_model(NetSpec("bad", (L("Flatten"), L("Conv2d", out_channels=4, kernel_size=3))))
    with pytest.raises(ShapeError):
        to_code(NetSpec("bad", (L("Linear", out_features=0),)))

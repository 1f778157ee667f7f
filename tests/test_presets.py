"""Presets against the seed tutorials' own torch code, and the parameter-matched FC against brute force."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from cnn_dash.build import build_model
from cnn_dash.shapes import net_cost
from cnn_dash.presets import PRESETS, cnn_presets, fc_param_count, fc_presets, matched_fc, matched_width
from cnn_dash.specs import NetSpec


def n_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


# The seed tutorials' models, written as the tutorials write them (hard-coded in_channels/in_features on purpose:
# they are the oracle the inferred sizes must reproduce).
SEED_MODELS = {
    "ConvNet (CNN notebook)": lambda: nn.Sequential(
        nn.Conv2d(1, 16, 3, 1, 1), nn.MaxPool2d(2, 2, 0), nn.Conv2d(16, 32, 3, 1, 0), nn.MaxPool2d(2, 2, 1),
        nn.Conv2d(32, 64, 1, 1, 0), nn.Conv2d(64, 4, 5, 1, 0), nn.Flatten(), nn.Linear(36, 10),
    ),
    "FCNet (CNN notebook)": lambda: nn.Sequential(nn.Flatten(), nn.Linear(28 * 28, 16), nn.ReLU(), nn.Linear(16, 10)),
    "Two-block 5×5 CNN (2020 tutorial)": lambda: nn.Sequential(
        nn.Conv2d(1, 32, kernel_size=5, stride=1, padding=2), nn.ReLU(), nn.MaxPool2d(kernel_size=2, stride=2),
        nn.Conv2d(32, 64, kernel_size=5, stride=1, padding=2), nn.ReLU(), nn.MaxPool2d(kernel_size=2, stride=2),
        nn.Flatten(), nn.Dropout(), nn.Linear(7 * 7 * 64, 1000), nn.Linear(1000, 10),
    ),
    "One-block CNN (Conv2d guide)": lambda: nn.Sequential(
        nn.Conv2d(in_channels=1, out_channels=4, kernel_size=3), nn.ReLU(), nn.MaxPool2d(kernel_size=2),
        nn.Flatten(), nn.Linear(13 * 13 * 4, 64), nn.ReLU(), nn.Linear(64, 10),
    ),
    "Three-conv 'same' CNN (Fashion-MNIST tutorial)": lambda: nn.Sequential(
        nn.Conv2d(1, 32, kernel_size=(3, 3), padding="same"), nn.ReLU(),
        nn.Conv2d(32, 16, kernel_size=(3, 3), padding="same"), nn.ReLU(),
        nn.Conv2d(16, 8, kernel_size=(3, 3), padding="same"), nn.ReLU(),
        nn.Flatten(), nn.Linear(8 * 28 * 28, 10),
    ),
}


@pytest.mark.parametrize("name", sorted(SEED_MODELS))
def test_preset_builds_the_seed_model_layer_for_layer(name: str) -> None:
    built, seed = build_model(PRESETS[name]), SEED_MODELS[name]()
    assert [repr(m) for m in built] == [repr(m) for m in seed]


def test_seed_parameter_counts_are_exact() -> None:
    assert n_params(build_model(PRESETS["ConvNet (CNN notebook)"])) == 13_686
    assert n_params(build_model(PRESETS["ConvNet + ReLU (CNN notebook)"])) == 13_686
    assert n_params(build_model(PRESETS["FCNet (CNN notebook)"])) == 12_730
    assert n_params(build_model(PRESETS["Three-conv 'same' CNN (Fashion-MNIST tutorial)"])[-1]) == 62_730  # 6272→10


@pytest.mark.parametrize("name", list(PRESETS))
def test_every_preset_param_count_matches_torch_and_its_description(name: str) -> None:
    net = PRESETS[name]
    model = build_model(net)
    count = n_params(model)
    assert net_cost(net)[0] == count
    assert f"{count:,}" in net.description  # the description quotes the real number
    assert model(torch.zeros(2, *net.input_shape)).shape == (2, 10)
    assert net.name == name and net.input_shape == (1, 28, 28)


def test_presets_omit_inferred_sizes_and_split_by_kind() -> None:
    for net in PRESETS.values():
        for layer in net.layers:
            assert not {"in_channels", "in_features", "num_features", "in_size"} & set(layer.kwargs())
    assert set(cnn_presets()) | set(fc_presets()) == set(PRESETS)
    assert not set(cnn_presets()) & set(fc_presets())
    assert all(net.is_cnn for net in cnn_presets().values())
    assert {"FCNet (CNN notebook)", "MLP 784-37-10", "MLP 784-128-10", "MLP 784-256-128-10",
            "Small locally connected net (batch norm)", "FC net with the small CNN's widths"} == set(fc_presets())
    assert len({hash(net) for net in PRESETS.values()}) == len(PRESETS)  # hashable and distinct (cache keys)


@pytest.mark.parametrize("hidden_layers", [1, 2, 3])
@pytest.mark.parametrize("target", [100, 12_730, 13_686, 61_706, 3_199_106])
def test_matched_width_is_the_brute_force_optimum(target: int, hidden_layers: int) -> None:
    def gap(w: int) -> int:
        return abs(fc_param_count(784, w, hidden_layers, 10) - target)

    best = min(range(1, 5000), key=gap)  # min() keeps the first (smallest) width on ties
    assert matched_width(target, 784, hidden_layers, 10) == best


def test_fc_param_count_matches_torch() -> None:
    for hidden_layers, width in [(1, 17), (2, 33), (3, 5)]:
        sizes = [784] + [width] * hidden_layers + [10]
        mlp = nn.Sequential(*[nn.Linear(a, b) for a, b in zip(sizes, sizes[1:])])
        assert fc_param_count(784, width, hidden_layers, 10) == n_params(mlp)


def test_matched_fc_for_the_seed_convnet() -> None:
    cnn = PRESETS["ConvNet (CNN notebook)"]
    fc = matched_fc(cnn)
    assert not fc.is_cnn
    assert n_params(build_model(fc)) == 13_525  # 784→17→10; 784→18→10 would be 14,320
    assert fc.name == "MLP 784-17-10 (matched)"
    two = matched_fc(cnn, hidden_layers=2)
    assert abs(n_params(build_model(two)) - 13_686) <= min(
        abs(fc_param_count(784, w, 2, 10) - 13_686) for w in range(1, 200)
    )


def test_matched_fc_follows_the_input_shape() -> None:
    cnn = PRESETS["LeNet-5"]
    fc = matched_fc(cnn, (1, 32, 32))
    assert fc.input_shape == (1, 32, 32)
    target = net_cost(NetSpec(cnn.name, cnn.layers, (1, 32, 32)))[0]
    width = int(fc.layers[1].get("out_features"))
    gaps = {w: abs(fc_param_count(1024, w, 1, 10) - target) for w in (width - 1, width, width + 1)}
    assert gaps[width] == min(gaps.values())
    assert n_params(build_model(fc)) == fc_param_count(1024, width, 1, 10)

"""The experiments' runs and their sentences: every sentence checked against the numbers it was built from."""
from __future__ import annotations

import re
from dataclasses import replace

import pytest

from cnn_dash.experiments import (EXPERIMENTS, Augmentation, Decomposition, augmentation_sentence, cost_line,
                                  decomposition_sentence, find_experiment, fitted, race_sentence,
                                  shift_drop_sentence, time_to)
from cnn_dash.limits import PROFILES, Limits, check_run
from cnn_dash.records import Progress
from cnn_dash.presets import PRESETS
from cnn_dash.shapes import net_cost
from cnn_dash.specs import ModelConfig

NET = replace(PRESETS["MLP 784-128-10"], name="Net")


def numbers(text: str) -> list[float]:
    return [float(x.replace(",", "")) for x in re.findall(r"-?\d[\d,]*\.?\d*", text)]


def pts(x: float) -> float:
    return round(100 * x, 1)


@pytest.mark.parametrize("key", list(EXPERIMENTS))
@pytest.mark.parametrize("dataset", ["MNIST", "FashionMNIST"])
def test_every_experiment_fits_the_shared_limits_and_is_found_again(key, dataset):
    exp = EXPERIMENTS[key](dataset, 3)
    check_run(exp.settings, exp.models, PROFILES["shared"])
    assert find_experiment(exp.settings, exp.models) == exp
    small = fitted(exp, Limits(max_train_subset=300, max_epochs=1), 10_000)
    assert small.settings.train_subset == 300 and small.settings.epochs == 1
    assert find_experiment(replace(small.settings, source="bundled"), small.models).key == key
    assert find_experiment(exp.settings, exp.models[::-1]) is None
    assert find_experiment(replace(exp.settings, lr_decay=not exp.settings.lr_decay), exp.models) is None


def test_the_decomposition_keeps_windows_channels_and_depth():
    fc, local, cnn = (m.net for m in EXPERIMENTS["decomposition"]().models)
    assert [layer.type for layer in local.layers] == [layer.type.replace("Conv2d", "LocallyConnected2d")
                                                      for layer in cnn.layers]
    assert [layer.kwargs() for layer in local.layers] == [layer.kwargs() for layer in cnn.layers]
    assert [int(layer.get("out_features")) for layer in fc.layers if layer.type == "Linear"] == [1568, 784, 10]
    assert net_cost(local)[1] == net_cost(cnn)[1]  # the same multiply-adds: sharing saves parameters, not work
    assert net_cost(fc)[0] > net_cost(local)[0] > net_cost(cnn)[0]
    norms = [[layer.type for layer in net.layers if layer.type.startswith("BatchNorm")] for net in (fc, local, cnn)]
    assert norms == [["BatchNorm1d"] * 2, ["BatchNorm2d"] * 2, ["BatchNorm2d"] * 2]  # after each hidden layer
    line = cost_line(EXPERIMENTS["decomposition"]().models)
    assert "2,473,530 parameters" in line and "11,322 parameters, 206,250 multiply-adds" in line


# the last four: outcomes of the preset on full data (bench/bench_experiments.py): MNIST seeds 0-2, Fashion seed 0
@pytest.mark.parametrize("fc, local, cnn", [(0.950, 0.970, 0.985), (0.9, 0.95, 0.95), (0.97, 0.96, 0.98),
                                            (0.95, 0.99, 0.98), (0.96, 0.9604, 0.9605), (0.98, 0.97, 0.96),
                                            (0.9603, 0.9735, 0.9729), (0.9573, 0.9699, 0.9705),
                                            (0.9582, 0.9675, 0.9730), (0.8479, 0.8618, 0.8523),
                                            (0.95, 0.9505, 0.97)])
def test_the_decomposition_sentence_says_what_the_numbers_say(fc, local, cnn):
    d = Decomposition(fc, local, cnn)
    assert d.lead == pytest.approx(d.locality + d.sharing)
    text = decomposition_sentence(d)
    assert f"CNN {pts(cnn):.1f}%, locally connected {pts(local):.1f}%, FC {pts(fc):.1f}%" in text
    if abs(cnn - fc) < 0.001:
        assert "level" in text and "no lead to split" in text
    elif cnn < fc:
        assert f"The FC net beats the CNN on this run by {pts(fc - cnn):.1f} points" in text
    else:
        assert f"The CNN leads the FC net by {pts(cnn - fc):.1f} points" in text
        if abs(cnn - local) < 0.001:
            assert "locally connected net" in text and "ends level with the CNN" in text
            assert f"{pts(local - fc):.1f} points above the FC net" in text and "All of it comes from locality" in text
        elif abs(local - fc) < 0.001:
            assert "ends level with the FC net" in text and "All of it comes from weight sharing" in text
            assert f"gains {pts(cnn - local):.1f} points over it" in text
        elif local >= fc and cnn >= local:
            assert f"is worth {pts(local - fc):.1f} of them ({(local - fc) / (cnn - fc):.0%})" in text
            assert f"adds the other {pts(cnn - local):.1f} ({(cnn - local) / (cnn - fc):.0%})" in text
        elif local < fc:
            assert "All of it comes from weight sharing" in text and f"{pts(fc - local):.1f} points below" in text
        else:
            assert "All of it comes from locality" in text and f"costs {pts(local - cnn):.1f} points" in text


# (0.9710, 0.9410, 0.9411) and the last three: outcomes of the preset on full data (bench/bench_experiments.py)
@pytest.mark.parametrize("cnn, fc, shifted", [(0.985, 0.975, 0.981), (0.985, 0.975, 0.99), (0.985, 0.975, 0.97),
                                              (0.97, 0.98, 0.985), (0.9710, 0.9410, 0.9411), (0.97, 0.94, 0.9395),
                                              (0.9695, 0.9424, 0.9394), (0.9699, 0.9425, 0.9449),
                                              (0.8537, 0.8433, 0.7923)])
def test_the_augmentation_sentence_says_what_the_numbers_say(cnn, fc, shifted):
    text = augmentation_sentence(Augmentation(cnn, fc, shifted))
    if cnn - fc < 0.001:
        assert "no gap to close" in text
    elif shifted - fc < 0.001:
        assert f"{pts(cnn - fc):.1f}-point lead" in text and f"({pts(fc):.1f}% → {pts(shifted):.1f}%)" in text
        assert ("lowered" if shifted - fc <= -0.001 else "did not raise") in text
    elif shifted - fc >= cnn - fc:
        assert f"from {pts(fc):.1f}% to {pts(shifted):.1f}%, level with or past the CNN's {pts(cnn):.1f}%" in text
    else:
        share = (shifted - fc) / (cnn - fc)
        assert f"closing {share:.0%} of its {pts(cnn - fc):.1f}-point gap" in text and 0 < share < 1


def test_the_shift_sentence_orders_the_models_by_what_they_lose():
    text = shift_drop_sentence({"A · CNN": (0.98, 0.95), "B · FC": (0.97, 0.60), "C · FC shifted": (0.975, 0.96)}, 3)
    assert text.index("C · FC shifted loses 1.5") < text.index("A · CNN loses 3.0") < text.index("B · FC loses 37.0")
    assert text.startswith("Test images moved by 3 pixels")


def _p(label: str, step: int, elapsed: float, acc: float | None) -> Progress:
    return Progress(label, step, 100, step / 50, 0.1, 0.9, 1000.0, elapsed, 0.05 if acc else None, acc)


def test_the_race_says_when_each_model_crossed_the_line():
    models = (ModelConfig("A · CNN (Adam)", NET, letter="A"), ModelConfig("B · FC (Adam)", NET, letter="B"))
    history = [_p("A · CNN (Adam)", 25, 3.0, 0.985), _p("B · FC (Adam)", 25, 3.0, 0.97),
               _p("A · CNN (Adam)", 50, 6.5, 0.9901), _p("B · FC (Adam)", 50, 6.5, 0.978),
               _p("A · CNN (Adam)", 75, 9.0, 0.992), _p("B · FC (Adam)", 75, 9.0, None)]
    assert time_to(history, "A · CNN (Adam)").elapsed_s == 6.5 and time_to(history, "B · FC (Adam)") is None
    text = race_sentence(history, models)
    assert text == ("A · Net passed 99.0% after 6.5 s (1.00 epochs, 99.01%); "
                    "B · Net stayed below 99.0% (best 97.80%).")

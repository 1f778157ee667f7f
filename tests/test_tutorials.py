"""The seed tutorials as presets: each one's settings equal the seed's, checked against the seeds' own numbers
and their torch modules written out as in the seed texts; the limits that admit them; reading an epoch."""
from __future__ import annotations

from dataclasses import replace

import pytest
import torch
from torch import nn

from cnn_dash.limits import PROFILES, LimitError, check_run
from cnn_dash.records import Progress, accuracy_at_epoch, evaluated_epochs, metric_at_epoch
from cnn_dash.shapes import net_cost
from cnn_dash.specs import OptimizerSpec
from cnn_dash.tutorials import LOSS_CURVES, TUTORIALS, Tutorial, find_tutorial, largest_fitting, measured


def _params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def _seed_001_model() -> nn.Module:  # the 2020 tutorial's Model, layer for layer
    return nn.Sequential(
        nn.Conv2d(1, 32, kernel_size=5, stride=1, padding=2), nn.ReLU(), nn.MaxPool2d(kernel_size=2, stride=2),
        nn.Conv2d(32, 64, kernel_size=5, stride=1, padding=2), nn.ReLU(), nn.MaxPool2d(kernel_size=2, stride=2),
        nn.Flatten(), nn.Dropout(), nn.Linear(7 * 7 * 64, 1000), nn.Linear(1000, 10))


def _seed_003_model() -> nn.Module:  # seed 003's ConvNet.seq
    return nn.Sequential(
        nn.Conv2d(in_channels=1, out_channels=32, kernel_size=(3, 3), padding="same"), nn.ReLU(),
        nn.Conv2d(in_channels=32, out_channels=16, kernel_size=(3, 3), padding="same"), nn.ReLU(),
        nn.Conv2d(in_channels=16, out_channels=8, kernel_size=(3, 3), padding="same"), nn.ReLU(),
        nn.Flatten(), nn.Linear(8 * 28 * 28, 10))


def _setup(t: Tutorial) -> tuple:
    s = t.settings
    return (s.dataset, s.batch_size, s.epochs, s.scaling, s.train_subset, s.permute_pixels, s.lr_decay)


def test_000_is_the_cnn_notebooks_convnet_against_its_fcnet():
    t = TUTORIALS["000"]
    # ToTensor() only (no Normalize), batch 64, 2 epochs, the whole of MNIST, no decay
    assert _setup(t) == ("MNIST", 64, 2, "divide", None, False, False)
    assert [net_cost(m.net)[0] for m in t.models] == [13_686, 12_730]  # the notebook's torchinfo totals
    assert [m.net.is_cnn for m in t.models] == [True, False]
    assert all(m.optimizer == OptimizerSpec("sgd", 0.001, 0.9) for m in t.models)


def test_000_explains_the_notebooks_bug_and_its_untrained_loss():
    t = TUTORIALS["000"]
    assert "never trained" in t.note and "2.31" in t.note and "ln 10" in t.note
    assert "both" in t.summary
    fc = next(r for r in t.reported if r.label.startswith("FCNet"))
    assert fc.metric == "test_loss" and fc.value == pytest.approx(2.3106, abs=1e-3) and "untrained" in fc.text
    assert abs(fc.value - torch.log(torch.tensor(10.0)).item()) < 0.01  # the loss of a uniform guess


def test_001_is_the_2020_tutorials_cnn_with_adam():
    t = TUTORIALS["001"]
    assert _setup(t) == ("MNIST", 200, 10, "standardise", None, False, False)
    (model,) = t.models
    assert net_cost(model.net)[0] == _params(_seed_001_model()) == 3_199_106
    assert model.optimizer == OptimizerSpec("adam", 0.01)
    from cnn_dash.data import input_stats

    assert input_stats("MNIST", t.settings.scaling) == (0.1307, 0.3081)  # its Normalize((0.1307,), (0.3081,))
    assert [(r.metric, r.epoch, r.value) for r in t.reported] == [("test_acc", 10, 0.8943)]
    assert "training set" in t.note  # its 'test' accuracy is measured on 60,000 images


def test_003_is_sgd_for_25_epochs_and_adam_read_at_epoch_15_in_one_run():
    t = TUTORIALS["003"]
    assert _setup(t) == ("FashionMNIST", 128, 25, "divide", None, False, False)
    assert t.settings.seed == 42  # torch.manual_seed(42) before each ConvNet()
    assert [net_cost(m.net)[0] for m in t.models] == [_params(_seed_003_model())] * 2 == [68_834] * 2
    assert [m.optimizer for m in t.models] == [OptimizerSpec("sgd", 0.001, 0.0), OptimizerSpec("adam", 0.001)]
    got = {(r.label.split()[0], r.metric): (r.epoch, r.value) for r in t.reported}
    assert got == {("SGD", "test_acc"): (25, 0.836), ("SGD", "train_acc"): (25, 0.848),
                   ("Adam", "test_acc"): (15, 0.895), ("Adam", "train_acc"): (15, 0.952)}
    assert "epoch 15" in t.summary


def test_003_starts_from_the_tutorials_own_initial_weights():
    from cnn_dash.train import build_seeded

    torch.manual_seed(42)
    seed = _seed_003_model()
    ours = build_seeded(TUTORIALS["003"].models[0].net, TUTORIALS["003"].settings.seed)
    for a, b in zip(seed.parameters(), ours.parameters(), strict=True):
        assert torch.equal(a, b)


def test_every_reported_number_names_a_model_of_its_run():
    for t in TUTORIALS.values():
        labels = {m.label for m in t.models}
        assert all(r.label in labels and 1 <= r.epoch <= t.settings.epochs for r in t.reported)


def test_the_local_profile_admits_every_tutorial_and_shared_refuses_001_and_003():
    for t in TUTORIALS.values():
        check_run(t.settings, t.models, PROFILES["local"])
    check_run(TUTORIALS["000"].settings, TUTORIALS["000"].models, PROFILES["shared"])
    with pytest.raises(LimitError, match="8,308 billion multiply-adds in all .* limit is 2,000 billion"):
        check_run(TUTORIALS["001"].settings, TUTORIALS["001"].models, PROFILES["shared"])
    with pytest.raises(LimitError, match=r"Epochs must be between 1 and 20 \(got 25\)"):
        check_run(TUTORIALS["003"].settings, TUTORIALS["003"].models, PROFILES["shared"])


def _p(label: str, step: int, per_epoch: int, test_acc: float | None, train_acc: float | None = 0.5) -> Progress:
    return Progress(label, step, 10 * per_epoch, step / per_epoch, 0.1, train_acc, 1.0, 1.0,
                    None if test_acc is None else 0.3, test_acc)


def test_accuracy_at_epoch_reads_the_evaluation_at_that_epochs_end():
    history = [_p("A", 3, 6, 0.70), _p("B", 3, 6, 0.60),  # half-epoch evaluations (evals_per_epoch 2)
               _p("A", 5, 6, None), _p("A", 6, 6, 0.80, 0.9), _p("B", 6, 6, 0.65),
               _p("A", 12, 6, 0.85), _p("B", 12, 6, 0.75)]
    assert accuracy_at_epoch(history, "A", 1) == 0.80 and accuracy_at_epoch(history, "B", 2) == 0.75
    assert accuracy_at_epoch(history, "A", 3) is None  # not reached
    assert accuracy_at_epoch(history, "C", 1) is None
    assert metric_at_epoch(history, "A", 1, "train_acc") == 0.9
    assert evaluated_epochs(history) == [1, 2]
    with pytest.raises(ValueError, match="metric must be one of"):
        metric_at_epoch(history, "A", 1, "f1")


def test_measured_sets_the_tutorials_numbers_beside_the_runs():
    t = TUTORIALS["003"]
    history = [_p("SGD (lr 0.001)", 25 * 4, 4, 0.84, 0.85), _p("Adam (lr 0.001)", 15 * 4, 4, 0.89, 0.95)]
    rows = {(r["model"].split()[0], r["metric"]): r for r in measured(t, history)}
    assert rows[("SGD", "test_acc")]["this run"] == 0.84
    assert rows[("SGD", "test_acc")]["difference"] == pytest.approx(0.004)
    assert rows[("Adam", "train_acc")]["this run"] == 0.95 and rows[("Adam", "test_acc")]["epoch"] == 15
    assert measured(t, [])[0]["this run"] is None and measured(t, [])[0]["difference"] is None


def test_the_tutorials_module_is_torch_free():
    import subprocess
    import sys

    code = "import sys, cnn_dash.tutorials; print('torch' in sys.modules, 'streamlit' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_a_run_of_a_tutorial_is_recognised_whatever_its_data_source():
    t = TUTORIALS["003"]
    assert find_tutorial(replace(t.settings, source="data_dir"), t.models) is t
    shorter = find_tutorial(replace(t.settings, epochs=24), t.models)  # cut short: the numbers printed at 24
    assert shorter.settings.epochs == 24 and {r.epoch for r in shorter.reported} == {24}
    assert find_tutorial(replace(t.settings, epochs=26), t.models) is None
    assert find_tutorial(replace(t.settings, epochs=3, batch_size=64), t.models) is None
    assert find_tutorial(t.settings, t.models[:1]) is None


def test_a_tutorial_the_limits_refuse_is_cut_to_the_most_epochs_that_fit():
    """On the shared profile 003 (25 epochs) and 001 (10) are refused whole: the largest version that fits is
    offered, with the loss the tutorial printed at that length; a tutorial that fits is not cut."""
    shared, local = PROFILES["shared"], PROFILES["local"]
    short = largest_fitting(TUTORIALS["003"], shared)
    check_run(short.settings, short.models, shared)  # it fits...
    longer = replace(short.settings, epochs=short.settings.epochs + 1)
    with pytest.raises(LimitError):  # ...and one epoch more does not
        check_run(longer, short.models, shared)
    e = short.settings.epochs
    assert short.settings == replace(TUTORIALS["003"].settings, epochs=e) and short.models == TUTORIALS["003"].models
    assert {(r.label, r.metric, r.epoch, r.value) for r in short.reported} == {
        ("SGD (lr 0.001)", "train_loss", e, LOSS_CURVES["003"]["SGD (lr 0.001)"][e - 1]),
        ("Adam (lr 0.001)", "train_loss", e, LOSS_CURVES["003"]["Adam (lr 0.001)"][e - 1])}
    assert LOSS_CURVES["003"]["SGD (lr 0.001)"][2] == 0.959  # ../shared/seeds/003, the third epoch's print
    assert find_tutorial(short.settings, short.models) == short  # a run of it is recognised, numbers and all
    short_001 = largest_fitting(TUTORIALS["001"], shared)
    assert short_001.settings.epochs < 10 and short_001.reported == ()  # 001 prints nothing per early epoch
    assert largest_fitting(TUTORIALS["000"], shared) is None  # fits whole
    assert all(largest_fitting(t, local) is None for t in TUTORIALS.values())

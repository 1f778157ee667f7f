"""The training engine: fair by construction (checked, not assumed), stoppable, divergence-proof."""
from __future__ import annotations

import subprocess
import sys
import threading
from dataclasses import replace

import pytest
import torch
import torch.nn.functional as F

from cnn_dash import hints
from cnn_dash.build import build_model
from cnn_dash.data import load_dataset, normalize
from cnn_dash.presets import quick_demo
from cnn_dash.records import summarize
from cnn_dash.specs import LayerSpec, ModelConfig, NetSpec, OptimizerSpec, TrainSettings, batches_per_epoch
from cnn_dash.train import (Trainer, build_seeded, epoch_orders, evaluate, make_optimizer, permute_pixels,
                            prepare_data)
from tests.conftest import ROOT

L = LayerSpec.of
CNN = NetSpec("tiny CNN", (L("Conv2d", out_channels=4, kernel_size=3, stride=2, padding=1), L("ReLU"),
                           L("Flatten"), L("Linear", out_features=10)))
FC = NetSpec("tiny FC", (L("Flatten"), L("Linear", out_features=32), L("ReLU"), L("Dropout", p=0.2),
                         L("Linear", out_features=10)))
PAIR = (ModelConfig("CNN", CNN, OptimizerSpec("sgd", 0.05, 0.9)), ModelConfig("FC", FC, OptimizerSpec("adam", 0.003)))
SMALL = TrainSettings(train_subset=400, batch_size=50, epochs=2, seed=3, source="bundled", evals_per_epoch=2)
TIMING = ("samples_per_s", "elapsed_s")


def curves(history):
    """Per model, every record without its timing fields."""
    out: dict[str, list[tuple]] = {}
    for p in history:
        out.setdefault(p.label, []).append({k: v for k, v in vars(p).items() if k not in TIMING})
    return out


def record_inputs(trainer: Trainer) -> dict[str, list[torch.Tensor]]:
    """What each model's forward receives while training (evaluation passes are left out)."""
    seen: dict[str, list[torch.Tensor]] = {label: [] for label in trainer.modules}
    for label, module in trainer.modules.items():
        module.register_forward_pre_hook(
            lambda mod, args, label=label: seen[label].append(args[0].clone()) if mod.training else None)
    return seen


def test_identical_seeds_give_identical_curves_and_weights():
    first, second = Trainer(SMALL, PAIR), Trainer(SMALL, PAIR)
    a, b = curves(first), curves(second)
    assert a == b and set(a) == {"CNN", "FC"}
    assert a["FC"][-1]["status"] == "finished" and len(a["CNN"]) > 2
    for label in a:
        for (k, v), w in zip(first.modules[label].state_dict().items(), second.modules[label].state_dict().values()):
            assert torch.equal(v, w), (label, k)
    other = curves(Trainer(replace(SMALL, seed=4), PAIR))
    assert other["CNN"] != a["CNN"] and other["FC"] != a["FC"]


def test_models_receive_identical_batches_in_the_seeded_order():
    trainer = Trainer(SMALL, PAIR)
    seen = record_inputs(trainer)
    list(trainer)
    assert len(seen["CNN"]) == len(seen["FC"]) == trainer.total_steps == 16
    for x, y in zip(seen["CNN"], seen["FC"]):
        assert torch.equal(x, y)
    # The oracle: slices of one seeded permutation per epoch over the subset, normalised.
    data = trainer.data
    expected = [normalize(data.train_images[order[i:i + 50]], data.dataset)
                for order in epoch_orders(SMALL, 400) for i in range(0, 400, 50)]
    assert all(torch.equal(x, e) for x, e in zip(seen["CNN"], expected))
    orders = list(epoch_orders(SMALL, 400))
    assert not torch.equal(orders[0], orders[1])
    assert all(torch.equal(o.sort().values, torch.arange(400)) for o in orders)  # every image once per epoch


def test_every_model_advances_through_the_same_batches_at_the_same_time():
    """The race: whenever any record comes out, every model still training has taken the same steps."""
    trainer = Trainer(replace(SMALL, train_subset=1000, batch_size=10), PAIR)
    steps = {m.label: 0 for m in PAIR}
    for p in trainer:
        steps[p.label] = p.step
        assert max(steps.values()) - min(steps.values()) <= trainer.report_every, steps
    assert steps == {"CNN": trainer.total_steps, "FC": trainer.total_steps}


def test_same_seed_same_initial_weights_whatever_runs_beside():
    a = build_seeded(CNN, 7)
    torch.manual_seed(7)
    oracle = build_model(CNN)
    for v, w in zip(a.state_dict().values(), oracle.state_dict().values()):
        assert torch.equal(v, w)
    torch.rand(100)  # disturb the global generator: the seed alone decides
    b = build_seeded(CNN, 7)
    assert all(torch.equal(v, w) for v, w in zip(a.state_dict().values(), b.state_dict().values()))


def test_fc_and_cnn_weights_both_change():
    trainer = Trainer(replace(SMALL, epochs=1), PAIR)
    before = {label: {k: v.clone() for k, v in m.state_dict().items()} for label, m in trainer.modules.items()}
    list(trainer)
    for label, module in trainer.modules.items():
        for name, value in module.named_parameters():
            assert not torch.equal(value.detach(), before[label][name]), f"{label}.{name} did not train"


def test_progress_records_and_results():
    trainer = Trainer(SMALL, PAIR)
    history = list(trainer)
    for label in ("CNN", "FC"):
        mine = [p for p in history if p.label == label]
        assert all(a.step < b.step for a, b in zip(mine, mine[1:]))  # strictly increasing
        tested = [p for p in mine if p.test_acc is not None]
        assert [p.epoch for p in tested] == [0.5, 1.0, 1.5, 2.0]  # evals_per_epoch=2
        assert mine[-1].status == "finished" and mine[-1].step == mine[-1].total_steps == 16
        assert all(0 <= p.train_acc <= 1 and p.train_loss > 0 for p in mine)
    results = summarize(history)
    assert results["FC"].test_acc == [p for p in history if p.label == "FC"][-1].test_acc
    assert results["CNN"].diverged_at is None and results["CNN"].steps == 16
    with pytest.raises(RuntimeError):
        list(trainer)  # a trainer runs once


def test_evaluate_against_a_plain_loop():
    data = prepare_data(SMALL)
    model = build_seeded(FC, 0).eval()
    loss, acc = evaluate(model, data.test_images, data.test_labels, data.dataset, batch_size=333)
    with torch.no_grad():
        logits = model(normalize(data.test_images, data.dataset))
    assert acc == pytest.approx((logits.argmax(1) == data.test_labels).float().mean().item())
    assert loss == pytest.approx(F.cross_entropy(logits, data.test_labels).item(), rel=1e-5)
    stop = threading.Event()
    stop.set()
    assert evaluate(model, data.test_images, data.test_labels, data.dataset, stop) is None


def test_stop_keeps_a_consistent_partial_history():
    settings = replace(SMALL, train_subset=2000, batch_size=10, epochs=3)
    trainer = Trainer(settings, PAIR)
    seen = record_inputs(trainer)
    history = []
    for p in trainer:
        history.append(p)
        if p.label == "CNN" and p.step >= 20:
            trainer.stop()
    for label in ("CNN", "FC"):
        mine = [p for p in history if p.label == label]
        last = mine[-1]
        assert last.status == "stopped" and [p.status for p in mine[:-1]] == ["training"] * (len(mine) - 1)
        assert 0 < last.step < last.total_steps
        assert last.step == len(seen[label])  # the record counts exactly the updates the weights received
        assert all(a.step < b.step for a, b in zip(mine, mine[1:]))  # strictly increasing
    assert summarize(history)["CNN"].status == "stopped"


def test_a_stop_during_evaluation_ends_on_that_step(monkeypatch):
    trainer = Trainer(replace(SMALL, train_subset=2000, batch_size=100, epochs=3, evals_per_epoch=1), PAIR[:1])

    def stop_then_evaluate(*args, **kwargs):
        trainer.stop()  # Stop pressed while the test set is being evaluated
        return evaluate(*args, **kwargs)

    monkeypatch.setattr("cnn_dash.train.evaluate", stop_then_evaluate)
    history = list(trainer)
    last = history[-1]
    assert (last.status, last.step, last.test_acc) == ("stopped", 20, None)  # the epoch's end, not evaluated
    assert all(a.step < b.step for a, b in zip(history, history[1:]))


def test_a_diverging_model_stops_while_the_other_completes():
    # Five linear layers with no activation multiply their growing weights: lr 10 overflows in a few steps.
    deep = NetSpec("deep linear", (L("Flatten"), *[L("Linear", out_features=64)] * 4, L("Linear", out_features=10)))
    wild = ModelConfig("wild", deep, OptimizerSpec("sgd", 10.0, 0.9))
    trainer = Trainer(replace(SMALL, epochs=3), (PAIR[0], wild))
    history = list(trainer)
    results = summarize(history)
    assert results["wild"].status == "diverged"
    assert 1 <= results["wild"].diverged_at <= trainer.total_steps
    assert results["CNN"].status == "finished" and results["CNN"].steps == trainer.total_steps
    weights = trainer.modules["wild"].state_dict().values()
    assert all(torch.isfinite(w).all() for w in weights)  # the update that broke it was not applied


def test_pixel_permutation_is_the_same_for_train_and_test():
    plain = prepare_data(replace(SMALL, permute_pixels=False))
    shuffled = prepare_data(replace(SMALL, permute_pixels=True))
    perm = shuffled.permutation
    assert plain.permutation is None and torch.equal(perm.sort().values, torch.arange(784))
    assert not torch.equal(perm, torch.arange(784))
    inverse = perm.argsort()
    for original, permuted in ((plain.train_images, shuffled.train_images), (plain.test_images, shuffled.test_images)):
        assert not torch.equal(original, permuted)
        assert torch.equal(permuted.flatten(1)[:, inverse].view(original.shape), original)
        # pixel j of a shuffled image is pixel perm[j] of the original, in train and test alike
        assert torch.equal(permuted.flatten(1)[:, 123], original.flatten(1)[:, perm[123]])
    assert torch.equal(permute_pixels(plain.test_images, perm), shuffled.test_images)
    assert len(shuffled.test_labels) == len(load_dataset("MNIST", source="bundled").test_labels)  # the full test set
    # one permutation per seed, whatever the subset size
    assert torch.equal(prepare_data(replace(SMALL, permute_pixels=True, train_subset=1000)).permutation, perm)
    assert not torch.equal(prepare_data(replace(SMALL, permute_pixels=True, seed=9)).permutation, perm)


def test_cosine_decay_brings_every_learning_rate_to_zero(monkeypatch):
    trainer = Trainer(replace(SMALL, lr_decay=True, epochs=1), PAIR)
    optimizers = []

    def spy(spec, params):
        optimizers.append(make_optimizer(spec, params))
        return optimizers[-1]

    monkeypatch.setattr("cnn_dash.train.make_optimizer", spy)
    list(trainer)
    assert len(optimizers) == 2 and all(o.param_groups[0]["lr"] == pytest.approx(0.0, abs=1e-12) for o in optimizers)


def test_quick_demo_is_a_fair_cnn_vs_fc_pair_within_the_limits():
    from cnn_dash.limits import check_run

    settings, models = quick_demo()
    assert settings.dataset == "MNIST" and settings.train_subset == 48_000  # four fifths of MNIST: under 10 s
    assert [m.net.is_cnn for m in models] == [True, False]
    check_run(settings, models)


def test_the_core_does_not_import_streamlit():
    code = ("import sys, cnn_dash.train, cnn_dash.runs, cnn_dash.scheduler, cnn_dash.limits, cnn_dash.plots.curves; "
            "assert 'streamlit' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)


def test_train_accuracy_is_over_the_epochs_images_so_far_and_over_the_whole_epoch_at_its_end():
    """The oracle: every training forward's answers on its batch (hooked), against the labels of the seeded order."""
    trainer = Trainer(SMALL, PAIR[:1])
    answers: list[torch.Tensor] = []
    trainer.modules["CNN"].register_forward_hook(
        lambda mod, args, out: answers.append(out.argmax(1)) if mod.training else None)
    history = list(trainer)
    labels = trainer.data.train_labels
    right = []
    for e, order in enumerate(epoch_orders(SMALL, 400)):
        for b in range(8):
            right.append((answers[e * 8 + b] == labels[order[b * 50:(b + 1) * 50]]).sum().item())
    for p in history:
        epoch_start = 8 if p.step > 8 else 0  # 8 steps of 50 per epoch
        assert p.train_images == 50 * (p.step - epoch_start), p
        assert p.train_acc == pytest.approx(sum(right[epoch_start:p.step]) / p.train_images), p
    ends = [p for p in history if p.epoch in (1.0, 2.0)]
    assert [p.train_images for p in ends] == [400, 400]  # at each epoch's end: all of that epoch's images


@pytest.mark.parametrize("images, batch, steps", [(129, 64, 2), (128, 64, 2), (130, 64, 3), (1, 64, 1), (65, 64, 1)])
def test_a_last_batch_of_one_image_joins_the_one_before(images, batch, steps):
    """Batch norm cannot train on one image, so an epoch never ends with a batch of one: the trainer, the estimate
    and the compute axis count the same steps."""
    assert batches_per_epoch(images, batch) == steps
    assert hints.steps_per_model(TrainSettings(train_subset=images, batch_size=batch), 60_000) == steps


def test_a_net_with_batch_norm_1d_trains_on_129_images_in_batches_of_64():
    """129 = 2 × 64 + 1: the last image joins the second batch instead of a batch of one BatchNorm1d cannot take."""
    norm = NetSpec("FC with batch norm", (L("Flatten"), L("Linear", out_features=16), L("BatchNorm1d"), L("ReLU"),
                                          L("Linear", out_features=10)))
    settings = TrainSettings(train_subset=129, batch_size=64, epochs=1, seed=1, source="bundled")
    history = list(Trainer(settings, (ModelConfig("BN", norm, OptimizerSpec("adam", 0.01)),)))
    assert history[-1].status == "finished" and history[-1].step == 2

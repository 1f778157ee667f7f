"""The rules that say why a run contradicts the lesson, and the engine's blow-up detection."""
from __future__ import annotations

from dataclasses import replace

from cnn_dash import hints
from cnn_dash.presets import PRESETS
from cnn_dash.records import ModelResult, Status, summarize
from cnn_dash.specs import ModelConfig, OptimizerSpec, TrainSettings
from cnn_dash.train import EXPLODED, Trainer

SGD = OptimizerSpec("sgd", 0.01, 0.9)
CNN = ModelConfig("A · CNN", PRESETS["ConvNet + ReLU (CNN notebook)"], SGD)
FC = ModelConfig("B · FC", PRESETS["FCNet (CNN notebook)"], SGD)
SETTINGS = TrainSettings("MNIST", 2000, 64, 1, 0)


def result(label: str, acc: float, status: Status = Status.FINISHED, note: str = "") -> ModelResult:
    return ModelResult(label, status, 32, 1.0, acc, 1.0, acc, 33 if status == Status.DIVERGED else None, 1.0, 1.0,
                       note)


def lost(cnn_acc: float = 0.2, fc_acc: float = 0.8, **kw) -> dict[str, ModelResult]:
    return {CNN.label: result(CNN.label, cnn_acc, **kw), FC.label: result(FC.label, fc_acc)}


def test_no_hint_when_the_cnn_wins():
    assert hints.why_cnn_lost(SETTINGS, (CNN, FC), lost(0.9, 0.8), 60_000) is None
    assert not hints.cnn_lost((CNN, FC), {CNN.label: result(CNN.label, 0.5)})  # no FC result: nothing to compare


def test_too_few_steps_for_sgd_at_this_rate():
    hint = hints.why_cnn_lost(SETTINGS, (CNN, FC), lost(), 60_000)
    assert hint.startswith("Too few steps for SGD at this rate: 32 steps of lr 0.01")
    assert "Adam" in hint and "Small CNN (batch norm)" in hint


def test_a_diverged_cnn_is_named_with_a_smaller_rate():
    hint = hints.why_cnn_lost(SETTINGS, (CNN, FC), lost(status=Status.DIVERGED, note="its loss became NaN"), 60_000)
    assert "A · CNN diverged (its loss became NaN)" in hint and "try 0.001" in hint


def test_shuffled_pixels_are_the_point():
    hint = hints.why_cnn_lost(replace(SETTINGS, permute_pixels=True), (CNN, FC), lost(), 60_000)
    assert "pixels were shuffled" in hint


def test_a_batch_larger_than_the_subset_is_explained_before_and_after():
    settings = replace(SETTINGS, train_subset=100, batch_size=256)
    (warning,) = hints.before_run(settings, (CNN, FC), 60_000)
    assert "batch size (256) is larger than the 100 training images" in warning and "at most 25" in warning
    assert hints.why_cnn_lost(settings, (CNN, FC), lost(), 60_000) == warning


def test_a_cnn_without_activation_is_explained():
    linear = replace(CNN, net=PRESETS["ConvNet (CNN notebook)"])
    (warning,) = hints.before_run(SETTINGS, (linear, FC), 60_000)
    assert "has no activation" in warning
    assert hints.before_run(SETTINGS, (CNN, FC), 60_000) == []


def test_long_runs_get_the_general_hint():
    adam = replace(CNN, optimizer=OptimizerSpec("adam", 0.001))
    settings = replace(SETTINGS, train_subset=None, epochs=5)
    assert hints.why_cnn_lost(settings, (adam, FC), lost(), 60_000).startswith("The FC net led on this run")
    short = replace(settings, train_subset=1000, epochs=1)
    assert hints.why_cnn_lost(short, (adam, FC), lost(), 60_000).startswith("Only 16 steps per model")


def test_a_finite_blow_up_is_marked_diverged_with_its_step():
    """SGD at lr 10: the loss runs to thousands without ever being NaN; it is a divergence, not 'finished'."""
    wild = ModelConfig("wild", PRESETS["FCNet (CNN notebook)"], OptimizerSpec("sgd", 10.0, 0.0))
    calm = ModelConfig("calm", PRESETS["Small CNN (batch norm)"], OptimizerSpec("adam", 0.001))
    trainer = Trainer(TrainSettings("MNIST", 2000, 64, 2, 0, source="bundled"), (wild, calm))
    history = list(trainer)
    results = summarize(history)
    assert results["wild"].status == Status.DIVERGED and results["wild"].diverged_at < trainer.total_steps
    assert "exploded" in results["wild"].note or "NaN" in results["wild"].note
    assert results["calm"].status == Status.FINISHED and results["calm"].steps == trainer.total_steps
    losses = [p.train_loss for p in history if p.label == "wild" and p.train_loss is not None]
    assert max(losses) > EXPLODED * 2.0 or "NaN" in results["wild"].note


def test_a_locally_connected_net_is_not_the_fc_net_and_shifted_copies_are_named():
    from cnn_dash.experiments import decomposition, shifted_copies

    exp = decomposition()
    fc, local, cnn = exp.models
    res = {fc.label: result(fc.label, 0.95), local.label: result(local.label, 0.99), cnn.label: result(cnn.label, 0.98)}
    assert not hints.cnn_lost(exp.models, res)  # the locally connected net won, not an FC net
    exp = shifted_copies()
    a, b, c = exp.models
    res = {a.label: result(a.label, 0.97), b.label: result(b.label, 0.96), c.label: result(c.label, 0.975)}
    assert "moved by up to 2 pixels" in hints.why_cnn_lost(exp.settings, exp.models, res, 60_000)

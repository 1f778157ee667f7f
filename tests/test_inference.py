"""How a run's models see an image and answer (cnn_dash.inference), against a direct forward pass; and the run's
one cache of its trained models."""
from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

from cnn_dash import features, inference
from cnn_dash.build import build_model
from cnn_dash.data import load_dataset, normalize
from cnn_dash.records import Progress, Status
from cnn_dash.runs import Run
from cnn_dash.specs import ModelConfig, OptimizerSpec, TrainSettings
from tests.test_evaluation_page import TINY_CNN, TINY_FC

CASES = [("MNIST", False, "standardise"), ("FashionMNIST", False, "standardise"), ("MNIST", True, "standardise"),
         ("MNIST", True, "divide")]


@pytest.fixture(scope="module")
def digits() -> torch.Tensor:
    """The first 40 bundled MNIST test digits, uint8 (40, 28, 28)."""
    return load_dataset("MNIST", source="bundled").test_images[:40]


def models() -> dict[str, torch.nn.Module]:
    torch.manual_seed(0)
    return {"cnn": build_model(TINY_CNN).eval(), "fc": build_model(TINY_FC).eval()}


def ordered_by_hand(images: torch.Tensor, settings: TrainSettings) -> torch.Tensor:
    """The oracle of the pixel order: the seed's permutation (stream 1) written out, as training draws it."""
    if not settings.permute_pixels:
        return images
    order = torch.randperm(28 * 28, generator=torch.Generator().manual_seed(settings.seed * 4 + 1))
    return images.flatten(1)[:, order].view(images.shape)


def by_hand(images: torch.Tensor, settings: TrainSettings) -> torch.Tensor:
    """The oracle of a model input: the pixel order, then the dataset's own statistics (or pixel/255)."""
    stats = load_dataset(settings.dataset, source="bundled") if settings.scaling == "standardise" else (0.0, 1.0)
    return normalize(ordered_by_hand(images, settings), stats)  # (N, 1, 28, 28)


@pytest.mark.parametrize("dataset, shuffled, scaling", CASES)
def test_logits_and_probabilities_equal_a_direct_forward_pass(digits, dataset, shuffled, scaling):
    settings = TrainSettings(dataset, seed=3, permute_pixels=shuffled, scaling=scaling)
    x = by_hand(digits, settings)
    for label, model in models().items():
        with torch.no_grad():
            expected = model(x)
        torch.testing.assert_close(inference.logits(model, digits, settings, batch_size=7), expected)
        probs = inference.probabilities({label: model}, digits[3].numpy(), settings)[label]
        np.testing.assert_allclose(probs, torch.softmax(expected[3], 0).numpy(), rtol=1e-5, atol=1e-6)
        assert probs.shape == (10,) and abs(probs.sum() - 1) < 1e-5
    torch.testing.assert_close(inference.model_input(digits.numpy(), settings), x)


def test_the_model_is_asked_in_eval_mode_and_left_in_its_own():
    model = copy.deepcopy(models()["cnn"]).train()
    settings = TrainSettings("MNIST")
    image = torch.zeros(1, 28, 28, dtype=torch.uint8)
    inference.logits(model, image, settings)
    assert model.training


def test_channels_last_or_not_the_same_answers(digits):
    settings = TrainSettings("MNIST", seed=1, permute_pixels=True)
    for model in models().values():
        plain = copy.deepcopy(model)
        fast = inference.placed(copy.deepcopy(model))
        weights = [p for p in fast.parameters() if p.dim() == 4]
        assert all(p.is_contiguous(memory_format=torch.channels_last) for p in weights)
        assert inference.is_cnn(fast) == bool(weights)  # the CNN moves, the FC net has nothing to move
        a, b = inference.logits(plain, digits, settings), inference.logits(fast, digits, settings)
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)
        assert torch.equal(a.argmax(1), b.argmax(1))


@pytest.mark.parametrize("shuffled", [False, True])
def test_feature_maps_of_an_image_as_a_person_sees_it(digits, shuffled):
    settings = TrainSettings("MNIST", seed=5, permute_pixels=shuffled)
    model = models()["cnn"]
    ours = inference.feature_maps(model, digits[4].numpy(), settings)
    theirs = features.feature_maps(model, by_hand(digits[4:5], settings)[0])
    assert [m.name for m in ours] == [m.name for m in theirs] and len(ours) == 2
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.maps, b.maps, rtol=1e-6, atol=1e-6)
    seen = inference.as_seen(digits[4].numpy(), settings)
    assert seen.dtype == np.uint8 and np.array_equal(seen, ordered_by_hand(digits[4:5], settings)[0].numpy())
    assert np.array_equal(seen, digits[4].numpy()) != shuffled


def trained_run(status: Status = Status.FINISHED) -> Run:
    """A run holding weights as the scheduler leaves them, without training (the trainer's modules attached)."""
    configs = (ModelConfig.lettered("A", TINY_CNN, OptimizerSpec("adam", 0.003)),
               ModelConfig.lettered("B", TINY_FC, OptimizerSpec("adam", 0.003)))
    run = Run(TrainSettings("MNIST", source="bundled"), configs)
    torch.manual_seed(2)
    run.training.attach(load_dataset("MNIST", source="bundled"), {m.label: build_model(m.net) for m in configs})
    for m in configs:
        run.history.append(Progress(m.label, 1, 1, 1.0, 0.5, 0.5, 100.0, 1.0, status=Status.FINISHED))
    run.training.status = status
    return run


def test_a_runs_models_are_built_once_and_shared(monkeypatch):
    run = trained_run()
    builds = []
    original = inference.trained
    monkeypatch.setattr(inference, "trained", lambda *a, **k: builds.append(1) or original(*a, **k))
    first, second = run.trained_models(), run.trained_models()
    assert len(builds) == 1 and first.keys() == second.keys() == {m.label for m in run.models}
    assert all(first[label] is second[label] for label in first)
    first.clear()  # a caller's dict is its own: the cache keeps its models
    assert run.trained_models().keys() == second.keys() and len(builds) == 1
    x = inference.model_input(np.zeros((2, 28, 28), np.uint8), run.settings)
    for label, model in second.items():
        assert not model.training
        with torch.no_grad():
            torch.testing.assert_close(model(x), run.modules[label].eval()(x))
    run.history.append(Progress("A · x", 2, 2, 2.0, 0.4, 0.6, 100.0, 1.0))  # the weights may have moved
    run.trained_models()
    assert len(builds) == 2

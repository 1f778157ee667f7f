"""The Training page's defaults teach the lesson: each default CNN beats the FC net beside it, on both datasets,
with either optimizer's default learning rate, from 1,000 images and one epoch up, whatever the seed."""
from __future__ import annotations

import pytest

from cnn_dash.presets import PRESETS
from cnn_dash.records import summarize
from cnn_dash.specs import ModelConfig, OptimizerSpec, TrainSettings
from cnn_dash.train import Trainer
from cnn_dash.ui.training_form import DEFAULT_LR, DEFAULT_NETS

PAIRS = ((0, 1), (2, 3))  # the page's models A, B, C, D: a CNN, then the FC net beside it


def default_models(optimizer: str) -> tuple[ModelConfig, ...]:
    spec = (OptimizerSpec("adam", DEFAULT_LR["Adam"]) if optimizer == "Adam"
            else OptimizerSpec("sgd", DEFAULT_LR["SGD"], 0.9))
    return tuple(ModelConfig.lettered("ABCD"[i], PRESETS[name], spec) for i, name in enumerate(DEFAULT_NETS))


def test_the_defaults_alternate_cnn_and_fc():
    assert [PRESETS[name].is_cnn for name in DEFAULT_NETS] == [True, False, True, False]


@pytest.mark.parametrize("dataset", ["MNIST", "FashionMNIST"])
@pytest.mark.parametrize("optimizer", ["SGD", "Adam"])
@pytest.mark.parametrize("subset,epochs", [(1000, 1), (3000, 1)])
def test_every_default_cnn_beats_its_fc_partner(dataset, optimizer, subset, epochs):
    models = default_models(optimizer)
    for seed in (0, 1, 2):
        settings = TrainSettings(dataset, subset, 64, epochs, seed, source="bundled")
        results = summarize(list(Trainer(settings, models)))
        for cnn, fc in PAIRS:
            a, b = results[models[cnn].label].test_acc, results[models[fc].label].test_acc
            assert a > b, f"seed {seed}: {models[cnn].label} {a:.1%} vs {models[fc].label} {b:.1%}"


def test_the_pixel_shuffle_experiment_makes_its_point():
    """The default CNN still learns shuffled pixels, so the page can set 'CNN > FC on real images' beside
    'CNN close to FC once the pixels are shuffled' (the small CNN's lead shrinks; a CNN stuck at chance would
    teach nothing)."""
    models = default_models("Adam")[:2]
    lead = {}
    for shuffled in (False, True):
        settings = TrainSettings("MNIST", 3000, 64, 2, 0, source="bundled", permute_pixels=shuffled)
        results = summarize(list(Trainer(settings, models)))
        cnn, fc = (results[m.label].test_acc for m in models)
        assert cnn > 0.8, f"the CNN must still learn (shuffled={shuffled}): {cnn:.1%}"
        lead[shuffled] = cnn - fc
    assert lead[False] > 0.05 and abs(lead[True]) < 0.05 and lead[True] < lead[False], lead

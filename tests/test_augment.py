"""Random-shift augmentation: the moves against shift.shift_images, the same shifted batch for every model that
trains on shifted copies, and a run without shifts (or a model left out of them) exactly as before."""
from __future__ import annotations

from dataclasses import replace

import pytest
import torch

from cnn_dash.data import normalize
from cnn_dash.limits import LimitError, check_run
from cnn_dash.shift import shift_images
from cnn_dash.specs import ModelConfig, OptimizerSpec, TrainSettings
from cnn_dash.train import Trainer, epoch_orders, permute_pixels, shift_stream, shifted
from tests.test_train import CNN, FC, SMALL, curves, record_inputs

ADAM = OptimizerSpec("adam", 0.003)


def test_each_image_moves_by_its_own_offset_as_shift_images_moves_it():
    gen = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (12, 9, 7), generator=gen, dtype=torch.uint8)
    offsets = torch.randint(-3, 4, (12, 2), generator=gen)
    out = shifted(images, offsets)
    for i, (dy, dx) in enumerate(offsets.tolist()):
        assert torch.equal(out[i], shift_images(images[i:i + 1], dy, dx)[0]), (dy, dx)
    assert torch.equal(shifted(images, torch.zeros(12, 2, dtype=torch.int64)), images)


def test_shuffled_pixels_are_moved_as_the_picture_then_shuffled_again():
    images = torch.randint(0, 256, (4, 6, 6), dtype=torch.uint8)
    perm = torch.randperm(36, generator=torch.Generator().manual_seed(1))
    offsets = torch.tensor([[1, 0], [0, -2], [2, 2], [0, 0]])
    assert torch.equal(shifted(permute_pixels(images, perm), offsets, perm),
                       permute_pixels(shifted(images, offsets), perm))


def test_every_shifted_model_trains_on_the_same_shifted_batches():
    settings = replace(SMALL, epochs=1, shift_pixels=2)
    pair = (ModelConfig("FC 1", FC, ADAM), ModelConfig("FC 2", FC, ADAM), ModelConfig("CNN", CNN, ADAM))
    trainer = Trainer(settings, pair)
    seen = record_inputs(trainer)
    history = curves(trainer)
    unlabelled = {label: [{k: v for k, v in p.items() if k != "label"} for p in records]
                  for label, records in history.items()}
    assert unlabelled["FC 1"] == unlabelled["FC 2"]  # identical twins stay identical
    plain = [normalize(trainer.data.train_images[order[i:i + 50]], trainer.data.dataset)
             for order in epoch_orders(settings, 400) for i in range(0, 400, 50)]
    gen = shift_stream(settings)
    for step, (a, b, c) in enumerate(zip(seen["FC 1"], seen["FC 2"], seen["CNN"])):
        assert torch.equal(a, b) and torch.equal(a, c)
        order = list(epoch_orders(settings, 400))[0][step * 50:(step + 1) * 50]
        moves = torch.randint(-2, 3, (50, 2), generator=gen)
        assert torch.equal(a, normalize(shifted(trainer.data.train_images[order], moves), trainer.data.dataset))
        assert not torch.equal(a, plain[step])  # moved, not the plain batch


def test_no_shift_and_unshifted_models_train_exactly_as_before():
    base = (ModelConfig("CNN", CNN, ADAM), ModelConfig("FC", FC, ADAM))
    before = curves(Trainer(SMALL, base))
    assert curves(Trainer(replace(SMALL, shift_pixels=0), base)) == before
    only_fc = curves(Trainer(replace(SMALL, shift_pixels=3, shifted_models=(1,)), base))
    assert only_fc["CNN"] == before["CNN"]  # the shifts' own stream leaves its weights and batches alone
    assert only_fc["FC"] != before["FC"]


@pytest.mark.parametrize("change, words", [
    (dict(shift_pixels=5), "between 0 and 4 pixels"), (dict(shift_pixels=-1), "between 0 and 4 pixels"),
    (dict(shift_pixels=2, shifted_models=(2,)), "by position, 0 to 1"),
    (dict(shift_pixels=2, shifted_models=()), "no model trains on the shifted copies: tick at least one model"),
])
def test_limits_explain_bad_shift_settings(change, words):
    with pytest.raises(LimitError, match=words):
        check_run(replace(TrainSettings(), **change), (ModelConfig("a", CNN), ModelConfig("b", FC)))

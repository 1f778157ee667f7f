"""Shift robustness: the shift against a hand-made case and two oracles; a trained CNN beats its FC net at 3 px."""
from __future__ import annotations

import pytest
import torch
import torchvision.transforms.v2.functional as TF

from cnn_dash.data import load_dataset, normalize
from cnn_dash.shift import DIRECTIONS, shift_curve, shift_images
from cnn_dash.specs import LayerSpec, NetSpec
from cnn_dash.specs import ModelConfig, OptimizerSpec, TrainSettings
from cnn_dash.inference import permute_pixels
from cnn_dash.train import Trainer

L = LayerSpec.of


def test_shift_by_hand():
    x = torch.arange(1, 10, dtype=torch.uint8).view(1, 3, 3)  # [[1 2 3] [4 5 6] [7 8 9]]
    assert shift_images(x, 1, 0).tolist() == [[[0, 0, 0], [1, 2, 3], [4, 5, 6]]]  # down: top row fills with 0
    assert shift_images(x, 0, -1).tolist() == [[[2, 3, 0], [5, 6, 0], [8, 9, 0]]]  # left
    assert shift_images(x, -2, 1).tolist() == [[[0, 7, 8], [0, 0, 0], [0, 0, 0]]]  # up 2, right 1
    assert shift_images(x, 0, 0).tolist() == x.tolist()
    assert shift_images(x, 3, 0).sum() == 0 and shift_images(x, 0, -7).sum() == 0  # out of the frame


def rolled(images: torch.Tensor, dy: int, dx: int) -> torch.Tensor:
    """Oracle 1: torch.roll, then zero the rows and columns that wrapped around."""
    out = torch.roll(images, shifts=(dy, dx), dims=(1, 2)).clone()
    if dy > 0:
        out[:, :dy] = 0
    elif dy < 0:
        out[:, dy:] = 0
    if dx > 0:
        out[:, :, :dx] = 0
    elif dx < 0:
        out[:, :, dx:] = 0
    return out


@pytest.mark.parametrize("dy, dx", [(0, 0), (1, 0), (-3, 0), (0, 2), (0, -5), (4, -2), (-1, 6), (27, 0), (0, -27)])
def test_shift_agrees_with_roll_and_torchvision(dy, dx):
    images = torch.randint(0, 256, (5, 28, 28), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    ours = shift_images(images, dy, dx)
    assert torch.equal(ours, rolled(images, dy, dx))
    # Oracle 2: torchvision's affine translation (x right, y down), nearest, filled with 0
    theirs = TF.affine(images.unsqueeze(1), angle=0.0, translate=[dx, dy], scale=1.0, shear=[0.0, 0.0],
                       interpolation=TF.InterpolationMode.NEAREST, fill=0).squeeze(1)
    assert torch.equal(ours, theirs)


def test_curve_of_a_model_that_ignores_position_is_flat_and_directions_are_named():
    images = torch.randint(0, 256, (40, 28, 28), dtype=torch.uint8, generator=torch.Generator().manual_seed(1))
    labels = torch.zeros(40, dtype=torch.int64)
    always_zero = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 2))
    with torch.no_grad():
        always_zero[1].weight.zero_()
        always_zero[1].bias.copy_(torch.tensor([1.0, 0.0]))
    (curve,) = shift_curve({"zero": always_zero}, images, labels, lambda b: b.unsqueeze(1).float(), max_shift=3)
    assert curve.shifts == (0, 1, 2, 3) and curve.accuracy == (1.0, 1.0, 1.0, 1.0)
    assert [name for name, _ in curve.by_direction] == list(DIRECTIONS)
    with pytest.raises(ValueError, match="at least 0"):
        shift_curve({"zero": always_zero}, images, labels, lambda b: b.unsqueeze(1).float(), max_shift=-1)


def test_shuffled_run_shifts_the_original_then_permutes():
    images = torch.randint(0, 256, (6, 28, 28), dtype=torch.uint8, generator=torch.Generator().manual_seed(2))
    perm = torch.randperm(784, generator=torch.Generator().manual_seed(3))
    seen = []

    def prepare(batch):
        seen.append(batch.clone())
        return permute_pixels(batch, perm).unsqueeze(1).float()

    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 10))
    shift_curve({"m": model}, images, torch.zeros(6, dtype=torch.int64), prepare, max_shift=2)
    # prepare receives the unshuffled images, shifted: 1 unshifted batch + 4 directions x 2 shifts
    assert len(seen) == 9 and torch.equal(seen[0], images)
    assert torch.equal(seen[1], shift_images(images, -1, 0)) and torch.equal(seen[2], shift_images(images, -2, 0))


POOLED_CNN = NetSpec("pooled CNN", (
    L("Conv2d", out_channels=8, kernel_size=3, padding=1), L("ReLU"), L("MaxPool2d", kernel_size=2),
    L("Conv2d", out_channels=16, kernel_size=3, padding=1), L("ReLU"), L("MaxPool2d", kernel_size=2),
    L("Flatten"), L("Linear", out_features=10)))
FC_NET = NetSpec("FC 784-64-10", (L("Flatten"), L("Linear", out_features=64), L("ReLU"), L("Linear", out_features=10)))


def test_trained_cnn_with_pooling_beats_fc_at_3_pixels():
    settings = TrainSettings("MNIST", train_subset=4000, batch_size=50, epochs=2, seed=0, source="bundled")
    configs = (ModelConfig("CNN", POOLED_CNN, OptimizerSpec("adam", 0.003)),
               ModelConfig("FC", FC_NET, OptimizerSpec("adam", 0.003)))
    trainer = Trainer(settings, configs)
    for _ in trainer:
        pass
    data = load_dataset("MNIST", source="bundled")
    curves = {c.label: c for c in shift_curve(trainer.modules, data.test_images, data.test_labels,
                                              lambda b: normalize(b, data), max_shift=4)}
    cnn, fc = curves["CNN"], curves["FC"]
    assert cnn.at(0) > 0.9 and fc.at(0) > 0.85  # both learnt the unshifted digits
    assert cnn.at(3) > fc.at(3) + 0.1, (cnn.accuracy, fc.accuracy)
    assert fc.at(4) < fc.at(0) - 0.3  # the FC net falls off
    assert all(a >= b - 0.02 for a, b in zip(cnn.accuracy, cnn.accuracy[1:]))  # and the CNN degrades steadily

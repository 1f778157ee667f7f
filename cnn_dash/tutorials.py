"""The seed tutorials as runs: each one's exact models, optimizers, batch, epochs, dataset and input scaling,
beside the numbers it reports (torch-free; ../shared/seeds has the texts).

What a run here cannot copy, and why it does not matter much: every model sees the same seeded batch order
(the seeds shuffle with their own random state, or, seed 003, not at all), and the last partial batch of an
epoch is kept as in a DataLoader.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

from cnn_dash.limits import Limits, LimitError, check_run
from cnn_dash.presets import PRESETS
from cnn_dash.records import Progress
from cnn_dash.specs import ModelConfig, OptimizerSpec, TrainSettings


@dataclass(frozen=True)
class Reported:
    """One number a tutorial reports: for which model, what it is, at which epoch, and its value."""

    label: str  # the ModelConfig label of the run
    metric: str  # "test_acc", "train_acc" or "test_loss"
    epoch: int  # the whole epoch the tutorial read it at
    value: float
    text: str  # where it comes from, in words


@dataclass(frozen=True)
class Tutorial:
    """A seed experiment as a run: settings and models to train, the numbers the tutorial reports, a note."""

    key: str
    title: str
    settings: TrainSettings
    models: tuple[ModelConfig, ...]
    reported: tuple[Reported, ...]
    summary: str  # what the tutorial does, and how the run matches it
    note: str = field(default="")  # a caveat about the tutorial's own numbers (a bug, an odd measurement)


_SGD_000 = OptimizerSpec("sgd", 0.001, momentum=0.9)
_000 = Tutorial(
    "000",
    "000 · CNN notebook: ConvNet vs FCNet (MNIST, SGD, 2 epochs)",
    # transforms.ToTensor() only: pixels / 255, no Normalize.
    TrainSettings(dataset="MNIST", batch_size=64, epochs=2, seed=0, scaling="divide"),
    (
        ModelConfig("ConvNet (CNN notebook)", PRESETS["ConvNet (CNN notebook)"], _SGD_000),
        ModelConfig("FCNet (CNN notebook)", PRESETS["FCNet (CNN notebook)"], _SGD_000),
    ),
    (
        Reported("ConvNet (CNN notebook)", "test_loss", 2, 0.107, "CNN test loss is 0.107"),
        Reported("FCNet (CNN notebook)", "test_loss", 2, 2.311,
                 "FC net test loss is 2.31 (an untrained net: see the note)"),
    ),
    "The ConvNet (13,686 parameters) against the FCNet (12,730) on MNIST scaled by ÷255 only (the notebook "
    "uses ToTensor without Normalize), SGD with lr 0.001 and momentum 0.9, batch 64, 2 epochs. Here both nets "
    "are trained, on the same batches. The FCNet drops the notebook's ReLU on its output (see its description).",
    "The notebook's loop computes `outputs = conv_net(inputs)` twice, so the FCNet is never trained: its "
    "'FC net test loss 2.31' is an untrained net's, about ln 10 = 2.30, the loss of guessing among 10 classes. "
    "Its printed train losses are the CNN's twice, divided by 150 × (step + 1). This run trains both nets, so "
    "the FC test loss here is a trained net's.",
)

_001 = Tutorial(
    "001",
    "001 · 2020 tutorial: two-block 5×5 CNN (MNIST, Adam 0.01, 10 epochs)",
    TrainSettings(dataset="MNIST", batch_size=200, epochs=10, seed=0, scaling="standardise"),  # (0.1307, 0.3081)
    (ModelConfig("Two-block 5×5 CNN (2020 tutorial)", PRESETS["Two-block 5×5 CNN (2020 tutorial)"],
                 OptimizerSpec("adam", 0.01)),),
    (Reported("Two-block 5×5 CNN (2020 tutorial)", "test_acc", 10, 0.8943, "Accuracy: 89.43"),),
    "Two Conv(5×5, padding 2) + ReLU + MaxPool(2) blocks (32, 64 channels), dropout 0.5, Linear 3136→1000→10 "
    "(3,199,106 parameters), Adam with lr 0.01, batch 200, 10 epochs, inputs standardised with MNIST's "
    "(0.1307, 0.3081) as in its Normalize.",
    "The tutorial's 89.43% is measured on 300 batches of 200 images, which is 60,000: its get_data(train=False) "
    "still reads the training set, with dropout on (no model.eval()). Here the number is the test accuracy on "
    "the 10,000 test images, with dropout off. Adam at lr 0.01 is high for this net, which is why neither "
    "reaches the 99% such a CNN usually gets.",
)

_003_NET = PRESETS["Three-conv 'same' CNN (Fashion-MNIST tutorial)"]
_003 = Tutorial(
    "003",
    "003 · Fashion-MNIST tutorial: three-conv 'same' CNN, SGD 25 epochs vs Adam 15 epochs",
    # X / 255.0 only; torch.manual_seed(42) before each ConvNet(), so both start from the same weights.
    TrainSettings(dataset="FashionMNIST", batch_size=128, epochs=25, seed=42, scaling="divide"),
    (
        ModelConfig("SGD (lr 0.001)", _003_NET, OptimizerSpec("sgd", 0.001)),
        ModelConfig("Adam (lr 0.001)", _003_NET, OptimizerSpec("adam", 0.001)),
    ),
    (
        Reported("SGD (lr 0.001)", "test_acc", 25, 0.836, "SGD, 25 epochs: Test Accuracy 0.836"),
        Reported("SGD (lr 0.001)", "train_acc", 25, 0.848, "SGD, 25 epochs: Train Accuracy 0.848"),
        Reported("Adam (lr 0.001)", "test_acc", 15, 0.895, "Adam, 15 epochs: Test Accuracy 0.895"),
        Reported("Adam (lr 0.001)", "train_acc", 15, 0.952, "Adam, 15 epochs: Train Accuracy 0.952"),
    ),
    "The three-conv 'same' CNN (68,834 parameters) on Fashion-MNIST divided by 255, batch 128, plain SGD "
    "(lr 0.001, no momentum) for 25 epochs against Adam (lr 0.001) for 15. The tutorial trains them one after "
    "the other; here both train in one 25-epoch run from the same initial weights, and Adam is read at "
    "epoch 15 (pick the epoch under the run's table). Its epochs 16–25 show what more training does.",
    "The tutorial measures train accuracy after training, on all 60,000 images; a run here reports it over the "
    "epoch's 60,000 images, each counted as its batch was trained on, while the weights still move (and in the "
    "SGD run the tutorial's batches come in the same order every epoch, here in a new seeded order each epoch).",
)

TUTORIALS: dict[str, Tutorial] = {t.key: t for t in (_000, _001, _003)}

# The mean training loss a tutorial prints after each epoch, per model label: what a run cut short by a server's
# limits can be set beside (../shared/seeds/003: "Categorical Cross Entropy", the mean over the epoch's batches).
# 000 prints no per-epoch number; 001's log shows only a few batches of its last epochs.
LOSS_CURVES: dict[str, dict[str, tuple[float, ...]]] = {
    "003": {
        "SGD (lr 0.001)": (2.288, 2.031, 0.959, 0.694, 0.628, 0.590, 0.564, 0.545, 0.529, 0.516, 0.505, 0.496,
                           0.487, 0.480, 0.473, 0.467, 0.462, 0.457, 0.452, 0.448, 0.444, 0.441, 0.438, 0.434,
                           0.432),
        "Adam (lr 0.001)": (0.499, 0.326, 0.283, 0.254, 0.230, 0.211, 0.193, 0.178, 0.165, 0.153, 0.143, 0.133,
                            0.124, 0.115, 0.107),
    },
}


def cut_to(tutorial: Tutorial, epochs: int) -> Tutorial:
    """The tutorial trained for `epochs` only, with the numbers it prints at that length (its training-loss curve)."""
    curves = LOSS_CURVES.get(tutorial.key, {})
    expected = tuple(Reported(label, "train_loss", epochs, curve[epochs - 1],
                              f"printed by the tutorial after epoch {epochs}: Categorical Cross Entropy "
                              f"{curve[epochs - 1]:.3f}") for label, curve in curves.items() if len(curve) >= epochs)
    return replace(tutorial, title=f"{tutorial.title}, cut to {epochs} epochs",
                   settings=replace(tutorial.settings, epochs=epochs), reported=expected)


def largest_fitting(tutorial: Tutorial, limits: Limits | None = None) -> Tutorial | None:
    """The tutorial with the most epochs that the limits allow, when they refuse it whole; None when it fits whole
    or not even one epoch fits."""
    for epochs in range(tutorial.settings.epochs, 0, -1):
        candidate = tutorial if epochs == tutorial.settings.epochs else cut_to(tutorial, epochs)
        try:
            check_run(candidate.settings, candidate.models, limits)
        except LimitError:
            continue
        return None if candidate is tutorial else candidate
    return None


def measured(tutorial: Tutorial, history: list[Progress]) -> list[dict[str, object]]:
    """Per reported number: the tutorial's value beside this run's at the same epoch (None: not reached)."""
    from cnn_dash.records import metric_at_epoch

    rows = []
    for r in tutorial.reported:
        value = metric_at_epoch(history, r.label, r.epoch, r.metric)
        rows.append({"model": r.label, "metric": r.metric, "epoch": r.epoch, "tutorial": r.value,
                     "this run": value, "difference": None if value is None else value - r.value})
    return rows


def find_tutorial(settings: TrainSettings, models: tuple[ModelConfig, ...] | list[ModelConfig]) -> Tutorial | None:
    """The tutorial whose run these are (the data source aside), whole or cut to fewer epochs, so a run card can
    set its numbers beside."""
    settings = replace(settings, source=None)
    for t in TUTORIALS.values():
        if tuple(models) != t.models:
            continue
        if settings == t.settings:
            return t
        if settings.epochs < t.settings.epochs and replace(settings, epochs=t.settings.epochs) == t.settings:
            return cut_to(t, settings.epochs)
    return None

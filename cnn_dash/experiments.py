"""One-click experiments that take the CNN's win apart, and the sentences about their runs, built from the numbers.

- Locality vs sharing: an FC net, a locally connected net and a CNN with the same windows, channels and depth on
  the same batches. FC -> LC adds locality (small windows); LC -> CNN adds weight sharing (one kernel everywhere).
- Shifted copies: an FC net trained on randomly shifted images beside the same FC net and a CNN trained without.
- The 99% race: a CNN that passes 99.0% MNIST test accuracy in seconds, its FC partner beside it.

Each experiment is an ordinary run (settings and models), so it trains, is limited and is kept like any other.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Callable

from cnn_dash.limits import Limits
from cnn_dash.presets import PRESETS
from cnn_dash.records import Progress
from cnn_dash.shapes import net_cost
from cnn_dash.specs import ModelConfig, OptimizerSpec, TrainSettings

LEVEL = 0.001  # accuracies closer than this (0.1 point) are level: rounding to 0.1 point cannot order them
RACE_TARGET = 0.99
SHIFT = 2  # pixels the page's shift curves go up to, and its shift sentence reads them at
SHIFT_IMAGES = 1_000  # stratified test images (100 per class): the FC net of the decomposition is costly to shift


@dataclass(frozen=True)
class Experiment:
    """A named run: what it trains and what it shows."""

    key: str
    title: str
    settings: TrainSettings
    models: tuple[ModelConfig, ...]
    what: str  # one sentence for the button's help


def _adam(lr: float) -> OptimizerSpec:
    return OptimizerSpec("adam", lr)


def decomposition(dataset: str = "MNIST", seed: int = 0) -> Experiment:
    """FC vs locally connected vs CNN, same windows, channels, depth and batch norm, one optimizer, 6,000 images."""
    nets = ("FC net with the small CNN's widths", "Small locally connected net (batch norm)", "Small CNN (batch norm)")
    # Batch norm in all three, 4 epochs in batches of 32: without batch norm, or in 2 epochs of batches of 64, the
    # small CNN was still far from trained while the FC net was not, and the FC net led (bench/bench_experiments.py)
    models = tuple(ModelConfig.lettered(letter, PRESETS[name], _adam(0.003)) for letter, name in zip("ABC", nets))
    settings = TrainSettings(dataset=dataset, train_subset=6_000, batch_size=32, epochs=4, seed=seed,
                             lr_decay=True)
    return Experiment("decomposition", "Locality vs sharing", settings, models,
                      "Trains an FC net, a locally connected net and a CNN with the same windows, channels, depth and "
                      "batch norm on the same batches, and splits the CNN's lead into locality and weight sharing.")


def shifted_copies(dataset: str = "MNIST", seed: int = 0) -> Experiment:
    """A CNN and an FC net on the training images, beside the same FC net on copies moved by up to 2 pixels."""
    fc = PRESETS["MLP 784-256-128-10"]
    models = (ModelConfig.lettered("A", PRESETS["Small CNN (batch norm)"], _adam(0.004)),
              ModelConfig.lettered("B", fc, _adam(0.002)),
              ModelConfig.lettered("C", replace(fc, name=f"{fc.name} + shifted copies"), _adam(0.002)))
    settings = TrainSettings(dataset=dataset, train_subset=20_000, batch_size=256, epochs=2, seed=seed,
                             lr_decay=True, shift_pixels=2, shifted_models=(2,))
    return Experiment("shifted_copies", "FC net with shifted copies vs CNN without", settings, models,
                      "Trains a CNN and an FC net on the training images, and the same FC net on copies moved by up "
                      "to 2 pixels (the same moves at every step): does the data teach the FC net what the CNN "
                      "builds in?")


def race(dataset: str = "MNIST", seed: int = 0) -> Experiment:
    """The 99% race: a small CNN with a hidden layer against a one-hidden-layer MLP, all of MNIST for 3 epochs."""
    # The small CNN ×2 reached 98.8% in 2 epochs and 99.0% only late in a fourth; a hidden layer of 128 before the
    # output, on 12 and 24 channels, passes 99.0% within 3 epochs on seeds 0-2 for less compute (bench/bench_race.py)
    models = (ModelConfig.lettered("A", PRESETS["Small CNN 12-24 + hidden 128 (batch norm)"], _adam(0.008)),
              ModelConfig.lettered("B", PRESETS["MLP 784-128-10"], _adam(0.004)))
    settings = TrainSettings(dataset=dataset, batch_size=256, epochs=3, seed=seed, evals_per_epoch=4, lr_decay=True)
    return Experiment("race", "The 99% race", settings, models,
                      f"Trains a CNN and an FC net on all of MNIST for 3 epochs, testing four times an epoch: when "
                      f"does the CNN pass {RACE_TARGET:.0%}, and does the FC net get there at all?")


EXPERIMENTS: dict[str, Callable[..., Experiment]] = {"decomposition": decomposition,
                                                      "shifted_copies": shifted_copies, "race": race}


def fitted(experiment: Experiment, limits: Limits, train_size: int) -> Experiment:
    """The experiment within a server's limits and the dataset's size: fewer images or epochs if it must."""
    s = experiment.settings
    subset = min(s.train_subset or train_size, train_size, limits.max_train_subset)
    settings = replace(s, train_subset=None if subset >= train_size else subset,
                       epochs=min(s.epochs, limits.max_epochs),
                       evals_per_epoch=min(s.evals_per_epoch, limits.max_evals_per_epoch))
    return replace(experiment, settings=settings)


def find_experiment(settings: TrainSettings, models: Iterable[ModelConfig]) -> Experiment | None:
    """The experiment a run is (its models, and its settings up to dataset, seed, size and source), or None."""
    models = tuple(models)
    for make in EXPERIMENTS.values():
        exp = make(settings.dataset, settings.seed)
        size = dict(train_subset=settings.train_subset, epochs=settings.epochs,
                    evals_per_epoch=settings.evals_per_epoch, source=settings.source)
        if exp.models == models and replace(exp.settings, **size) == settings:
            return exp
    return None


def _pts(x: float) -> str:
    return f"{100 * x:.1f}"


@dataclass(frozen=True)
class Decomposition:
    """Final test accuracies of the three nets, and the CNN's lead over the FC net split in two."""

    fc: float
    local: float
    cnn: float

    @property
    def lead(self) -> float:
        """CNN - FC: what the CNN's architecture is worth here."""
        return self.cnn - self.fc

    @property
    def locality(self) -> float:
        """LC - FC: what small windows alone are worth (the same weights per position count as the FC net's)."""
        return self.local - self.fc

    @property
    def sharing(self) -> float:
        """CNN - LC: what one kernel for every position adds to the same windows (lead = locality + sharing)."""
        return self.cnn - self.local


def decomposition_sentence(d: Decomposition) -> str:
    """What the run says about locality and sharing, in the run's own numbers (points of test accuracy)."""
    acc = f"CNN {_pts(d.cnn)}%, locally connected {_pts(d.local)}%, FC {_pts(d.fc)}%"
    if abs(d.lead) < LEVEL:
        return f"The CNN and the FC net end level ({acc}): there is no lead to split on this run."
    if d.lead < 0:
        return (f"The FC net beats the CNN on this run by {_pts(-d.lead)} points ({acc}), so there is no lead to "
                f"split; train on more images or for longer and try again.")
    head = f"The CNN leads the FC net by {_pts(d.lead)} points ({acc})."
    if abs(d.sharing) < LEVEL:
        return (f"{head} All of it comes from locality: the locally connected net, with the same small windows but "
                f"its own weights at every position, ends level with the CNN, {_pts(d.locality)} points above the FC "
                f"net; sharing one kernel across positions keeps that accuracy with far fewer parameters.")
    if abs(d.locality) < LEVEL:
        return (f"{head} All of it comes from weight sharing: with the same small windows, the locally connected "
                f"net ends level with the FC net, and sharing one kernel across positions gains "
                f"{_pts(d.sharing)} points over it.")
    if d.locality >= 0 and d.sharing >= 0:
        return (f"{head} Locality — small windows instead of the whole image — is worth {_pts(d.locality)} of them "
                f"({d.locality / d.lead:.0%}): that is the locally connected net's gain over the FC net. Weight "
                f"sharing — one kernel for every position — adds the other {_pts(d.sharing)} "
                f"({d.sharing / d.lead:.0%}): the CNN's gain over the locally connected net.")
    if d.locality < 0:
        return (f"{head} All of it comes from weight sharing: locality alone does not help here, the locally "
                f"connected net is {_pts(-d.locality)} points below the FC net, and sharing one kernel across "
                f"positions gains {_pts(d.sharing)} points over it.")
    return (f"{head} All of it comes from locality: the locally connected net, with the same windows but its own "
            f"weights at every position, gains {_pts(d.locality)} points over the FC net, so sharing the weights "
            f"costs {_pts(-d.sharing)} points here while it needs far fewer parameters.")


def cost_line(models: Iterable[ModelConfig]) -> str:
    """Each model's parameters and forward multiply-adds per image, from the shape arithmetic."""
    parts = []
    for m in models:
        params, macs = net_cost(m.net)
        parts.append(f"{m.named}: {params:,} parameters, {macs:,} multiply-adds per image")
    return " · ".join(parts)


@dataclass(frozen=True)
class Augmentation:
    """Final test accuracies: the CNN and the FC net without shifts, the same FC net with shifted copies."""

    cnn: float
    fc: float
    fc_shifted: float

    @property
    def gap(self) -> float:
        """CNN - FC without augmentation."""
        return self.cnn - self.fc

    @property
    def gain(self) -> float:
        """What the shifted copies gave the FC net."""
        return self.fc_shifted - self.fc


def augmentation_sentence(a: Augmentation) -> str:
    """Whether shifted copies closed the FC net's gap to the CNN, in the run's numbers."""
    moved = f"the FC net from {_pts(a.fc)}% to {_pts(a.fc_shifted)}%"
    if a.gap < LEVEL:
        return (f"Without shifted copies the FC net ({_pts(a.fc)}%) is already level with or ahead of the CNN "
                f"({_pts(a.cnn)}%): there is no gap to close on this run; with shifted copies it reaches "
                f"{_pts(a.fc_shifted)}%.")
    if a.gain < LEVEL:  # lowered, or moved less than rounding can show
        did = "lowered" if a.gain <= -LEVEL else "did not raise"
        return (f"Shifted copies {did} the FC net's test accuracy on this run ({_pts(a.fc)}% → "
                f"{_pts(a.fc_shifted)}%): the CNN's {_pts(a.gap)}-point lead ({_pts(a.cnn)}%) stands.")
    if a.gain >= a.gap:
        return (f"Shifted copies raise {moved}, level with or past the CNN's {_pts(a.cnn)}% (trained without "
                f"them): the data taught the FC net what the CNN's architecture builds in.")
    return (f"Shifted copies raise {moved}, closing {a.gain / a.gap:.0%} of its {_pts(a.gap)}-point gap to the CNN "
            f"({_pts(a.cnn)}%, trained without them): the CNN builds in what the FC net must learn from data.")


def shift_drop_sentence(accuracy: Mapping[str, tuple[float, float]], shift: int) -> str:
    """How much each model loses on test images moved by `shift` pixels: name -> (accuracy at 0, at shift)."""
    if not accuracy:
        return ""
    drops = sorted(accuracy.items(), key=lambda kv: kv[1][0] - kv[1][1])
    parts = [f"{name} loses {_pts(a0 - ak)} points ({_pts(a0)}% → {_pts(ak)}%)"
             for name, (a0, ak) in drops]
    return f"Test images moved by {shift} pixels: " + "; ".join(parts) + " — the most robust first."


def time_to(history: Iterable[Progress], label: str, target: float = RACE_TARGET) -> Progress | None:
    """The first test evaluation at which `label` reached `target` accuracy, or None."""
    return next((p for p in history if p.label == label and p.test_acc is not None and p.test_acc >= target), None)


def race_sentence(history: list[Progress], models: Iterable[ModelConfig], target: float = RACE_TARGET) -> str:
    """When each model crossed `target` test accuracy (wall time of the run, epochs), or its best if it never did."""
    parts = []
    for m in models:
        label, name = m.label, m.named
        hit = time_to(history, label, target)
        if hit is not None:
            parts.append(f"{name} passed {target:.1%} after {hit.elapsed_s:.1f} s ({hit.epoch:.2f} epochs, "
                         f"{hit.test_acc:.2%})")
            continue
        tested = [p.test_acc for p in history if p.label == label and p.test_acc is not None]
        best = f"best {max(tested):.2%}" if tested else "not tested yet"
        parts.append(f"{name} stayed below {target:.1%} ({best})")
    return "; ".join(parts) + "."

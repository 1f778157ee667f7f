"""What training reports, torch-free: a typed status, one progress record per model and report, the results, and
which data-efficiency sweep a run belongs to."""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Status(str, Enum):
    """Where a run or one of its models stands. Runs: queued, running, then finished, stopped or failed
    (or interrupted by a server restart).
    Models: training, then finished, stopped or diverged. A str, so `status == "finished"` reads naturally."""

    QUEUED = "queued"
    RUNNING = "running"
    TRAINING = "training"
    FINISHED = "finished"
    STOPPED = "stopped"
    DIVERGED = "diverged"
    FAILED = "failed"
    INTERRUPTED = "interrupted"  # a run the server was training when it stopped (restart, crash)

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class SweepTag:
    """Which sweep a run belongs to, and where in it: run `index` of `count`, trained on `images` images."""

    id: str  # shared by the sweep's runs
    number: int  # the session's first, second, ... sweep
    index: int  # 1 for the smallest subset
    count: int
    images: int


@dataclass(frozen=True)
class Progress:
    """One model's progress after `step` optimizer steps; test metrics only where the test set was evaluated.

    A model's steps strictly increase over its records, except that a model which diverges right after a
    report gets one more record at that step, to carry its status."""

    label: str
    step: int
    total_steps: int
    epoch: float  # step / steps per epoch
    train_loss: float | None  # mean over this epoch's training images so far (None: none yet); see train_images
    train_acc: float | None  # share right of the same images, each counted when its batch was stepped on
    samples_per_s: float  # the run's training samples (all models) per second of wall time, so far
    elapsed_s: float  # the run's wall time since its first step
    test_loss: float | None = None
    test_acc: float | None = None
    note: str = ""  # why a model diverged, in words
    status: Status = Status.TRAINING  # a model's last record says how it ended: finished, stopped, diverged
    train_images: int = 0  # the images train_loss and train_acc are over: this epoch's so far (all of it at its end)


@dataclass(frozen=True)
class ModelResult:
    """How one model ended: status, steps done, the last train interval and the last test evaluation."""

    label: str
    status: Status
    steps: int
    train_loss: float | None
    train_acc: float | None
    test_loss: float | None
    test_acc: float | None
    diverged_at: int | None  # the step whose loss was NaN, infinite or exploding (its update was not applied)
    elapsed_s: float
    samples_per_s: float
    note: str = ""


def summarize(history: list[Progress]) -> dict[str, ModelResult]:
    """Per model: how it ended, from its records (the last test evaluation, the divergence step)."""
    out: dict[str, ModelResult] = {}
    for label in dict.fromkeys(p.label for p in history):
        records = [p for p in history if p.label == label]
        last = records[-1]
        tested = [p for p in records if p.test_acc is not None]
        trained = [p for p in records if p.train_loss is not None]
        out[label] = ModelResult(
            label, Status(last.status), last.step,
            trained[-1].train_loss if trained else None, trained[-1].train_acc if trained else None,
            tested[-1].test_loss if tested else None, tested[-1].test_acc if tested else None,
            last.step + 1 if last.status == Status.DIVERGED else None, last.elapsed_s, last.samples_per_s,
            last.note)
    return out


METRICS = ("test_acc", "test_loss", "train_acc", "train_loss")


def metric_at_epoch(history: list[Progress], label: str, epoch: int, metric: str = "test_acc") -> float | None:
    """One model's `metric` from its record at the end of whole epoch `epoch` (None: no such record, e.g. the
    run stopped before it). Train metrics there are over all of that epoch's images."""
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {', '.join(METRICS)} (got {metric!r})")
    for p in history:
        if p.label == label and abs(p.epoch - epoch) < 1e-9 and getattr(p, metric) is not None:
            return getattr(p, metric)
    return None


def accuracy_at_epoch(history: list[Progress], label: str, epoch: int) -> float | None:
    """One model's test accuracy at the end of whole epoch `epoch`, so "Adam at epoch 15" can be read from a
    longer run; None when the run did not evaluate there."""
    return metric_at_epoch(history, label, epoch, "test_acc")


def evaluated_epochs(history: list[Progress]) -> list[int]:
    """The whole epochs at whose end any model was evaluated on the test set, in order."""
    return sorted({round(p.epoch) for p in history
                   if p.test_acc is not None and abs(p.epoch - round(p.epoch)) < 1e-9 and round(p.epoch) >= 1})

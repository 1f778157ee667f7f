"""A training run as a record other pages can use: what it trains, its live history, its weights, its exports.

The scheduler (cnn_dash.scheduler) trains it in a worker thread and appends to its history; pages only read.
"""
from __future__ import annotations

import csv
import io
import threading
import time
import uuid
from typing import Callable

import torch
from torch import nn

from cnn_dash import inference
from cnn_dash.data import Dataset, Stats, load_dataset
from cnn_dash.records import ModelResult, Progress, Status, SweepTag, summarize
from cnn_dash.specs import ModelConfig, TrainSettings

ACTIVE = (Status.QUEUED, Status.RUNNING)
CSV_FIELDS = ("run", "model", "step", "epoch", "train_loss", "train_acc", "test_loss", "test_acc",
              "samples_per_s", "elapsed_s", "status")


class Run:
    """One training run: settings, models, live history; once trained, its weights and test set."""

    def __init__(self, settings: TrainSettings, models: tuple[ModelConfig, ...], name: str = "",
                 alive: Callable[[], bool] | None = None, sweep: SweepTag | None = None):
        self.id: str = uuid.uuid4().hex[:12]
        self.name = name or f"run {self.id[:6]}"
        self.settings = settings
        self.models: tuple[ModelConfig, ...] = tuple(models)
        self.sweep = sweep  # the data-efficiency sweep this run is one size of, if any
        self.status = Status.QUEUED  # queued, running, then finished, stopped or failed
        self.history: list[Progress] = []  # appended by the training thread; records are immutable
        self.error: str | None = None  # why a run failed or was stopped by the server
        self.created_at = time.time()
        self.started_at: float | None = None
        self.threads: int | None = None  # intra-op threads the scheduler gave the run
        self.ended_at: float | None = None
        self.alive = alive or (lambda: True)  # does the owner (a browser session) still exist?
        self.stop_event = threading.Event()  # the training loop watches it
        self.modules: dict[str, nn.Module] = {}  # the models being trained, kept after training
        self._dataset: Dataset | None = None  # shared with every session, never copied
        self.lock = threading.Lock()  # status changes between a Stop click and the scheduler's worker
        self._trained: tuple[tuple, dict[str, nn.Module]] | None = None  # (weights' version, models)
        self._trained_lock = threading.Lock()  # pages of several sessions may ask at once

    @property
    def active(self) -> bool:
        """Queued or running."""
        return self.status in ACTIVE

    @property
    def has_weights(self) -> bool:
        """True once at least one model has taken an optimizer step."""
        return bool(self.modules) and any(p.step > 0 for p in list(self.history))

    @property
    def dataset(self) -> Dataset:
        """The run's dataset (loaded once per process, shared read-only)."""
        if self._dataset is None:
            self._dataset = load_dataset(self.settings.dataset, source=self.settings.source)
        return self._dataset

    @property
    def stats(self) -> Stats:
        """The (mean, std) the run's inputs are standardised with."""
        return inference.stats(self.settings)

    @property
    def source(self) -> str | None:
        """Where the run's images come from, in words (None until the run has started)."""
        return self._dataset.source if self._dataset is not None else None

    @property
    def classes(self) -> tuple[str, ...]:
        """The class names of the run's dataset."""
        return self.dataset.classes

    @property
    def results(self) -> dict[str, ModelResult]:
        """Per model: status (finished, stopped, diverged), steps, last train and test metrics."""
        return summarize(list(self.history))

    @property
    def diverged(self) -> dict[str, int]:
        """Label -> the step at which that model's loss became NaN or infinite."""
        return {label: r.diverged_at for label, r in self.results.items() if r.diverged_at is not None}

    def progress(self) -> tuple[float, float | None]:
        """(fraction done, seconds left or None): the slowest model still training sets both."""
        last = {p.label: p for p in list(self.history)}
        if not last:
            return (1.0 if not self.active else 0.0), None
        fractions, etas = [], [0.0]
        for m in self.models:
            p = last.get(m.label)
            if p is None:
                fractions.append(0.0)
            elif p.status != Status.TRAINING:
                fractions.append(1.0)
            else:
                fractions.append(p.step / p.total_steps)
                etas.append(p.elapsed_s * (p.total_steps - p.step) / max(p.step, 1))
        return min(fractions), max(etas) if self.status == Status.RUNNING else None

    def state_dicts(self) -> dict[str, dict[str, torch.Tensor]]:
        """Label -> trained weights (CPU copies); a diverged model keeps its last finite weights."""
        return {label: {k: v.detach().to("cpu", copy=True) for k, v in module.state_dict().items()}
                for label, module in dict(self.modules).items()}

    def trained_models(self) -> dict[str, nn.Module]:
        """Label -> the model with its trained weights, placed as it trained, in eval mode (inference.trained).
        Built once and shared by every page that asks: read them, never train or move them. Rebuilt only when
        the weights may have changed, which a finished or stopped run's never do."""
        version = (self.status, len(self.history))
        with self._trained_lock:
            if self._trained is None or self._trained[0] != version:
                self._trained = version, inference.trained(self.models, self.state_dicts())
            return dict(self._trained[1])  # the caller's own dict of the shared modules

    def test_set(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The full test set of the run's data source: uint8 images (N, 28, 28), pixel-permuted if the run
        was, and int64 labels (N,)."""
        return inference.evaluation_set(self.settings, self.dataset)  # recomputed, not kept: runs stay small in memory

    def weights_file(self, label: str) -> bytes:
        """One model's state_dict as torch.save bytes (load with torch.load(..., weights_only=True))."""
        buffer = io.BytesIO()
        torch.save(self.state_dicts()[label], buffer)
        return buffer.getvalue()

    def curves_csv(self) -> str:
        """Every progress record as CSV, one row per model and step."""
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(CSV_FIELDS)
        for p in list(self.history):
            writer.writerow([self.name, p.label, p.step, f"{p.epoch:.4f}", p.train_loss, p.train_acc,
                             p.test_loss, p.test_acc, f"{p.samples_per_s:.1f}", f"{p.elapsed_s:.3f}", p.status])
        return out.getvalue()

    def stop(self, reason: str | None = None) -> None:
        """Stop training (within about a second) and keep what was trained; a queued run never starts."""
        with self.lock:
            self.stop_event.set()
            if reason and self.active:
                self.error = reason
            if self.status == Status.QUEUED:
                self.status, self.ended_at = Status.STOPPED, time.time()

    def attach(self, dataset: Dataset, modules: dict[str, nn.Module]) -> None:
        """The dataset and the modules being trained, from the trainer (weights stay after training)."""
        self._dataset, self.modules = dataset, modules

"""One training: what identical requests share. The scheduler (cnn_dash.scheduler) trains a `Training` in a worker
thread and appends to its history; every visitor's `Run` of it (cnn_dash.runs) only reads it. A finished Training
can come back from the store (`Training.restored`, `lookup_in`) with its weights read only when a page needs them.
"""
from __future__ import annotations

import io
import math
import threading
import time
from copy import deepcopy
from dataclasses import replace
from typing import TYPE_CHECKING, Callable

import torch
from torch import nn

from cnn_dash import inference
from cnn_dash.data import Dataset
from cnn_dash.device import default_device
from cnn_dash.records import Progress, Status
from cnn_dash.specs import ModelConfig, TrainSettings
from cnn_dash.store import RunStore, StoredRun

if TYPE_CHECKING:
    from cnn_dash.runs import Run

ACTIVE = (Status.QUEUED, Status.RUNNING)


class Training:
    """One computation of a run's numbers: what the scheduler queues and trains. Every visitor whose request has the
    same key (cnn_dash.run_key) watches the same Training through a `Run` of their own, so identical requests train
    once."""

    def __init__(self, settings: TrainSettings, models: tuple[ModelConfig, ...], key: str = ""):
        self.settings, self.models, self.key = settings, tuple(models), key
        self.status = Status.QUEUED  # queued, running, then finished, stopped or failed
        self.history: list[Progress] = []  # appended by the training thread; records are immutable
        self.error: str | None = None  # why it failed or was stopped by the server
        self.created_at = time.time()
        self.started_at: float | None = None
        self.ended_at: float | None = None
        self.threads: int | None = None  # intra-op threads the scheduler gave it
        self.expected_s: float | None = None  # its estimated wall time (cnn_dash.estimate), for the queue's ETA
        self.modules: dict[str, nn.Module] = {}  # the models being trained, kept after training
        self.dataset: Dataset | None = None  # shared with every session, never copied
        self.stop_event = threading.Event()  # the training loop watches it
        self.lock = threading.Lock()  # status changes between a Stop click and the scheduler's worker
        self.watchers: list[Run] = []  # the runs that show it, in the order they asked
        self.stored: StoredWeights | None = None  # a training restored from the store: its final weights there
        self._trained: tuple[tuple, dict[str, nn.Module]] | None = None  # (weights' version, models)
        self._trained_lock = threading.Lock()  # pages of several sessions may ask at once

    @classmethod
    def restored(cls, stored: StoredRun, store: RunStore) -> Training:
        """A training as the store kept it: its records, status and times; its final weights are read from the store
        when a page first asks for them."""
        training = cls(stored.settings, stored.models, stored.key)
        training.history = store.history(stored.id)
        training.status, training.error = Status(stored.status), stored.error
        training.started_at, training.ended_at = stored.started_at, stored.ended_at
        if stored.has_weights:
            training.stored = StoredWeights(store, stored.id)
        return training

    @property
    def active(self) -> bool:
        """Queued or running."""
        return self.status in ACTIVE

    def alive(self) -> bool:
        """Whether anyone who asked for it is still there (a broken callback counts as there)."""
        return any(_alive(run) for run in list(self.watchers))

    def stop(self, reason: str | None = None) -> None:
        """Stop training (within about a second) and keep what was trained; a queued one never starts."""
        with self.lock:
            self.stop_event.set()
            if reason and self.active:
                self.error = reason
            queued = self.status == Status.QUEUED
            if queued:
                self.status, self.ended_at = Status.STOPPED, time.time()
        if queued:
            self.save(final=True)  # it never starts, so no training thread saves it

    def save(self, final: bool = False, status: Status | None = None) -> None:
        """Every watcher's run to its store (Run.save)."""
        for run in list(self.watchers):
            run.save(final, status)

    def attach(self, dataset: Dataset, modules: dict[str, nn.Module]) -> None:
        """The dataset and the modules being trained, from the trainer (weights stay after training)."""
        self.dataset, self.modules = dataset, modules

    def progress(self) -> tuple[float, float | None]:
        """(fraction done, seconds left or None): the slowest model still training sets both. Time left is the pace
        since a model's first record (its first steps build the model and warm it up: counted in, a 3 s run once
        said "about 22 s left"), or the run's estimate for what is left until there are two records."""
        first: dict[str, Progress] = {}
        last: dict[str, Progress] = {}
        for p in list(self.history):
            first.setdefault(p.label, p)
            last[p.label] = p
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
                f = first[m.label]
                if p.step > f.step:
                    etas.append((p.elapsed_s - f.elapsed_s) / (p.step - f.step) * (p.total_steps - p.step))
                else:
                    etas.append(self.expected_s * (1 - fractions[-1]) if self.expected_s else math.nan)
        known = self.status == Status.RUNNING and not any(math.isnan(e) for e in etas)
        return min(fractions), max(etas) if known else None

    @property
    def has_weights(self) -> bool:
        """True once at least one model has taken an optimizer step, or the store holds the final weights."""
        if not self.modules and self.stored is not None:
            return self.stored.readable
        return bool(self.modules) and any(p.step > 0 for p in list(self.history))

    def state_dicts(self) -> dict[str, dict[str, torch.Tensor]]:
        """Label -> trained weights (CPU copies); a diverged model keeps its last finite weights. A restored training
        reads them from the store once."""
        if not self.modules and self.stored is not None:
            return self.stored.load()
        return {label: {k: v.detach().to("cpu", copy=True) for k, v in module.state_dict().items()}
                for label, module in dict(self.modules).items()}

    def trained_models(self) -> dict[str, nn.Module]:
        """Label -> the model with its trained weights, in eval mode, on the GPU
        when there is one (inference.trained). Built once and shared by every page of every visitor watching this
        training: read them, never train or move them. Rebuilt only when the weights may have changed, which a
        finished or stopped training's never do."""
        version = (self.status, len(self.history))
        with self._trained_lock:
            if self._trained is None or self._trained[0] != version:
                self._trained = version, inference.trained(self.models, self.state_dicts(), default_device())
            return dict(self._trained[1])  # the caller's own dict of the shared modules

    def frozen(self) -> Training:
        """A stopped copy of what has been trained so far (history and weights), which training no longer
        changes: what a visitor keeps who stops a run that others still watch."""
        copy = Training(self.settings, self.models, self.key)
        history = list(self.history)
        last = {p.label: i for i, p in enumerate(history)}
        for i in last.values():
            if history[i].status == Status.TRAINING:
                history[i] = replace(history[i], status=Status.STOPPED)
        copy.history, copy.status, copy.error = history, Status.STOPPED, self.error
        copy.started_at, copy.threads, copy.dataset = self.started_at, self.threads, self.dataset
        copy.modules = {label: deepcopy(module) for label, module in dict(self.modules).items()}
        copy.ended_at = time.time()
        return copy


class StoredWeights:
    """A run's final weights in the store, read once when first asked (torch.load with weights_only=True)."""

    def __init__(self, store: RunStore, run_id: str):
        self.store, self.run_id = store, run_id
        self._loaded: dict[str, dict[str, torch.Tensor]] | None = None

    @property
    def readable(self) -> bool:
        """False once a read found them missing or damaged."""
        return self._loaded is None or bool(self._loaded)

    def load(self) -> dict[str, dict[str, torch.Tensor]]:
        """Label -> state_dict; {} when the bytes are gone or damaged (the run then has no weights, never a
        traceback)."""
        if self._loaded is None:
            data = self.store.weights(self.run_id)
            try:
                self._loaded = torch.load(io.BytesIO(data), weights_only=True) if data else {}
            except Exception:  # noqa: BLE001 - damaged bytes
                self._loaded = {}
        return self._loaded


def lookup_in(store: RunStore) -> Callable[[str], Training | None]:
    """For Scheduler(lookup=...): a run key -> the latest finished run with that key in `store`, as a Training
    (records and weights as stored), or None. A restarted server, or another replica sharing the store, serves it
    at once instead of training it again."""
    def lookup(key: str) -> Training | None:
        stored = store.finished(key)
        return Training.restored(stored, store) if stored is not None else None
    return lookup


def _alive(run: Run) -> bool:
    try:
        return bool(run.alive())
    except Exception:  # noqa: BLE001 - a broken callback must not stop anyone's run; keep it
        return True

"""A training run as a record other pages can use: what it trains, its live history, its weights, its exports.

The scheduler (cnn_dash.scheduler) trains a `Training` (cnn_dash.training) in a worker thread and appends to its
history; every visitor's `Run` of it only reads, so identical requests share one Training.
A run with a store (cnn_dash.store) is saved as it trains: its records every FLUSH_S seconds, its weights at the
end; `Run.restored` brings it back after a reload or a restart, its weights read only when a page needs them.
"""
from __future__ import annotations

import csv
import io
import secrets
import time
from typing import Callable

import torch
from torch import nn

from cnn_dash import inference
from cnn_dash.data import Dataset, Stats, load_dataset
from cnn_dash.records import ModelResult, Status, SweepTag, summarize
from cnn_dash.specs import ModelConfig, TrainSettings
from cnn_dash.store import RunStore, StoredRun
from cnn_dash.training import ACTIVE, Training

FLUSH_S = 2.0  # a training run's new records reach the store at least this often (a crash loses at most these)
# The train columns are over the epoch's images so far (all of the epoch's at its end), as many as the last column.
CSV_FIELDS = ("run", "model", "step", "epoch", "train_loss_epoch_so_far", "train_acc_epoch_so_far", "test_loss",
              "test_acc", "samples_per_s", "elapsed_s", "status", "train_images_epoch_so_far")


def _shared(name: str, doc: str) -> property:
    return property(lambda self: getattr(self.training, name), doc=doc)


class Run:
    """A visitor's run: its name and settings, and the Training it shows (shared with every identical request
    while it trains, or an earlier identical one that has finished); once trained, its weights and test set."""

    def __init__(self, settings: TrainSettings, models: tuple[ModelConfig, ...], name: str = "",
                 alive: Callable[[], bool] | None = None, sweep: SweepTag | None = None,
                 training: Training | None = None, identical: bool = False,
                 owner: str | None = None, store: RunStore | None = None, run_id: str | None = None):
        self.id: str = run_id or secrets.token_urlsafe(16)  # 128 random bits: the run's shared link names it
        self.name = name or f"run {self.id[:6]}"
        self.owner = owner  # a hash of the owner's token (None: a run outside any browser, e.g. a test's)
        self.settings = settings
        self.models: tuple[ModelConfig, ...] = tuple(models)
        self.sweep = sweep  # the data-efficiency sweep this run is one size of, if any
        self.created_at = time.time()
        self.alive = alive or (lambda: True)  # does the owner (a browser session) still exist?
        self.training = training or Training(settings, self.models)
        self.identical = identical  # it joined an identical request's training, or got one already finished
        self.reused = identical and not self.training.active  # the training had finished
        self.training.watchers.append(self)
        self.store = store  # where the run is saved, or None: in memory only
        self._saved = 0  # records already in the store
        self._saved_at = -float("inf")  # time.monotonic() of the last save

    @classmethod
    def restored(cls, stored: StoredRun, store: RunStore) -> Run:
        """A run brought back from the store. One that was queued or training when its server stopped is
        marked interrupted (and saved so): no process trains it any more."""
        training = Training.restored(stored, store)
        run = cls(stored.settings, stored.models, stored.name, sweep=stored.sweep, training=training,
                  owner=stored.owner, store=store, run_id=stored.id)
        run.created_at, run._saved = stored.created_at, len(training.history)
        if training.status in ACTIVE:
            training.status, training.ended_at = Status.INTERRUPTED, training.ended_at or stored.updated_at
            run.save(final=True)
        return run

    @property
    def interrupted_at(self) -> int | None:
        """The last step recorded before the server stopped, for an interrupted run; else None."""
        if self.status != Status.INTERRUPTED:
            return None
        return max((p.step for p in list(self.history)), default=0)

    def stored_record(self) -> StoredRun:
        """The run as the store keeps it."""
        return StoredRun(self.id, self.owner or "", self.name, self.settings, self.models, self.sweep,
                         str(self.status), self.error, self.created_at, self.started_at, self.ended_at,
                         key=self.training.key)

    def save(self, final: bool = False, status: Status | None = None) -> None:
        """Send the new records and the status (or `status`, about to be the run's) to the store: at most every
        FLUSH_S seconds while training, and at the end (`final`) with the weights. A no-op without a store."""
        if self.store is None or (not final and time.monotonic() - self._saved_at < FLUSH_S):
            return
        history = list(self.history)
        self.store.update(self.id, status=str(status or self.status), error=self.error, started_at=self.started_at,
                          ended_at=self.ended_at, records=enumerate(history[self._saved:], start=self._saved))
        self._saved, self._saved_at = len(history), time.monotonic()
        if final and self.has_weights and any(p.step > 0 for p in history):
            self.store.save_weights(self.id, self.weights_bytes())

    status = _shared("status", "Queued, running, then finished, stopped or failed.")
    history = _shared("history", "Every model's progress records, in order.")
    error = _shared("error", "Why the run failed or was stopped by the server.")
    started_at = _shared("started_at", "When training began (time.time()), or None.")
    ended_at = _shared("ended_at", "When training ended, or None.")
    threads = _shared("threads", "The intra-op threads the scheduler gave the training.")
    modules = _shared("modules", "Label -> the module being trained, kept after training.")
    stop_event = _shared("stop_event", "Set once the training is asked to stop.")

    @property
    def active(self) -> bool:
        """Queued or running."""
        return self.status in ACTIVE

    @property
    def identical_note(self) -> str | None:
        """Why this run shows numbers it did not train itself, or None: it joined an identical request's training, or
        got one already finished."""
        if not self.identical:
            return None
        if self.reused:
            return "Identical settings and seed: the same numbers as an earlier run (shown at once, not trained again)."
        return ("Identical settings and seed to a run already training: you watch that race from where it is "
                "(Stop leaves it to the others and keeps what you have seen).")

    @property
    def shared(self) -> bool:
        """True while another visitor's run shows the same training."""
        return any(run is not self for run in list(self.training.watchers))

    def stop(self, reason: str | None = None) -> None:
        """Stop this run: one that others still watch is left to them (this run keeps a stopped copy of what it has
        shown), else its training stops within about a second and keeps what was trained (a queued one never
        starts)."""
        if self.active and self.shared:
            self.leave(keep=True)
        else:
            self.training.stop(reason)

    def leave(self, keep: bool = True) -> None:
        """Stop watching a training that others still watch: with `keep`, this run keeps a stopped copy of what has
        been trained so far (its Stop), else nothing (a delete). Training goes on for the others."""
        training = self.training
        if keep:
            self.training = training.frozen()
            self.training.watchers.append(self)
        if self in training.watchers:
            training.watchers.remove(self)
        if keep:
            self.save(final=True)

    @property
    def has_weights(self) -> bool:
        """True once at least one model has taken an optimizer step (or the store holds the final weights)."""
        return self.training.has_weights

    @property
    def evaluable(self) -> bool:
        """Finished, or stopped after at least one step: it has weights to evaluate."""
        return self.status in (Status.FINISHED, Status.STOPPED) and self.has_weights

    @property
    def dataset(self) -> Dataset:
        """The run's dataset (loaded once per process, shared read-only)."""
        if self.training.dataset is None:
            self.training.dataset = load_dataset(self.settings.dataset, source=self.settings.source)
        return self.training.dataset

    @property
    def stats(self) -> Stats:
        """The (mean, std) the run's inputs are standardised with."""
        return inference.stats(self.settings)

    @property
    def source(self) -> str | None:
        """Where the run's images come from, in words (None until the run has started)."""
        return self.training.dataset.source if self.training.dataset is not None else None

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
        return self.training.progress()

    def state_dicts(self) -> dict[str, dict[str, torch.Tensor]]:
        """Label -> trained weights (CPU copies); a diverged model keeps its last finite weights. A restored run
        reads them from the store once."""
        return self.training.state_dicts()

    def weights_bytes(self) -> bytes:
        """Every model's state_dict, label -> state_dict, as torch.save bytes (read with weights_only=True)."""
        buffer = io.BytesIO()
        torch.save(self.state_dicts(), buffer)
        return buffer.getvalue()

    def trained_models(self) -> dict[str, nn.Module]:
        """Label -> the model with its trained weights, in eval mode: built once per training, shared by every
        visitor's pages (Training.trained_models); read them, never train or move them."""
        return self.training.trained_models()

    def test_set(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The full test set of the run's data source: uint8 images (N, 28, 28), pixel-permuted if the run
        was, and int64 labels (N,)."""
        return inference.evaluation_set(self.settings, self.dataset)  # recomputed, not kept: runs stay small

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
                             p.test_loss, p.test_acc, f"{p.samples_per_s:.1f}", f"{p.elapsed_s:.3f}", p.status, p.train_images])
        return out.getvalue()

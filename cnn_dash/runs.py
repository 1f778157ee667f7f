"""Training runs as records other pages can use, one registry per browser session, and a process-wide queue.

A run trains in a worker thread owned by the `Scheduler`, never in a page's script thread, so leaving the
page neither stops nor loses it. At most N runs train at once (env CNN_DASH_MAX_CONCURRENT_RUNS, default
half the cores), each with the same share of the cores; the rest wait in a FIFO queue. A run whose owner is
gone (its `alive` callback has answered False for `orphan_after_s`, default 60 s) is stopped and dropped
from the queue: a browser session's websocket can blink, so one missed poll is not enough.
"""
from __future__ import annotations

import csv
import io
import os
import threading
import time
import uuid
from typing import Callable

import torch
from torch import nn

from cnn_dash.data import Dataset, load_dataset
from cnn_dash.limits import LIMITS, LimitError, check_run, net_cost
from cnn_dash.train import ModelConfig, ModelResult, Progress, Trainer, TrainSettings, evaluation_set, summarize

STATUSES = ("queued", "running", "finished", "stopped", "failed")
ACTIVE = ("queued", "running")
MAX_RUNS_KEPT = 10  # per session: each keeps its weights and curves in memory
CSV_FIELDS = ("run", "model", "step", "epoch", "train_loss", "train_acc", "test_loss", "test_acc",
              "samples_per_s", "elapsed_s", "status")


class Run:
    """One training run: settings, models, live history; once trained, its weights and test set."""

    def __init__(self, settings: TrainSettings, models: tuple[ModelConfig, ...], name: str = "",
                 alive: Callable[[], bool] | None = None):
        self.id: str = uuid.uuid4().hex[:12]
        self.name = name or f"run {self.id[:6]}"
        self.settings = settings
        self.models: tuple[ModelConfig, ...] = tuple(models)
        self.status: str = "queued"  # one of STATUSES
        self.history: list[Progress] = []  # appended by the training thread; records are immutable
        self.error: str | None = None  # why a run failed or was stopped by the server
        self.created_at = time.time()
        self.started_at: float | None = None
        self.threads: int | None = None  # intra-op threads the scheduler gave the run
        self.ended_at: float | None = None
        self.alive = alive or (lambda: True)  # does the owner (a browser session) still exist?
        self._stop = threading.Event()
        self._trainer: Trainer | None = None  # only while training: it holds the run's copy of the images
        self._modules: dict[str, nn.Module] = {}  # the trained models, kept after training
        self._dataset: Dataset | None = None  # shared with every session, never copied
        self._lock = threading.Lock()

    @property
    def active(self) -> bool:
        """Queued or running."""
        return self.status in ACTIVE

    @property
    def has_weights(self) -> bool:
        """True once at least one model has taken an optimizer step."""
        return bool(self._modules) and any(p.step > 0 for p in list(self.history))

    @property
    def dataset(self) -> Dataset:
        """The run's dataset (loaded once per process, shared read-only)."""
        if self._dataset is None:
            self._dataset = load_dataset(self.settings.dataset, source=self.settings.source)
        return self._dataset

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
            elif p.status != "training":
                fractions.append(1.0)
            else:
                fractions.append(p.step / p.total_steps)
                etas.append(p.elapsed_s * (p.total_steps - p.step) / max(p.step, 1))
        return min(fractions), max(etas) if self.status == "running" else None

    def state_dicts(self) -> dict[str, dict[str, torch.Tensor]]:
        """Label -> trained weights (CPU copies); a diverged model keeps its last finite weights."""
        return {label: {k: v.detach().to("cpu", copy=True) for k, v in module.state_dict().items()}
                for label, module in dict(self._modules).items()}

    def trained_models(self) -> dict[str, nn.Module]:
        """Label -> a fresh module built from its spec with the trained weights, in eval mode."""
        from cnn_dash.build import build_model

        out = {}
        weights = self.state_dicts()
        for m in self.models:
            if m.label in weights:
                model = build_model(m.net)
                model.load_state_dict(weights[m.label])
                out[m.label] = model.eval()
        return out

    def test_set(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The full test set of the run's data source: uint8 images (N, 28, 28), pixel-permuted if the run
        was, and int64 labels (N,)."""
        return evaluation_set(self.settings, self.dataset)  # recomputed, not kept: runs stay small in memory

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
        with self._lock:
            self._stop.set()
            if reason and self.active:
                self.error = reason
            if self.status == "queued":
                self.status, self.ended_at = "stopped", time.time()
            trainer = self._trainer
        if trainer is not None:
            trainer.stop()

    def execute(self, threads: int | None = None) -> None:
        """Train to the end, appending progress to `history` (the scheduler calls this in its worker)."""
        with self._lock:
            if self._stop.is_set():
                return
            self.status, self.started_at, self.threads = "running", time.time(), threads
        try:
            trainer = Trainer(self.settings, self.models, threads=threads)  # loads the data, builds the models
            self._dataset = trainer.data.dataset
            with self._lock:
                self._trainer, self._modules = trainer, trainer.modules
            if self._stop.is_set():  # a Stop that came while the models were being built
                trainer.stop()
            for record in trainer:
                self.history.append(record)
            stopped = any(r.status == "stopped" for r in self.results.values())
            self.status = "stopped" if stopped else "finished"  # a Stop after the last step changes nothing
        except Exception as exc:  # noqa: BLE001 - a failed run is a result to show, not a crash
            self.error = f"{type(exc).__name__}: {exc}"
            self.status = "failed"
        finally:
            with self._lock:
                self._trainer = None  # frees the run's images; the trained modules stay
            self.ended_at = time.time()


def cpu_count() -> int:
    """The cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def background_priority(lower_by: int = 10) -> None:
    """Lower this thread's CPU priority, and so that of the threads it starts (Linux: nice is per thread and
    inherited): the server draws pages first and training takes what is left, so clicks are answered while
    runs train. Training alone on a machine runs as fast as before. A no-op where it is not allowed."""
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + lower_by))
    except (AttributeError, OSError):  # not on Linux, or not permitted
        pass


class Scheduler:
    """Runs queued training runs, at most `max_running` at once, each in its own thread with a fair share."""

    def __init__(self, max_running: int | None = None, cores: int | None = None, orphan_after_s: float = 60.0,
                 poll_s: float = 1.0):
        cores = cores or cpu_count()
        env = os.environ.get("CNN_DASH_MAX_CONCURRENT_RUNS", "")
        self.max_running = max(1, max_running or (int(env) if env.isdigit() else cores // 2))
        self.threads_per_run = max(1, cores // self.max_running)
        self.orphan_after_s, self.poll_s = orphan_after_s, poll_s
        self._queue: list[Run] = []
        self._running: list[Run] = []
        self._lost_since: dict[str, float] = {}  # run id -> when its owner was first seen gone
        self._lock = threading.Lock()
        self._watchdog: threading.Thread | None = None

    def submit(self, run: Run) -> None:
        """Queue a run; it starts as soon as a slot is free."""
        check_run(run.settings, run.models)
        with self._lock:
            self._queue.append(run)
            self._dispatch()
            if self._watchdog is None:
                self._watchdog = threading.Thread(target=self._watch, name="run-watchdog", daemon=True)
                self._watchdog.start()

    def position(self, run: Run) -> int | None:
        """1 for the next run to start, 2 after it, ...; None once it is no longer waiting."""
        with self._lock:
            return self._queue.index(run) + 1 if run in self._queue else None

    def counts(self) -> tuple[int, int]:
        """(runs training, runs waiting) over the whole server: numbers only, no run is exposed."""
        with self._lock:
            return len(self._running), len(self._queue)

    def cancel(self, run: Run, reason: str | None = None) -> None:
        """Take a run out of the queue, or stop it if it is training."""
        with self._lock:
            if run in self._queue:
                self._queue.remove(run)
        run.stop(reason)

    def stop_all(self, reason: str | None = None) -> None:
        """Empty the queue and stop every training run (server shutdown, tests)."""
        with self._lock:
            runs = self._queue + self._running
        for run in runs:
            self.cancel(run, reason)

    def _dispatch(self) -> None:  # with self._lock held
        while self._queue and len(self._running) < self.max_running:
            run = self._queue.pop(0)
            self._running.append(run)
            threading.Thread(target=self._execute, args=(run,), name=f"run-{run.id}", daemon=True).start()

    def _execute(self, run: Run) -> None:
        background_priority()
        try:
            run.execute(self.threads_per_run)
        finally:
            with self._lock:
                self._running.remove(run)
                self._lost_since.pop(run.id, None)
                self._dispatch()

    def _watch(self) -> None:
        while True:
            time.sleep(self.poll_s)
            self.reap()

    def reap(self, now: float | None = None) -> list[Run]:
        """Stop the runs whose owner has been gone for `orphan_after_s`; returns them."""
        now = time.monotonic() if now is None else now
        with self._lock:
            runs = self._queue + self._running
        alive = {run.id: _owner_alive(run) for run in runs}  # callbacks run outside the lock
        orphans = []
        with self._lock:
            for run in runs:
                if alive[run.id]:
                    self._lost_since.pop(run.id, None)
                elif now - self._lost_since.setdefault(run.id, now) >= self.orphan_after_s:
                    orphans.append(run)
                    self._lost_since.pop(run.id, None)
        for run in orphans:
            self.cancel(run, "stopped by the server: its browser session was closed")
        return orphans


def _owner_alive(run: Run) -> bool:
    try:
        return bool(run.alive())
    except Exception:  # noqa: BLE001 - a broken callback must not kill the watchdog; keep the run
        return True


_scheduler: Scheduler | None = None
_scheduler_lock = threading.Lock()


def scheduler() -> Scheduler:
    """The process-wide scheduler every session shares (created on first use)."""
    global _scheduler
    with _scheduler_lock:
        if _scheduler is None:
            _scheduler = Scheduler()
        return _scheduler


class RunRegistry:
    """The runs of one browser session, oldest first; a session reaches only its own runs through it."""

    def __init__(self, scheduler_: Scheduler | None = None, alive: Callable[[], bool] | None = None,
                 max_runs: int = MAX_RUNS_KEPT):
        self._scheduler = scheduler_
        self.alive = alive
        self.max_runs = max_runs
        self._runs: dict[str, Run] = {}
        self._count = 0
        self._lock = threading.Lock()

    @property
    def scheduler(self) -> Scheduler:
        return self._scheduler or scheduler()

    def start(self, settings: TrainSettings, models: tuple[ModelConfig, ...] | list[ModelConfig]) -> Run:
        """Queue a new run, or return the one already queued or training (never a duplicate)."""
        with self._lock:
            current = self.active()
            if current is not None:
                return current
            if len(self._runs) >= self.max_runs:
                raise LimitError(f"This session keeps at most {self.max_runs} runs: delete one to train again.")
            check_run(settings, tuple(models))
            kept = sum(net_cost(m.net)[0] for run in self._runs.values() for m in run.models)
            new = sum(net_cost(m.net)[0] for m in models)
            if kept + new > LIMITS.max_session_params:
                raise LimitError(f"The runs of this session already keep {kept:,} trained parameters; this one "
                                 f"adds {new:,}, over the {LIMITS.max_session_params:,} a session may keep. "
                                 f"Delete a run to train again.")
            self._count += 1
            run = Run(settings, tuple(models), name=f"Run {self._count}", alive=self.alive)
            self._runs[run.id] = run
        self.scheduler.submit(run)
        return run

    def get(self, run_id: str) -> Run:
        """This session's run with that id; KeyError for any other id, including other sessions' runs."""
        return self._runs[run_id]

    def runs(self) -> list[Run]:
        """Every run of the session, oldest first."""
        return list(self._runs.values())

    def trained(self) -> list[Run]:
        """The runs with weights to evaluate: finished, or stopped after at least one step."""
        return [r for r in self.runs() if r.status in ("finished", "stopped") and r.has_weights]

    def active(self) -> Run | None:
        """The session's queued or training run, if any."""
        return next((r for r in self._runs.values() if r.active), None)

    def position(self, run_id: str) -> int | None:
        """The queue position of one of this session's runs (None when not waiting)."""
        return self.scheduler.position(self.get(run_id))

    def stop(self, run_id: str) -> None:
        """Stop (or un-queue) one of this session's runs."""
        self.scheduler.cancel(self.get(run_id))

    def delete(self, run_id: str) -> None:
        """Stop a run if needed and forget it, weights and curves included."""
        self.stop(run_id)
        with self._lock:
            self._runs.pop(run_id, None)

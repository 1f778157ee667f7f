"""The process-wide queue of training runs and the threads that train them; one registry per owner (a browser).

A run trains in a worker thread owned by the `Scheduler`, never in a page's script thread, so leaving the
page neither stops nor loses it. At most N runs train at once (env CNN_DASH_MAX_CONCURRENT_RUNS, default
half the cores), each with the same share of the cores as intra-op threads; the rest wait in a FIFO queue.
A run whose owner is gone (its `alive` callback has answered False for `orphan_after_s`, default 60 s) is
stopped and dropped from the queue: a browser session's websocket can blink, so one missed poll is not enough.
The owner is a browser (its owner token), not one session: a reload or a second tab keeps its runs alive.
"""
from __future__ import annotations

import os
import threading
import time
import uuid
from typing import Callable

import torch

from cnn_dash.limits import Limits, LimitError, check_run, default_limits
from cnn_dash.records import Status, SweepTag
from cnn_dash.runs import Run
from cnn_dash.shapes import net_cost
from cnn_dash.specs import ModelConfig, TrainSettings
from cnn_dash.store import RunStore
from cnn_dash.sweep import SweepPlan
from cnn_dash.train import Trainer


def train_run(run: Run, threads: int | None = None) -> None:
    """Train `run` to the end in this thread, appending its progress to `run.history`; never raises."""
    with run.lock:
        if run.stop_event.is_set():
            return
        run.status, run.started_at, run.threads = Status.RUNNING, time.time(), threads
    run.save(final=True)  # "running" reaches the store at once: a restart from here marks it interrupted
    outcome = Status.FAILED
    try:
        if threads:
            torch.set_num_threads(threads)  # this thread's intra-op threads (OpenMP: per OS thread)
        trainer = Trainer(run.settings, run.models, stop=run.stop_event)  # loads the data, builds the models
        run.attach(trainer.data.dataset, trainer.modules)
        for record in trainer:
            run.history.append(record)
            run.save()  # every FLUSH_S seconds: a crash loses at most that much of the curves
        stopped = any(r.status == Status.STOPPED for r in run.results.values())
        outcome = Status.STOPPED if stopped else Status.FINISHED  # a Stop after the last step changes nothing
    except Exception as exc:  # noqa: BLE001 - a failed run is a result to show, not a crash
        run.error = f"{type(exc).__name__}: {exc}"
    finally:
        run.ended_at = time.time()  # the trainer, and with it the run's copy of the images, is gone
        run.save(final=True, status=outcome)  # stored before it shows as ended: whoever sees it ended finds it saved
        if run.store is not None:
            limits = default_limits()
            run.store.evict(limits.max_store_mb * 2**20, limits.max_run_age_days * 86400.0, keep=[run.id])
        run.status = outcome


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
        """Queue a run; it starts as soon as a slot is free. Its limits were checked at the door (RunRegistry)."""
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
            train_run(run, self.threads_per_run)
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
            self.cancel(run, "stopped by the server: no page of its browser was open for a minute")
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
    """The runs of one owner (a browser, by its token; or one test), oldest first; an owner reaches only its own
    runs through it. Every session of the owner (tabs, reloads) shares it; with a store, it starts with the
    owner's stored runs and saves every run it starts."""

    def __init__(self, scheduler_: Scheduler | None = None, alive: Callable[[], bool] | None = None,
                 max_runs: int | None = None, limits: Limits | None = None, owner: str | None = None,
                 store: RunStore | None = None, runs: list[Run] = ()):
        self._scheduler = scheduler_
        self._limits = limits  # None: the process's caps (limits.default_limits); tests pass tighter ones
        self.alive = alive or self.owner_alive
        self._max_runs = max_runs  # None: Limits.max_runs_kept
        self.owner, self.store = owner, store
        self._runs: dict[str, Run] = {run.id: run for run in runs}
        self._count = len(self._runs)  # runs started, so names stay unique after a delete
        self._sweeps = max((run.sweep.number for run in runs if run.sweep), default=0)  # sweeps started
        self._sessions: dict[str, Callable[[], bool]] = {}  # session id -> is it still connected?
        self.last_seen = time.monotonic()
        self.last_viewed: str | None = None  # the run the owner last evaluated, picked again after a reload
        self._lock = threading.Lock()

    @property
    def max_runs(self) -> int:
        """Runs this owner keeps."""
        return self._max_runs or self.limits.max_runs_kept

    def seen(self, session_id: str, alive: Callable[[], bool]) -> None:
        """A session of this owner is on a page now (a reload, a new tab): its runs are not orphans."""
        with self._lock:
            if session_id not in self._sessions:  # a new session: forget those that are gone
                self._sessions = {sid: check for sid, check in self._sessions.items() if _owner_alive(check)}
            self._sessions[session_id] = alive
            self.last_seen = time.monotonic()

    def owner_alive(self) -> bool:
        """Whether some session of the owner is still connected (True before any session was seen)."""
        with self._lock:
            checks = list(self._sessions.values())
        return not checks or any(_owner_alive(check) for check in checks)

    def evictions(self) -> list[str]:
        """The owner's runs the store removed since the last call (size cap, age limit), forgotten here too."""
        if self.store is None or self.owner is None:
            return []
        removed = self.store.take_evictions(self.owner)
        with self._lock:
            for run_id in removed:
                self._runs.pop(run_id, None)
        return list(removed.values())

    def _new_run(self, settings: TrainSettings, models: tuple[ModelConfig, ...], name: str,
                 sweep: SweepTag | None = None) -> Run:  # with self._lock held
        run = Run(settings, models, name=name, alive=self.alive, sweep=sweep, owner=self.owner, store=self.store)
        if self.store is not None:
            self.store.create(run.stored_record())
        self._runs[run.id] = run
        return run

    @property
    def scheduler(self) -> Scheduler:
        return self._scheduler or scheduler()

    @property
    def limits(self) -> Limits:
        """The caps this session's runs are checked against."""
        return self._limits or default_limits()

    def start(self, settings: TrainSettings, models: tuple[ModelConfig, ...] | list[ModelConfig]) -> Run:
        """Queue a new run, or return the one already queued or training (never a duplicate)."""
        with self._lock:
            current = self.active()
            if current is not None:
                return current
            if len(self._runs) >= self.max_runs:
                raise LimitError(f"This browser keeps at most {self.max_runs} runs: delete one to train again.")
            limits = self.limits
            check_run(settings, tuple(models), limits)
            self._check_params(sum(net_cost(m.net)[0] for m in models), "this one")
            self._count += 1
            run = self._new_run(settings, tuple(models), f"Run {self._count}")
        self.scheduler.submit(run)
        return run

    def start_sweep(self, plan: SweepPlan) -> list[Run]:
        """Queue a data-efficiency sweep: one ordinary run per size, all checked against the limits and the
        session's caps before any is queued (all or nothing). If the session already has a run queued or
        training, return its active runs instead (never a duplicate)."""
        with self._lock:
            if self.active() is not None:
                return [r for r in self._runs.values() if r.active]
            self._check_sweep(plan)
            self._sweeps += 1
            sweep_id, number, count = uuid.uuid4().hex[:12], self._sweeps, len(plan.runs)
            runs = []
            for index, (images, settings) in enumerate(zip(plan.sizes, plan.runs), start=1):
                self._count += 1
                runs.append(self._new_run(settings, plan.models, f"Run {self._count} · sweep {number}, {images:,} "
                                          f"images", SweepTag(sweep_id, number, index, count, images)))
        for run in runs:
            self.scheduler.submit(run)  # in order: the queue trains the sizes one after another
        return runs

    def _check_sweep(self, plan: SweepPlan) -> None:  # with self._lock held
        count, kept = len(plan.runs), len(self._runs)
        if kept + count > self.max_runs:
            raise LimitError(f"A sweep of {count} sizes needs {count} run slots; this browser keeps {kept} of "
                             f"its {self.max_runs} runs: delete {kept + count - self.max_runs} to start it.")
        for images, settings in zip(plan.sizes, plan.runs):
            try:
                check_run(settings, plan.models, self.limits)
            except ValueError as exc:  # LimitError, or ShapeError for a network that does not fit
                raise LimitError(f"The sweep's run on {images:,} images: {exc}") from None
        self._check_params(count * sum(net_cost(m.net)[0] for m in plan.models), f"a sweep of {count} runs")

    def _check_params(self, new: int, what: str) -> None:  # with self._lock held
        kept = sum(net_cost(m.net)[0] for run in self._runs.values() for m in run.models)
        limit = self.limits.max_session_params
        if kept + new > limit:
            raise LimitError(f"The runs of this browser already keep {kept:,} trained parameters; {what} adds "
                             f"{new:,}, over the {limit:,} a browser may keep. Delete a run to train again.")

    def get(self, run_id: str) -> Run:
        """This session's run with that id; KeyError for any other id, including other sessions' runs."""
        return self._runs[run_id]

    def runs(self) -> list[Run]:
        """Every run of the session, oldest first."""
        return list(self._runs.values())

    def trained(self) -> list[Run]:
        """The runs with weights to evaluate: finished, or stopped after at least one step."""
        return [r for r in self.runs() if r.evaluable]

    def active(self) -> Run | None:
        """The session's queued or training run, if any."""
        return next((r for r in self._runs.values() if r.active), None)

    def position(self, run_id: str) -> int | None:
        """The queue position of one of this session's runs (None when not waiting)."""
        return self.scheduler.position(self.get(run_id))

    def stop(self, run_id: str) -> None:
        """Stop (or un-queue) one of this session's runs. A sweep's run stops the whole sweep: its queued runs
        never start and its training run keeps what it has trained, like any stopped run."""
        run = self.get(run_id)
        targets = [run]
        if run.sweep is not None:
            targets = [r for r in self.runs() if r.sweep is not None and r.sweep.id == run.sweep.id and r.active]
            targets.sort(key=lambda r: r.status == Status.RUNNING)  # the queued first: none starts meanwhile
        for target in targets:
            self.scheduler.cancel(target)

    def delete(self, run_id: str) -> None:
        """Stop a run if needed and forget it, weights and curves included (a sweep's other runs go on)."""
        self.scheduler.cancel(self.get(run_id))
        with self._lock:
            self._runs.pop(run_id, None)
        if self.store is not None:
            self.store.delete(run_id)

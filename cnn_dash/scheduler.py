"""The process-wide queue of trainings and the threads that train them, with the time until each waiting one starts.

A training runs in a worker thread owned by the `Scheduler`, never in a page's script thread, so leaving the
page neither stops nor loses it. At most N train at once (on a CPU env CNN_DASH_MAX_CONCURRENT_RUNS, default half
the cores; on a GPU CNN_DASH_MAX_CONCURRENT_RUNS_GPU, default 4), each with the same share of the cores as intra-op
threads; the rest wait in a FIFO queue, each with the time until it starts. A request whose key (cnn_dash.run_key)
is already queued, training or finished joins that training: identical runs train once. A training nobody watches
any more (every watcher's `alive` callback has answered False for `orphan_after_s`, default 60 s) is stopped and
dropped from the queue: a browser session's websocket can blink, so one missed poll is not enough.
Each owner's runs, and the checks at the door, are the registry's (cnn_dash.registry).
"""
from __future__ import annotations

import heapq
import os
import statistics
import threading
import time
import weakref
from collections import deque
from typing import Callable

import torch

from cnn_dash.data import load_dataset
from cnn_dash.device import background_priority, cpu_count, default_device
from cnn_dash.estimate import estimate_run
from cnn_dash.limits import default_limits
from cnn_dash.records import Status, summarize
from cnn_dash.training import Training
from cnn_dash.specs import ModelConfig, TrainSettings
from cnn_dash.train import Trainer

GPU_RUNS = 4  # trainings at once on a GPU unless CNN_DASH_MAX_CONCURRENT_RUNS_GPU says otherwise


def train_run(training: Training, threads: int | None = None, device: str | None = None) -> None:
    """Train to the end in this thread, appending its progress to `training.history` and saving every watcher's
    run as it goes; never raises."""
    with training.lock:
        if training.stop_event.is_set():
            return
        training.status, training.started_at, training.threads = Status.RUNNING, time.time(), threads
    training.save(final=True)  # "running" reaches the store at once: a restart from here marks it interrupted
    outcome = Status.FAILED
    try:
        if threads:
            torch.set_num_threads(threads)  # this thread's intra-op threads (OpenMP: per OS thread)
        trainer = Trainer(training.settings, training.models, stop=training.stop_event, device=device)
        training.attach(trainer.data.dataset, trainer.modules)  # loads the data, builds the models
        for record in trainer:
            training.history.append(record)
            training.save()  # every FLUSH_S seconds: a crash loses at most that much of the curves
        stopped = any(r.status == Status.STOPPED for r in summarize(list(training.history)).values())
        outcome = Status.STOPPED if stopped else Status.FINISHED  # a Stop after the last step changes nothing
    except Exception as exc:  # noqa: BLE001 - a failed run is a result to show, not a crash
        training.error = f"{type(exc).__name__}: {exc}"
    finally:
        training.ended_at = time.time()  # the trainer, and with it the run's copy of the images, is gone
        training.save(final=True, status=outcome)  # stored before it shows as ended: whoever sees it ended finds it
        stores = {id(run.store): run.store for run in list(training.watchers) if run.store is not None}
        if stores:
            limits = default_limits()
            for store in stores.values():
                store.evict(limits.max_store_mb * 2**20, limits.max_run_age_days * 86400.0,
                            keep=[run.id for run in list(training.watchers)])
        training.status = outcome


class Scheduler:
    """Runs queued trainings, at most `max_running` at once, each in its own thread with a fair share; a request
    whose key is queued, training or finished gets that training instead of a new one."""

    def __init__(self, max_running: int | None = None, cores: int | None = None, orphan_after_s: float = 60.0,
                 poll_s: float = 1.0, device: str | None = None,
                 estimator: Callable[[Training, int], float] | None = None,
                 lookup: Callable[[str], Training | None] | None = None):
        cores = cores or cpu_count()
        self.device = device or default_device().type
        self.max_running = max(1, max_running or concurrency(self.device, cores))
        self.threads_per_run = max(1, cores // self.max_running)
        self.orphan_after_s, self.poll_s = orphan_after_s, poll_s
        self.estimator = estimator or estimated_seconds
        # Where finished trainings are found beyond this process (a run store shared across restarts and replicas):
        # key -> a finished Training, or None. In-process trainings are found first.
        self.lookup = lookup or (lambda key: None)
        self._queue: list[Training] = []
        self._running: list[Training] = []
        self._by_key: weakref.WeakValueDictionary[str, Training] = weakref.WeakValueDictionary()  # kept by its runs
        self._pace: deque[float] = deque(maxlen=5)  # recent trainings' slot seconds / estimated seconds
        self._lost_since: dict[int, float] = {}  # id(training) -> when its last watcher was first seen gone
        self._lock = threading.Lock()
        self._watchdog: threading.Thread | None = None

    def request(self, settings: TrainSettings, models: tuple[ModelConfig, ...], key: str = "") -> tuple[Training, bool]:
        """The training for `key`, and whether it is one already queued, training or finished (joined); else a new
        one, queued. An empty key never matches. Its limits were checked at the door (RunRegistry)."""
        with self._lock:
            found = self._by_key.get(key) if key else None
            if found is None and key:
                found = self.lookup(key)
                if found is not None and found.status == Status.FINISHED:
                    self._by_key[key] = found
            if found is not None and (found.active or found.status == Status.FINISHED):
                return found, True
            training = Training(settings, models, key)
            if key:
                self._by_key[key] = training
            self._enqueue(training)
        return training, False

    def submit(self, training: Training) -> None:
        """Queue a training; it starts as soon as a slot is free. Its limits were checked at the door (RunRegistry)."""
        with self._lock:
            self._enqueue(training)

    def _enqueue(self, training: Training) -> None:  # with self._lock held
        self._queue.append(training)
        self._dispatch()
        if self._watchdog is None:
            self._watchdog = threading.Thread(target=self._watch, name="run-watchdog", daemon=True)
            self._watchdog.start()

    def position(self, training: Training) -> int | None:
        """1 for the next training to start, 2 after it, ...; None once it is no longer waiting."""
        with self._lock:
            return self._queue.index(training) + 1 if training in self._queue else None

    def counts(self) -> tuple[int, int]:
        """(trainings running, trainings waiting) over the whole server: numbers only, no run is exposed."""
        with self._lock:
            return len(self._running), len(self._queue)

    def start_eta(self, training: Training) -> float | None:
        """Seconds until a waiting training starts (None once it is not waiting): each running one frees its slot
        when what is left of its estimate has passed, then the ones ahead take the first free slot, each for its
        estimate. Estimates are scaled by the pace (the server's load)."""
        with self._lock:
            if training not in self._queue:
                return None
            running, ahead = list(self._running), self._queue[:self._queue.index(training)]
        pace = self.pace()
        free = [self._left(job, pace) for job in running] + [0.0] * (self.max_running - len(running))
        heapq.heapify(free)
        for job in ahead:
            heapq.heappush(free, heapq.heappop(free) + self._expected(job) * pace)
        return free[0]

    def pace(self) -> float:
        """How long recent trainings held their slot against their estimate (median of the last few), else 1: the
        estimate is timed on this machine (bench/bench_estimate.py prints it beside the time measured)."""
        return statistics.median(self._pace) if self._pace else 1.0

    def _expected(self, training: Training) -> float:
        if training.expected_s is None:
            try:
                training.expected_s = self.estimator(training, self.threads_per_run)
            except Exception:  # noqa: BLE001 - no estimate (a model that cannot be built): the ETA leaves it out
                training.expected_s = 0.0
        return training.expected_s

    def _left(self, training: Training, pace: float) -> float:
        """What is left of a running training's slot time: its estimate for the steps not yet done. Its own
        progress rate would extrapolate a slow start (a class pressing at once) over the whole run."""
        fraction, _ = training.progress()
        return self._expected(training) * pace * (1.0 - min(max(fraction, 0.0), 1.0))

    def cancel(self, training: Training, reason: str | None = None) -> None:
        """Take a training out of the queue, or stop it if it is training."""
        with self._lock:
            if training in self._queue:
                self._queue.remove(training)
        training.stop(reason)

    def stop_all(self, reason: str | None = None) -> None:
        """Empty the queue and stop every training (server shutdown, tests)."""
        with self._lock:
            jobs = self._queue + self._running
        for job in jobs:
            self.cancel(job, reason)

    def jobs(self) -> list[Training]:
        """The trainings waiting or running, in that order."""
        with self._lock:
            return self._queue + self._running

    def _dispatch(self) -> None:  # with self._lock held
        while self._queue and len(self._running) < self.max_running:
            training = self._queue.pop(0)
            self._running.append(training)
            threading.Thread(target=self._execute, args=(training,), name="run-training", daemon=True).start()

    def _execute(self, training: Training) -> None:
        background_priority()
        taken = time.monotonic()  # the slot is held from here until it is free again: what the ETA adds up
        try:
            train_run(training, self.threads_per_run, self.device)
        finally:
            finished = training.status == Status.FINISHED and training.started_at is not None
            expected = self._expected(training) if finished else 0.0  # outside the lock: it may time a few steps
            with self._lock:
                self._running.remove(training)
                self._lost_since.pop(id(training), None)
                if expected:
                    self._pace.append((time.monotonic() - taken) / expected)
                self._dispatch()

    def _watch(self) -> None:
        while True:
            time.sleep(self.poll_s)
            self.reap()

    def reap(self, now: float | None = None) -> list[Training]:
        """Stop the trainings nobody has watched for `orphan_after_s` (every watcher's session gone); returns them."""
        now = time.monotonic() if now is None else now
        jobs = self.jobs()
        alive = {id(job): job.alive() for job in jobs}  # callbacks run outside the lock
        orphans = []
        with self._lock:
            for job in jobs:
                if alive[id(job)]:
                    self._lost_since.pop(id(job), None)
                elif now - self._lost_since.setdefault(id(job), now) >= self.orphan_after_s:
                    orphans.append(job)
                    self._lost_since.pop(id(job), None)
        for job in orphans:
            self.cancel(job, "stopped by the server: no page of its browser was open for a minute")
        return orphans


def concurrency(device: str, cores: int) -> int:
    """Trainings at once on this machine: on a GPU CNN_DASH_MAX_CONCURRENT_RUNS_GPU (default 4: small models leave
    it mostly idle, so several share it), on a CPU CNN_DASH_MAX_CONCURRENT_RUNS (default half the cores)."""
    if device == "cuda":
        env = os.environ.get("CNN_DASH_MAX_CONCURRENT_RUNS_GPU", "")
        return int(env) if env.isdigit() and int(env) > 0 else GPU_RUNS
    env = os.environ.get("CNN_DASH_MAX_CONCURRENT_RUNS", "")
    return int(env) if env.isdigit() and int(env) > 0 else cores // 2


def estimated_seconds(training: Training, threads: int) -> float:
    """A training's estimated wall time on this machine (cnn_dash.estimate), on its dataset's sizes."""
    dataset = training.dataset or load_dataset(training.settings.dataset, source=training.settings.source)
    return estimate_run(training.settings, training.models, len(dataset.train_labels), len(dataset.test_labels),
                        threads=threads).seconds


_scheduler: Scheduler | None = None
_scheduler_lock = threading.Lock()


def scheduler() -> Scheduler:
    """The process-wide scheduler every session shares (created on first use)."""
    global _scheduler
    with _scheduler_lock:
        if _scheduler is None:
            _scheduler = Scheduler()
        return _scheduler

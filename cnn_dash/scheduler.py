"""The process-wide queue of trainings and the threads that train them; one registry per owner (a browser).

A training runs in a worker thread owned by the `Scheduler`, never in a page's script thread, so leaving the
page neither stops nor loses it. At most N train at once (on a CPU env CNN_DASH_MAX_CONCURRENT_RUNS, default half
the cores; on a GPU CNN_DASH_MAX_CONCURRENT_RUNS_GPU, default 4), each with the same share of the cores as intra-op
threads; the rest wait in a FIFO queue, each with the time until it starts. A request whose key (cnn_dash.run_key)
is already queued, training or finished joins that training: identical runs train once. A training nobody watches
any more (every watcher's `alive` callback has answered False for `orphan_after_s`, default 60 s) is stopped and
dropped from the queue: a browser session's websocket can blink, so one missed poll is not enough.
The owner is a browser (its owner token), not one session: a reload or a second tab keeps its runs alive.
"""
from __future__ import annotations

import heapq
import os
import statistics
import threading
import time
import uuid
import weakref
from collections import deque
from typing import Callable

import torch

from cnn_dash.data import load_dataset
from cnn_dash.device import default_device
from cnn_dash.limits import Limits, LimitError, check_run, default_limits
from cnn_dash.records import Status, SweepTag, summarize
from cnn_dash.run_key import run_key
from cnn_dash.runs import Run, Training
from cnn_dash.shapes import net_cost
from cnn_dash.specs import ModelConfig, TrainSettings
from cnn_dash.store import RunStore
from cnn_dash.sweep import SweepPlan
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
        self._pace: deque[float] = deque(maxlen=5)  # recent trainings' measured / estimated seconds
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
        """Seconds until a waiting training starts (None once it is not waiting): the running ones end when their
        progress says, or their estimate; then the ones ahead take the first free slot, each for its estimate.
        Estimates are scaled by how long recent trainings took against theirs (the server's load)."""
        with self._lock:
            if training not in self._queue:
                return None
            running, ahead = list(self._running), self._queue[:self._queue.index(training)]
        pace = self.pace(running)
        now = time.time()
        free = [self._left(job, now, pace) for job in running] + [0.0] * (self.max_running - len(running))
        heapq.heapify(free)
        for job in ahead:
            heapq.heappush(free, heapq.heappop(free) + self._expected(job) * pace)
        return free[0]

    def pace(self, running: list[Training] | None = None) -> float:
        """Measured over estimated seconds: of recent trainings (median), else of a running one's progress so far,
        else 1."""
        if self._pace:
            return statistics.median(self._pace)
        for job in running or []:
            fraction, left = job.progress()
            if job.started_at and left is not None and fraction >= 0.1:
                return (time.time() - job.started_at + left) / max(self._expected(job), 1e-3)
        return 1.0

    def _expected(self, training: Training) -> float:
        if training.expected_s is None:
            try:
                training.expected_s = self.estimator(training, self.threads_per_run)
            except Exception:  # noqa: BLE001 - no estimate (a model that cannot be built): the ETA leaves it out
                training.expected_s = 0.0
        return training.expected_s

    def _left(self, training: Training, now: float, pace: float) -> float:
        fraction, left = training.progress()
        if left is not None and fraction >= 0.05:
            return left
        return max(0.0, self._expected(training) * pace - (now - (training.started_at or now)))

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
        try:
            train_run(training, self.threads_per_run, self.device)
        finally:
            finished = training.status == Status.FINISHED and training.started_at is not None
            expected = self._expected(training) if finished else 0.0  # outside the lock: it may time a few steps
            with self._lock:
                self._running.remove(training)
                self._lost_since.pop(id(training), None)
                if expected:
                    self._pace.append((training.ended_at - training.started_at) / expected)
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


def _answers(check: Callable[[], bool]) -> bool:
    """A liveness callback's answer; a broken callback counts as alive (it must not stop anyone's run)."""
    try:
        return bool(check())
    except Exception:  # noqa: BLE001
        return True


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
    from cnn_dash.estimate import estimate_run  # here: cnn_dash.estimate imports this module (background_priority)

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
                self._sessions = {sid: check for sid, check in self._sessions.items() if _answers(check)}
            self._sessions[session_id] = alive
            self.last_seen = time.monotonic()

    def owner_alive(self) -> bool:
        """Whether some session of the owner is still connected (True before any session was seen)."""
        with self._lock:
            checks = list(self._sessions.values())
        return not checks or any(_answers(check) for check in checks)

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
                 sweep: SweepTag | None = None, training: Training | None = None,
                 identical: bool = False) -> Run:  # with self._lock held
        run = Run(settings, models, name=name, alive=self.alive, sweep=sweep, training=training,
                  identical=identical, owner=self.owner, store=self.store)
        if self.store is not None:
            self.store.create(run.stored_record())
            if run.reused:
                run.save(final=True)  # its records and weights, from the earlier run's training
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
        """Queue a new run, or return the one already queued or training (never a duplicate). A run whose key is
        already training (another visitor's identical request) joins it; one whose key has finished gets it."""
        models = tuple(models)
        with self._lock:
            current = self.active()
            if current is not None:
                return current
            if len(self._runs) >= self.max_runs:
                raise LimitError(f"This browser keeps at most {self.max_runs} runs: delete one to train again.")
            check_run(settings, models, self.limits)
            self._check_params(sum(net_cost(m.net)[0] for m in models), "this one")
            training, identical = self.scheduler.request(settings, models, self._key(settings, models))
            self._count += 1
            run = self._new_run(settings, models, f"Run {self._count}", training=training, identical=identical)
        return run

    def _key(self, settings: TrainSettings, models: tuple[ModelConfig, ...]) -> str:
        """The run's key, or "" (never shared) when its data cannot be loaded: the run then fails with the reason."""
        try:
            dataset = load_dataset(settings.dataset, source=settings.source)
        except (OSError, RuntimeError, ValueError):  # DataSourceError among them
            return ""
        return run_key(settings, models, dataset, self.scheduler.threads_per_run, self.scheduler.device)

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
            self.scheduler.submit(run.training)  # in order: the queue trains the sizes one after another
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
        return self.scheduler.position(self.get(run_id).training)

    def start_eta(self, run_id: str) -> float | None:
        """Seconds until one of this session's waiting runs starts, from the estimates of the runs ahead (None
        when not waiting)."""
        return self.scheduler.start_eta(self.get(run_id).training)

    def stop(self, run_id: str) -> None:
        """Stop (or un-queue) one of this session's runs; one that others watch goes on for them, and this run keeps
        what it has shown. A sweep's run stops the whole sweep: its queued runs never start and its training run
        keeps what it has trained, like any stopped run."""
        run = self.get(run_id)
        targets = [run]
        if run.sweep is not None:
            targets = [r for r in self.runs() if r.sweep is not None and r.sweep.id == run.sweep.id and r.active]
            targets.sort(key=lambda r: r.status == Status.RUNNING)  # the queued first: none starts meanwhile
        for target in targets:
            self._stop(target, keep=True)

    def _stop(self, run: Run, keep: bool) -> None:
        if run.active and run.shared:
            run.leave(keep)  # the training goes on for the others
        else:
            self.scheduler.cancel(run.training)  # out of the queue at once, so the places behind it move up

    def delete(self, run_id: str) -> None:
        """Stop a run if needed and forget it, weights and curves included (a sweep's other runs go on, and so does
        a training others watch)."""
        run = self.get(run_id)
        self._stop(run, keep=False)
        run.leave(keep=False)
        with self._lock:
            self._runs.pop(run_id, None)
        if self.store is not None:
            self.store.delete(run_id)

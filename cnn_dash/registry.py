"""The runs of one owner (a browser, by its owner token; or one test): the door every run comes in by.

The registry checks a request against the limits and the owner's caps (one active run at a time, the runs kept, the
parameters kept), asks the process's scheduler (cnn_dash.scheduler) for the training, and keeps the owner's `Run`s,
saved to the store as they train. The owner is a browser, not one session: a reload or a second tab keeps its runs
alive, and the runs of one owner are never reachable through another's registry.
"""
from __future__ import annotations

import threading
import time
import uuid
from typing import Callable

from cnn_dash.data import load_dataset
from cnn_dash.limits import Limits, LimitError, check_run, default_limits
from cnn_dash.records import Status, SweepTag
from cnn_dash.run_key import run_key
from cnn_dash.runs import Run
from cnn_dash.training import Training
from cnn_dash.scheduler import Scheduler, scheduler
from cnn_dash.shapes import net_cost
from cnn_dash.specs import ModelConfig, TrainSettings
from cnn_dash.store import RunStore
from cnn_dash.sweep import SweepPlan


def _answers(check: Callable[[], bool]) -> bool:
    """A liveness callback's answer; a broken callback counts as alive (it must not stop anyone's run)."""
    try:
        return bool(check())
    except Exception:  # noqa: BLE001
        return True


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

    def _number(self) -> int:  # with self._lock held
        """The next run's number: one no kept run's name uses (runs come back from the store, some deleted)."""
        self._count += 1
        while any(r.name == f"Run {self._count}" or r.name.startswith(f"Run {self._count} ·")
                  for r in self._runs.values()):
            self._count += 1
        return self._count

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
            run = self._new_run(settings, models, f"Run {self._number()}", training=training, identical=identical)
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
                runs.append(self._new_run(settings, plan.models, f"Run {self._number()} · sweep {number}, "
                                          f"{images:,} images", SweepTag(sweep_id, number, index, count, images)))
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

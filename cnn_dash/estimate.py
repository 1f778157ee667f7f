"""How long a run will take on this machine, from a few training steps timed on random input (not a constant):
the page shows it before Train."""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from cnn_dash.build import build_model
from cnn_dash.data import normalize
from cnn_dash.device import background_priority
from cnn_dash.inference import placed
from cnn_dash.limits import FULL_TRAIN_SET
from cnn_dash.metrics import EVAL_BATCH
from cnn_dash.specs import ModelConfig, NetSpec, OptimizerSpec, TrainSettings, batches_per_epoch
from cnn_dash.sweep import SweepPlan
from cnn_dash.train import make_optimizer

TEST_SET = 10_000  # both datasets' full test sets
MEASURE_S = 0.4  # time spent measuring one (net, batch), after one warm-up step
RUN_START_S = 0.0  # a run's own start and end beyond its models' (measured: bench/bench_estimate.py)


@dataclass(frozen=True)
class StepTime:
    """One network's measured cost: seconds per training step at a batch size, and per test image."""

    train_step_s: float
    eval_image_s: float
    start_s: float = 0.0  # the first step's extra time (allocations, kernel choice): once per model and run


@dataclass(frozen=True)
class RunEstimate:
    """A run's estimated wall time, split into training steps and test evaluations."""

    seconds: float
    train_s: float  # the models' steps, their first-step start-up included
    eval_s: float
    steps: int  # optimizer steps per model


_measured: dict[tuple, StepTime] = {}  # (net, batch size, optimizer, threads) -> its step time, this process
MAX_MEASURED = 64
# One timing at a time, in the whole process: 30 visitors asking at once wait for one measurement (30 concurrent
# ones took 2.9 s of each visitor's page run on 2 cores, and timed each other's contention, not a step).
_timing = threading.Lock()
_priming: set[tuple] = set()  # keys a background thread (prime) is about to time


def step_time(net: NetSpec, batch_size: int, optimizer: OptimizerSpec = OptimizerSpec(),
              threads: int | None = None) -> StepTime:
    """Time a few training steps of `net` on random input of `batch_size` images, in a thread of its own with
    `threads` intra-op threads as a run gets them (kept per process: the machine does not change between
    two clicks)."""
    key = (net, batch_size, optimizer, threads or None)
    if key in _measured:
        return _measured[key]
    with _timing:
        if key not in _measured:  # not timed meanwhile by whoever held the lock
            _measured[key] = _measure_in_background(net, batch_size, optimizer, threads or None)
            if len(_measured) > MAX_MEASURED:
                _measured.pop(next(iter(_measured)), None)  # the oldest
        return _measured[key]


def _measure_in_background(net: NetSpec, batch_size: int, optimizer: OptimizerSpec,
                           threads: int | None) -> StepTime:
    out: list[StepTime] = []

    def measure() -> None:
        background_priority()  # the priority a run trains at: on a busy server both get the same share
        out.append(_measure(net, batch_size, optimizer, threads))

    worker = threading.Thread(target=measure, name="step-timer", daemon=True)
    worker.start()
    worker.join()
    if not out:
        raise RuntimeError(f"could not time a training step of {net.name}")
    return out[0]


def prime(models: tuple[ModelConfig, ...] | list[ModelConfig], batch_size: int, threads: int | None = None) -> None:
    """Time these models' steps now in a background thread, unless they are timed already or about to be, so that
    a later estimate (the Quick demo's, pressed by a class at once) returns at once; returns without waiting."""
    keys = {(m.net, batch_size, m.optimizer, threads or None): m for m in models}
    todo = {key: m for key, m in keys.items() if key not in _measured and key not in _priming}
    if not todo:
        return
    _priming.update(todo)  # two page runs racing here may both start a thread: the second finds them timed

    def work() -> None:
        for key, m in todo.items():
            try:
                step_time(m.net, batch_size, m.optimizer, threads)
            except Exception:  # noqa: BLE001 - a net that cannot be built: its page says why when it asks
                pass
            finally:
                _priming.discard(key)

    threading.Thread(target=work, name="step-timer-prime", daemon=True).start()


def timing_under_way() -> bool:
    """True while some step timing runs: an estimate not yet measured would wait for it (a page run should not)."""
    return _timing.locked()


def is_measured(settings: TrainSettings, models: tuple[ModelConfig, ...] | list[ModelConfig],
                threads: int | None = None) -> bool:
    """True when `estimate_run` has every step time it needs already, so it returns at once (no timing)."""
    return all((m.net, settings.batch_size, m.optimizer, threads or None) in _measured for m in models)


def _measure(net: NetSpec, batch_size: int, optimizer: OptimizerSpec, threads: int | None) -> StepTime:
    if threads:
        torch.set_num_threads(threads)  # this thread's only (OpenMP: per OS thread), as the scheduler does
    start = time.perf_counter()
    model = placed(build_model(net))  # as a run builds and places it (channels-last for a CNN)
    opt = make_optimizer(optimizer, model.parameters())
    pool = torch.randint(0, 256, (4 * batch_size, *net.input_shape[1:]), dtype=torch.uint8)  # (4B, H, W)
    y = torch.randint(0, 10, (batch_size,))
    stats = (0.5, 0.25)

    def batch() -> torch.Tensor:  # as the loop makes one: uint8 images picked by index, then standardised
        x = normalize(pool[torch.randperm(len(pool))[:batch_size]], stats)  # (B, 1, H, W)
        return x if net.input_shape[0] == 1 else x.expand(-1, net.input_shape[0], -1, -1)

    def train_step() -> None:  # as train._Model.step: forward, loss read, backward, step, right answers counted
        logits = model(batch())
        loss = F.cross_entropy(logits, y)
        loss.item()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        int((logits.argmax(1) == y).sum())

    train_step()  # warm-up: first-call allocations and kernel selection
    first_s = time.perf_counter() - start  # with the model's building: once per model and run
    train_s = _timed(train_step)
    model.eval()
    size = min(EVAL_BATCH, len(pool))  # the test set is evaluated in batches of EVAL_BATCH
    with torch.inference_mode():
        eval_s = _timed(lambda: model(normalize(pool[:size], stats)), most=5) / size
    return StepTime(train_s, eval_s, max(0.0, first_s - train_s))


def _timed(fn, budget_s: float = MEASURE_S, most: int = 20) -> float:
    """The median seconds of `fn` over as many calls as fit in `budget_s` (at least 2, at most `most`)."""
    times: list[float] = []
    while len(times) < 2 or (sum(times) < budget_s and len(times) < most):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2]


def estimate_run(settings: TrainSettings, models: tuple[ModelConfig, ...] | list[ModelConfig],
                 train_size: int = FULL_TRAIN_SET, test_size: int = TEST_SET,
                 threads: int | None = None) -> RunEstimate:
    """Estimated seconds for the whole run: every model's steps at the measured step time, plus its test
    evaluations. `train_size` and `test_size` are the dataset's (the subset, if any, is applied here);
    `threads` the intra-op threads a run gets (scheduler().threads_per_run)."""
    images = min(settings.train_subset or train_size, train_size)
    steps = batches_per_epoch(images, settings.batch_size) * settings.epochs
    evals = settings.evals_per_epoch * settings.epochs
    train_s = eval_s = 0.0
    for m in models:
        t = step_time(m.net, settings.batch_size, m.optimizer, threads)
        train_s += steps * t.train_step_s + t.start_s
        eval_s += evals * test_size * t.eval_image_s
    return RunEstimate(RUN_START_S + train_s + eval_s, train_s, eval_s, steps)


def estimate_sweep(plan: SweepPlan, train_size: int = FULL_TRAIN_SET, test_size: int = TEST_SET,
                   threads: int | None = None) -> float:
    """Estimated seconds for a data-efficiency sweep: its runs one after another."""
    return sum(estimate_run(settings, plan.models, train_size, test_size, threads).seconds + RUN_START_S
               for settings in plan.runs) - RUN_START_S


def describe_seconds(seconds: float) -> str:
    """A duration in words a student reads at a glance, fine enough to be within a tenth of it: "about 40 s",
    "about 1 min 10 s" (to 10 s under 10 minutes), "about 14 min", "about 1 h 20 min"."""
    if seconds < 59.5:
        return f"about {max(1, round(seconds))} s"
    if seconds < 595:
        minutes, tens = divmod(round(seconds / 10), 6)
        return f"about {minutes} min {tens * 10} s" if tens else f"about {minutes} min"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"about {minutes} min"
    return f"about {minutes // 60} h {minutes % 60:02d} min"

"""How training uses the cores: which models train together, with how many intra-op threads each.

Three facts, measured on two cores, shape this module:
- The seed CNN trains about 1.6x faster on two intra-op threads than on one, while its FC partner costs a
  thirtieth of it: running them side by side with one thread each leaves a core idle once the FC net is done.
  Cheap models therefore train first and the dear ones follow with all the threads (`plan`).
- Thread counts change float rounding (sums are split differently), so they are fixed from the networks'
  shapes before training, never from timing: the same settings and seed give the same curves.
- libgomp keeps an idle team of worker threads for every thread that ever ran a parallel region, and once it
  counts more threads than cores it stops spinning and sleeps between regions: a 2-thread model then trains
  about 1.6x slower. Heavy one-off work (loading, preparing data) runs in a short-lived thread whose team
  dies with it (`in_fresh_thread`).
"""
from __future__ import annotations

import math
import threading
from typing import Callable, TypeVar

from cnn_dash.specs import NetSpec

ACTIVATION_COST = 28  # multiply-adds one output value costs (pooling, ReLU, memory traffic), fitted on the presets
CHEAP = 1 / 3  # a model costing under this fraction of the dearest one trains first

T = TypeVar("T")


def step_cost(net: NetSpec) -> float:
    """A rough CPU cost of training on one sample: the layers' multiply-adds plus ACTIVATION_COST per output value.

    Fitted on the presets' step times (one thread, batch 64): it ranks them as measured and is within a factor
    of 1.6 of their measured cost ratios, which is all `plan` needs.
    """
    from cnn_dash.shapes import trace

    return float(sum(row.macs + ACTIVATION_COST * math.prod(row.out_shape) for row in trace(net)))


def plan(nets: list[NetSpec] | tuple[NetSpec, ...], threads: int) -> list[tuple[int, int]]:
    """Each model's (phase, intra-op threads): phase 0 trains first, phase 1 once phase 0 has ended.

    Models costing under CHEAP of the dearest are phase 0, the rest phase 1; a phase shares `threads` evenly
    (at least one each). With a speed-up s from doubling a model's threads (1.4-2 for the presets' CNNs),
    cheap-then-dear beats all-at-once when cheap < dear * (1 - 1/s), hence CHEAP = 1/3.
    """
    costs = [step_cost(net) for net in nets]
    phases = [0 if cost < CHEAP * max(costs) else 1 for cost in costs]
    if 0 not in phases:  # all of similar cost: side by side, one phase
        phases = [0] * len(nets)
    sizes = [phases.count(k) for k in (0, 1)]
    return [(p, max(1, threads // sizes[p])) for p in phases]


def in_fresh_thread(fn: Callable[..., T], *args) -> T:
    """fn(*args) in a short-lived thread (the OpenMP team it starts dies with it); its result or its exception."""
    result: list = []

    def call() -> None:
        try:
            result.append(fn(*args))
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            result.append(exc)

    worker = threading.Thread(target=call, name="cnn-dash-oneoff", daemon=True)
    worker.start()
    worker.join()
    if isinstance(result[0], BaseException):
        raise result[0]
    return result[0]

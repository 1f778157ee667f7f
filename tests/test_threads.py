"""The thread plan (fixed from the networks alone) and the short-lived thread for one-off heavy work."""
from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest
import torch

from cnn_dash.presets import PRESETS
from cnn_dash.shapes import trace
from cnn_dash.threads import ACTIVATION_COST, in_fresh_thread, plan, step_cost
from cnn_dash.train import QUICK_DEMO_CNN, ModelConfig, OptimizerSpec, Trainer, TrainSettings

SEED_CNN, SEED_FC = PRESETS["ConvNet + ReLU (CNN notebook)"], PRESETS["FCNet (CNN notebook)"]
LENET, MLP = PRESETS["LeNet-5"], PRESETS["MLP 784-128-10"]


def test_step_cost_counts_multiply_adds_and_outputs_as_torch_shapes_them():
    # The oracle for the multiply-adds (torchinfo) and shapes (torch) is in test_shapes; here the sum.
    rows = trace(LENET)
    outputs = sum(torch.Size(r.out_shape).numel() for r in rows)
    assert step_cost(LENET) == sum(r.macs for r in rows) + ACTIVATION_COST * outputs
    # The ranking measured on two cores (ms per step of 64, one thread): seed CNN 21.5, LeNet 7.5, quick 4.2,
    # MLP 0.9, FCNet 0.5.
    ranked = sorted([SEED_CNN, LENET, QUICK_DEMO_CNN, MLP, SEED_FC], key=step_cost, reverse=True)
    assert ranked == [SEED_CNN, LENET, QUICK_DEMO_CNN, MLP, SEED_FC]


def test_a_cheap_fc_net_trains_first_then_the_cnn_gets_every_thread():
    assert plan([SEED_CNN, SEED_FC], 2) == [(1, 2), (0, 2)]
    assert plan([QUICK_DEMO_CNN, MLP], 4) == [(1, 4), (0, 4)]


def test_models_of_similar_cost_share_the_threads_side_by_side():
    assert plan([LENET, LENET], 2) == [(0, 1), (0, 1)]
    assert plan([LENET, LENET], 8) == [(0, 4), (0, 4)]
    assert plan([SEED_CNN, LENET, SEED_FC, MLP], 2) == [(1, 1), (1, 1), (0, 1), (0, 1)]  # LeNet: 0.5 of the CNN
    assert plan([SEED_CNN, SEED_FC], 1) == [(1, 1), (0, 1)]  # never fewer than one thread


def test_the_plan_depends_on_the_networks_alone():
    assert all(plan([SEED_CNN, MLP, LENET], 2) == plan([SEED_CNN, MLP, LENET], 2) for _ in range(5))


def test_the_trainer_follows_the_plan():
    settings = TrainSettings(train_subset=256, batch_size=64, epochs=1, seed=0, source="bundled")
    sgd = OptimizerSpec("sgd", 0.01, 0.9)
    trainer = Trainer(settings, (ModelConfig("CNN", SEED_CNN, sgd), ModelConfig("FC", SEED_FC, sgd)), threads=2)
    assert trainer.plan == {"CNN": (1, 2), "FC": (0, 2)}
    seen: dict[str, set[int]] = {"CNN": set(), "FC": set()}
    for label, module in trainer.modules.items():
        module.register_forward_pre_hook(lambda mod, args, label=label: seen[label].add(torch.get_num_threads()))
    history = [p.label for p in trainer]
    assert history.index("CNN") > len(history) - history[::-1].index("FC") - 1  # every FC record comes first
    assert seen == {"CNN": {2}, "FC": {2}}


def test_in_fresh_thread_returns_the_result_or_raises_in_the_caller():
    caller = threading.get_ident()
    assert in_fresh_thread(lambda a, b: (a + b, threading.get_ident() != caller), 2, 3) == (5, True)
    with pytest.raises(ZeroDivisionError):
        in_fresh_thread(lambda: 1 / 0)


def _tasks() -> int:
    return len(os.listdir("/proc/self/task"))


def _settle(expected: int, timeout_s: float = 5.0) -> int:
    """The number of threads once it is back to `expected` (pool workers exit asynchronously), or at timeout."""
    deadline = time.monotonic() + timeout_s
    while _tasks() > expected and time.monotonic() < deadline:
        time.sleep(0.05)
    return _tasks()


@pytest.mark.skipif(not Path("/proc/self/task").is_dir() or (os.cpu_count() or 1) < 2, reason="Linux, 2+ cores")
def test_the_openmp_team_of_one_off_work_dies_with_its_thread():
    """The reason in_fresh_thread exists: a thread that ran a parallel region keeps a team of worker threads."""
    def parallel_work() -> int:
        torch.get_num_threads()
        torch.set_num_threads(2)
        torch.ones(4_000_000).add_(1).sum()  # large enough to run in parallel
        return _tasks()  # while this thread lives: its team too

    baseline = _tasks()
    done = threading.Event()
    counted: list[int] = []
    holder = threading.Thread(target=lambda: (counted.append(parallel_work()), done.wait()))
    holder.start()
    while not counted and holder.is_alive():
        time.sleep(0.01)
    teams_linger = counted[0] > baseline + 1  # the holder and at least one idle worker of its team
    done.set()
    holder.join()
    if not teams_linger:
        pytest.skip("torch started no OpenMP team here")
    assert _settle(baseline) == baseline
    assert in_fresh_thread(parallel_work) > baseline + 1
    assert _settle(baseline) == baseline  # nothing is left behind in the caller

"""The queue says how long: each waiting run's start from the estimates of the runs ahead, scaled by the measured
pace; and the device's concurrency (a GPU trains several runs at once), checked on a CPU by monkeypatching."""
from __future__ import annotations

from dataclasses import replace

import pytest
import torch

from cnn_dash.registry import RunRegistry
from cnn_dash.scheduler import Scheduler
from tests.conftest import wait_for_run
from tests.test_runs import LONG, PAIR, TINY, wait_for


def fixed(seconds: float):
    return lambda training, threads: seconds


def test_each_waiting_run_starts_after_the_estimates_ahead_of_it():
    sched = Scheduler(max_running=1, cores=2, estimator=fixed(10.0), poll_s=3600)
    runs = [RunRegistry(sched).start(replace(LONG, seed=i), PAIR) for i in range(4)]
    try:
        wait_for(lambda: runs[0].status == "running")
        etas = [sched.start_eta(r.training) for r in runs]
        pace = sched.pace()
        assert etas[0] is None  # training: no wait
        fraction, _ = runs[0].progress()
        assert etas[1] == pytest.approx(10.0 * pace * (1 - fraction), abs=10.0 * pace * 0.1)  # what is left of it
        assert etas[2] - etas[1] == pytest.approx(10.0 * pace, rel=0.05)
        assert etas[3] - etas[2] == pytest.approx(10.0 * pace, rel=0.05)
        registry = RunRegistry(sched)  # a session sees its own run's wait
        mine = registry.start(replace(LONG, seed=9), PAIR)
        assert registry.start_eta(mine.id) == pytest.approx(etas[3] + 10.0 * pace, rel=0.05)
        sched.cancel(runs[1].training)  # a run ahead leaves: the ones behind start sooner
        assert sched.start_eta(runs[3].training) < etas[3]
    finally:
        sched.stop_all()
        for run in runs:
            wait_for_run(run)


def test_two_slots_take_the_queue_two_at_a_time():
    sched = Scheduler(max_running=2, cores=2, estimator=fixed(10.0), poll_s=3600)
    runs = [RunRegistry(sched).start(replace(LONG, seed=i), PAIR) for i in range(5)]
    try:
        wait_for(lambda: runs[0].status == runs[1].status == "running")
        etas = [sched.start_eta(r.training) for r in runs[2:]]
        pace = sched.pace()
        assert etas[1] - etas[0] == pytest.approx(0, abs=10.0 * pace * 0.6)  # the other slot
        assert etas[2] - etas[0] == pytest.approx(10.0 * pace, rel=0.1)
    finally:
        sched.stop_all()
        for run in runs:
            wait_for_run(run)


def test_the_pace_is_measured_over_estimated_seconds_of_finished_runs():
    sched = Scheduler(max_running=1, cores=2, estimator=fixed(1000.0), poll_s=3600)
    assert sched.pace() == 1.0  # nothing measured yet
    run = wait_for_run(RunRegistry(sched).start(TINY, PAIR))
    took = run.ended_at - run.started_at
    wait_for(lambda: sched.pace() != 1.0)  # the slot is free a moment after the run shows as ended
    assert took / 1000.0 <= sched.pace() <= (took + 1.0) / 1000.0  # the slot: the training and its start and end


def test_a_gpu_trains_several_runs_at_once_and_a_cpu_half_its_cores(monkeypatch):
    monkeypatch.delenv("CNN_DASH_MAX_CONCURRENT_RUNS", raising=False)
    monkeypatch.delenv("CNN_DASH_MAX_CONCURRENT_RUNS_GPU", raising=False)
    monkeypatch.setattr("cnn_dash.scheduler.default_device", lambda: torch.device("cuda"))
    gpu = Scheduler(cores=2)
    assert (gpu.device, gpu.max_running, gpu.threads_per_run) == ("cuda", 4, 1)
    monkeypatch.setenv("CNN_DASH_MAX_CONCURRENT_RUNS_GPU", "6")
    monkeypatch.setenv("CNN_DASH_MAX_CONCURRENT_RUNS", "1")  # the CPU's setting does not apply to a GPU
    assert Scheduler(cores=16).max_running == 6
    monkeypatch.setattr("cnn_dash.scheduler.default_device", lambda: torch.device("cpu"))
    assert (Scheduler(cores=16).device, Scheduler(cores=16).max_running) == ("cpu", 1)
    monkeypatch.delenv("CNN_DASH_MAX_CONCURRENT_RUNS")
    assert Scheduler(cores=8).max_running == 4


def test_runs_train_on_the_schedulers_device(monkeypatch):
    devices = []

    class Spy:
        def __init__(self, settings, models, stop=None, device=None):
            devices.append(device)
            raise RuntimeError("no device here (simulated)")

    monkeypatch.setattr("cnn_dash.scheduler.Trainer", Spy)
    sched = Scheduler(max_running=1, cores=2, device="cuda", poll_s=3600)
    run = wait_for_run(RunRegistry(sched).start(TINY, PAIR))
    assert devices == ["cuda"] and run.status == "failed" and "simulated" in run.error

"""Runs, the per-session registry and the scheduler: queueing, the cap, cancel, isolation, limits, orphans."""
from __future__ import annotations

import csv
import io
import os
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from cnn_dash.data import normalize
from cnn_dash.limits import Limits, LimitError, check_run, describe
from cnn_dash.registry import RunRegistry
from cnn_dash.scheduler import Scheduler
from cnn_dash.shapes import ShapeError
from cnn_dash.records import Progress, Status
from cnn_dash.specs import ModelConfig, NetSpec, OptimizerSpec, TrainSettings
from cnn_dash.train import Trainer, TrainData
from cnn_dash.training import Training
from tests.conftest import wait_for_run
from tests.test_train import FC, PAIR, SMALL, L

TINY = replace(SMALL, epochs=1, evals_per_epoch=1)
LONG = replace(SMALL, train_subset=5000, batch_size=5, epochs=20)  # thousands of steps: it runs until stopped


def wait_for(predicate, timeout: float = 30.0) -> None:
    end = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < end, "condition not reached"
        time.sleep(0.02)


def test_a_run_trains_in_the_background_and_keeps_everything(scheduler):
    registry = RunRegistry(scheduler)
    run = registry.start(TINY, PAIR)
    assert run.status in ("queued", "running")
    wait_for_run(run)
    assert run.status == "finished" and run.error is None and registry.trained() == [run]
    assert {label: r.status for label, r in run.results.items()} == {"CNN": "finished", "FC": "finished"}
    assert run.progress() == (1.0, None)
    # trained_models: fresh modules from the specs with the trained weights, in eval mode
    images, labels = run.test_set()
    assert images.dtype == torch.uint8 and len(labels) == len(run.dataset.test_labels)
    assert not any(isinstance(v, TrainData) for v in vars(run).values())  # its copy of the images is gone
    x = normalize(images[:64], run.dataset)
    for label, model in run.trained_models().items():
        assert not model.training
        trained = run.modules[label].eval()
        with torch.no_grad():
            assert torch.equal(model(x), trained(x))
    # weights download: a state_dict that loads with weights_only=True
    for m in PAIR:
        loaded = torch.load(io.BytesIO(run.weights_file(m.label)), weights_only=True)
        assert all(torch.equal(loaded[k], v) for k, v in run.state_dicts()[m.label].items())
    # curves CSV: one row per record, numbers as recorded
    rows = list(csv.DictReader(io.StringIO(run.curves_csv())))
    assert len(rows) == len(run.history)
    assert [float(r["train_loss_epoch_so_far"]) for r in rows] == [p.train_loss for p in run.history]
    assert [int(r["train_images_epoch_so_far"]) for r in rows] == [p.train_images for p in run.history]
    assert rows[-1]["status"] == "finished" and run.classes == tuple(str(d) for d in range(10))


def test_a_second_train_click_returns_the_run_in_progress(scheduler):
    registry = RunRegistry(scheduler)
    first = registry.start(LONG, PAIR)
    assert registry.start(LONG, PAIR) is first
    assert registry.start(TINY, PAIR) is first  # one run per session trains or waits at a time
    assert registry.runs() == [first]
    registry.stop(first.id)
    wait_for_run(first)
    second = registry.start(TINY, PAIR)
    assert second is not first and registry.runs() == [first, second]


def test_at_most_n_runs_train_and_the_rest_queue_in_order(scheduler):
    a, b, c = (RunRegistry(scheduler) for _ in range(3))
    first, second, third = a.start(LONG, PAIR), b.start(TINY, PAIR), c.start(replace(TINY, seed=1), PAIR)
    wait_for(lambda: first.status == "running")
    assert scheduler.counts() == (1, 2)
    assert (second.status, third.status) == ("queued", "queued")
    assert (a.position(first.id), b.position(second.id), c.position(third.id)) == (None, 1, 2)
    a.stop(first.id)
    wait_for_run(first)
    wait_for_run(second)
    wait_for_run(third)
    assert (first.status, second.status, third.status) == ("stopped", "finished", "finished")
    assert second.started_at < third.started_at  # first in, first out


def test_two_runs_at_once_each_get_a_fair_share_of_threads():
    sched = Scheduler(max_running=2, cores=4)
    assert sched.threads_per_run == 2
    a, b = RunRegistry(sched).start(TINY, PAIR), RunRegistry(sched).start(replace(TINY, seed=1), PAIR)
    wait_for(lambda: a.status == b.status == "running")  # two at once
    wait_for_run(a)
    wait_for_run(b)
    assert a.status == b.status == "finished" and a.threads == b.threads == 2


def test_max_concurrent_runs_from_the_environment(monkeypatch):
    monkeypatch.setenv("CNN_DASH_MAX_CONCURRENT_RUNS", "3")
    sched = Scheduler(cores=6)
    assert (sched.max_running, sched.threads_per_run) == (3, 2)
    monkeypatch.delenv("CNN_DASH_MAX_CONCURRENT_RUNS")
    assert Scheduler(cores=8).max_running == 4 and Scheduler(cores=1).max_running == 1


def test_cancel_a_queued_run_it_never_starts(scheduler):
    a, b = RunRegistry(scheduler), RunRegistry(scheduler)
    first, second = a.start(LONG, PAIR), b.start(TINY, PAIR)
    assert second.status == "queued"
    b.stop(second.id)
    assert second.status == "stopped" and b.position(second.id) is None
    a.stop(first.id)
    wait_for_run(first)
    wait_for(lambda: scheduler.counts() == (0, 0))  # the slot was freed and handed on: to no one
    assert second.started_at is None and second.history == [] and not second.has_weights
    assert b.trained() == []


def test_stop_a_running_run_keeps_what_was_trained(scheduler):
    registry = RunRegistry(scheduler)
    run = registry.start(LONG, PAIR)
    wait_for(lambda: any(p.step >= 10 for p in run.history))
    registry.stop(run.id)
    wait_for_run(run)
    assert run.status == "stopped" and registry.trained() == [run]
    last = {p.label: p for p in run.history}
    assert all(p.status == "stopped" and 0 < p.step < p.total_steps for p in last.values())
    assert set(run.trained_models()) == {"CNN", "FC"}


def test_a_session_cannot_see_or_control_another_sessions_runs(scheduler):
    mine, theirs = RunRegistry(scheduler), RunRegistry(scheduler)
    their_run = theirs.start(LONG, PAIR)
    assert mine.runs() == [] and mine.active() is None
    for action in (mine.get, mine.stop, mine.delete, mine.position):
        with pytest.raises(KeyError):
            action(their_run.id)
    assert their_run.active and not their_run.stop_event.is_set()
    assert mine.start(TINY, PAIR) is not their_run  # their run does not block mine either
    theirs.stop(their_run.id)


def test_delete_stops_and_forgets_a_run(scheduler):
    registry = RunRegistry(scheduler)
    run = registry.start(LONG, PAIR)
    registry.delete(run.id)
    wait_for_run(run)
    assert registry.runs() == [] and run.status == "stopped"
    with pytest.raises(KeyError):
        registry.get(run.id)


def test_a_session_keeps_a_bounded_number_of_runs_and_weights(scheduler, monkeypatch):
    registry = RunRegistry(scheduler, max_runs=2)
    for _ in range(2):
        wait_for_run(registry.start(TINY, PAIR))
    with pytest.raises(LimitError, match="at most 2 runs"):
        registry.start(TINY, PAIR)
    from cnn_dash.presets import PRESETS

    big = (ModelConfig("big", PRESETS["Two-block 5×5 CNN (2020 tutorial)"]),)  # 3.2 M parameters
    registry = RunRegistry(scheduler, limits=replace(Limits(), max_session_params=5_000_000))
    first = registry.start(replace(TINY, batch_size=100), big)
    registry.stop(first.id)
    wait_for_run(first)
    with pytest.raises(LimitError, match="Delete a run"):
        registry.start(TINY, big)
    registry.delete(first.id)
    registry.stop(registry.start(TINY, big).id)


def test_a_run_whose_session_is_gone_is_stopped_after_the_grace_period():
    sched = Scheduler(max_running=1, cores=2, orphan_after_s=60, poll_s=3600)  # the test drives the clock
    alive = {"flag": True}
    registry = RunRegistry(sched, alive=lambda: alive["flag"])
    run = registry.start(LONG, PAIR)
    queued = RunRegistry(sched, alive=lambda: False).start(TINY, PAIR)
    assert sched.reap(now=0.0) == []  # the queued run's owner is gone: noted, not yet stopped
    alive["flag"] = False
    assert sched.reap(now=30.0) == [] and run.active  # a websocket blink is not a closed tab
    assert sched.reap(now=61.0) == [queued.training]
    assert sched.reap(now=91.0) == [run.training]
    wait_for_run(run)
    assert run.status == "stopped" and "no page of its browser was open" in run.error
    assert queued.status == "stopped" and queued.started_at is None


def test_an_owner_that_comes_back_keeps_its_run():
    sched = Scheduler(max_running=1, cores=2, poll_s=3600)
    alive = {"flag": False}
    run = RunRegistry(sched, alive=lambda: alive["flag"]).start(LONG, PAIR)
    sched.reap(now=0.0)
    alive["flag"] = True
    sched.reap(now=50.0)
    alive["flag"] = False
    assert sched.reap(now=100.0) == []  # the clock restarted when the owner came back
    sched.cancel(run.training)
    wait_for_run(run)


BIG = NetSpec("wide convs", (L("Conv2d", out_channels=64, kernel_size=3, padding=1), L("ReLU"),
                              L("Conv2d", out_channels=64, kernel_size=3, padding=1), L("ReLU"),
                              L("Flatten"), L("Linear", out_features=10)))

MID = NetSpec("mid convs", (L("Conv2d", out_channels=32, kernel_size=5, padding=2), L("ReLU"),  # 0.6 M MACs
                             L("Conv2d", out_channels=8, kernel_size=3, padding=1), L("ReLU"),  # 1.8 M MACs
                             L("Flatten"), L("Linear", out_features=10)))


@pytest.mark.parametrize("settings, models, message", [
    (replace(TINY, epochs=0), PAIR, "Epochs must be between 1 and 20"),
    (replace(TINY, epochs=10**9), PAIR, "Epochs must be between 1 and 20"),
    (replace(TINY, batch_size=0), PAIR, "Batch size must be between 1 and 1024"),
    (replace(TINY, batch_size=10**6), PAIR, "Batch size"),
    (replace(TINY, train_subset=5), PAIR, "training subset must be between 100"),
    (replace(TINY, train_subset=10**9), PAIR, "training subset"),
    (replace(TINY, seed=-1), PAIR, "seed"),
    (replace(TINY, evals_per_epoch=0), PAIR, "evaluations per epoch"),
    (TINY, PAIR * 3, "1 to 4 models"),
    (TINY, (), "1 to 4 models"),
    (TINY, (PAIR[0], replace(PAIR[1], label="CNN")), "its own non-empty name"),
    (TINY, (replace(PAIR[0], optimizer=OptimizerSpec("sgd", 0.0)),), "learning rate must be above 0"),
    (TINY, (replace(PAIR[0], optimizer=OptimizerSpec("sgd", 1e6)),), "at most 10"),
    (TINY, (replace(PAIR[0], optimizer=OptimizerSpec("sgd", 0.1, 1.0)),), "momentum"),
    (TINY, (replace(PAIR[0], optimizer=OptimizerSpec("rmsprop", 0.1)),), "SGD or Adam"),
    (replace(TINY, train_subset=None), (ModelConfig("big", BIG),), "billion multiply-adds per epoch"),
    (replace(TINY, train_subset=None, epochs=20), (ModelConfig("mid", MID),), "in all"),
])
def test_limits_reject_oversize_requests_with_a_message(settings, models, message, scheduler):
    with pytest.raises(LimitError, match=message):
        check_run(settings, models)
    registry = RunRegistry(scheduler)
    with pytest.raises(LimitError, match=message):
        registry.start(settings, models)
    assert registry.runs() == [] and scheduler.counts() == (0, 0)


def test_a_train_click_checks_the_limits_once_at_the_door(scheduler, limit_checks):
    run = wait_for_run(RunRegistry(scheduler).start(TINY, PAIR))
    assert run.status == "finished" and limit_checks == [(TINY, PAIR)]


def test_the_engine_trusts_its_input():
    over = replace(TINY, epochs=10_000)  # far over every limit: the door refuses it, the engine does not ask
    assert Trainer(over, PAIR).total_steps == 10_000 * Trainer(TINY, PAIR).total_steps


def test_an_invalid_network_is_refused_with_the_shape_message():
    broken = NetSpec("broken", (L("Conv2d", out_channels=4, kernel_size=40), L("Flatten"),
                                L("Linear", out_features=10)))
    with pytest.raises(ShapeError, match="layer 1"):
        check_run(TINY, (ModelConfig("broken", broken),))


def test_the_limits_are_explained_and_allow_the_seed_tutorials():
    from cnn_dash.presets import PRESETS
    from cnn_dash.presets import quick_demo

    assert len(describe()) >= 4 and any("epochs" in line for line in describe())
    full = TrainSettings(epochs=1)  # all 60,000 images
    check_run(full, tuple(ModelConfig(name, net) for name, net in list(PRESETS.items())[:4]))
    check_run(*quick_demo())
    assert Limits().max_params >= 3_199_106  # the 2020 tutorial's CNN


def test_a_failing_run_is_marked_failed_with_its_message(scheduler, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("out of memory (simulated)")

    monkeypatch.setattr("cnn_dash.scheduler.Trainer", boom)
    run = RunRegistry(scheduler).start(TINY, PAIR)
    wait_for_run(run)
    assert run.status == "failed" and "out of memory (simulated)" in run.error
    assert run.state_dicts() == {} and run.trained_models() == {}


def test_models_are_also_checked_with_fc_nets_of_odd_sizes():
    odd = NetSpec("odd", (L("Flatten"), L("Linear", out_features=1), L("Linear", out_features=10)))
    check_run(TINY, (ModelConfig("odd", odd), ModelConfig("fc", FC)))


@pytest.mark.skipif(not hasattr(os, "setpriority") or not Path("/proc").is_dir(), reason="per-thread nice: Linux")
def test_training_threads_run_at_a_lower_priority_than_the_pages(scheduler, monkeypatch):
    """The thread that trains a run is niced below the server's own threads."""
    seen: list[int] = []
    original = Trainer._loop

    def spy(self):
        seen.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))  # the training loop's thread
        yield from original(self)

    monkeypatch.setattr(Trainer, "_loop", spy)
    base = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    run = RunRegistry(scheduler).start(TINY, PAIR)
    wait_for_run(run)
    assert run.status == "finished" and len(seen) == 1
    assert all(nice == min(19, base + 10) for nice in seen)
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == base  # the caller's own is untouched


def test_a_reload_is_not_a_closed_tab_the_owners_last_session_is():
    sched = Scheduler(max_running=1, cores=2, orphan_after_s=60, poll_s=3600)  # the test drives the clock
    first, second = {"open": True}, {"open": True}
    registry = RunRegistry(sched)  # an owner's registry: its runs live while some session of the owner does
    registry.seen("tab-1", lambda: first["open"])
    run = registry.start(LONG, PAIR)
    first["open"] = False  # F5: this session ends...
    registry.seen("tab-2", lambda: second["open"])  # ...and the reloaded page is a new session of the same owner
    assert sched.reap(now=0.0) == [] and sched.reap(now=100.0) == [] and run.active
    second["open"] = False  # the last tab is closed
    assert sched.reap(now=200.0) == [] and sched.reap(now=261.0) == [run.training]
    wait_for_run(run)


def test_time_left_is_the_pace_since_the_first_record_not_since_the_start():
    """The first steps build and warm up the models: a run whose first record came after 0.5 s at step 8, then
    one step every 10 ms, has 260 × 10 ms left at step 116 — not 0.5 s / 8 steps per step from the start."""
    training = Training(SMALL, PAIR[:1])
    training.status = Status.RUNNING
    label = PAIR[0].label

    def record(step: int, elapsed: float) -> Progress:
        return Progress(label, step, 376, step / 188, 0.5, 0.8, 1000.0, elapsed)

    training.history.append(record(8, 0.5))
    assert training.progress() == (8 / 376, None)  # one record, no estimate: no time said
    training.expected_s = 4.0
    assert training.progress()[1] == pytest.approx(4.0 * (1 - 8 / 376))  # the estimate for what is left
    training.history.append(record(116, 1.58))
    fraction, left = training.progress()
    assert fraction == 116 / 376 and left == pytest.approx(0.01 * 260)

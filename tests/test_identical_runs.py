"""Identical requests train once: a run's key, joining a training, getting a finished one, leaving it to the others;
the numbers a joined or reused run shows are those of a fresh run."""
from __future__ import annotations

import dataclasses
from dataclasses import replace

import torch

from cnn_dash.data import load_dataset
from cnn_dash.records import Status
from cnn_dash.registry import RunRegistry
from cnn_dash.run_key import run_key
from cnn_dash.scheduler import Scheduler
from cnn_dash.specs import OptimizerSpec
from tests.conftest import wait_for_run
from tests.test_runs import LONG, PAIR, TINY, wait_for

TIMING = ("samples_per_s", "elapsed_s")  # wall-clock fields: the only ones two computations may differ in


def numbers(run) -> list[tuple]:
    """A run's records without their timings."""
    return [tuple(getattr(p, f.name) for f in dataclasses.fields(p) if f.name not in TIMING) for p in run.history]


def same_weights(a, b) -> bool:
    wa, wb = a.state_dicts(), b.state_dicts()
    return wa.keys() == wb.keys() and all(
        wa[label].keys() == wb[label].keys() and all(torch.equal(wa[label][k], wb[label][k]) for k in wa[label])
        for label in wa)


def test_the_key_changes_with_everything_that_changes_the_numbers():
    data = load_dataset("MNIST", source="bundled")
    key = run_key(TINY, PAIR, data, 1, "cpu")
    assert key == run_key(TINY, tuple(PAIR), data, 1, "cpu")
    lr = (replace(PAIR[0], optimizer=OptimizerSpec("sgd", 0.02, 0.9)), PAIR[1])
    others = {run_key(replace(TINY, seed=1), PAIR, data, 1, "cpu"), run_key(replace(TINY, batch_size=16), PAIR, data,
              1, "cpu"), run_key(TINY, lr, data, 1, "cpu"), run_key(TINY, PAIR[::-1], data, 1, "cpu"),
              run_key(TINY, PAIR, data, 2, "cpu"), run_key(TINY, PAIR, data, 1, "cuda"),
              run_key(TINY, PAIR, replace(data, source_kind="data_dir", source="a folder"), 1, "cpu")}
    assert key not in others and len(others) == 7


def test_a_joined_and_a_reused_run_show_the_numbers_of_a_fresh_run(scheduler):
    first, second, third = (RunRegistry(scheduler) for _ in range(3))
    original = first.start(TINY, PAIR)
    joined = second.start(TINY, PAIR)  # while the first trains (or waits)
    assert joined.training is original.training and joined.identical and not joined.reused
    assert scheduler.counts()[0] + scheduler.counts()[1] == 1  # one training for the two
    wait_for_run(original)
    reused = third.start(TINY, PAIR)
    assert reused.status == Status.FINISHED and reused.identical and reused.reused  # at once, not queued
    assert "the same numbers as an earlier run" in reused.identical_note
    fresh = RunRegistry(Scheduler(max_running=1, cores=2)).start(TINY, PAIR)  # another server: trained again
    wait_for_run(fresh)
    assert fresh.training is not original.training and not fresh.identical
    for run in (original, joined, reused):
        assert run.status == Status.FINISHED and numbers(run) == numbers(fresh) and same_weights(run, fresh)
    assert [r.name for r in (original, joined, reused)] == ["Run 1"] * 3  # each is its visitor's own


def test_stop_on_a_joined_run_leaves_the_training_to_the_others(scheduler):
    mine, theirs = RunRegistry(scheduler), RunRegistry(scheduler)
    their_run = theirs.start(LONG, PAIR)
    my_run = mine.start(LONG, PAIR)
    assert my_run.training is their_run.training
    wait_for(lambda: any(p.step >= 5 for p in their_run.history))
    mine.stop(my_run.id)
    assert my_run.status == Status.STOPPED and their_run.active and not their_run.stop_event.is_set()
    kept = len(my_run.history)
    assert kept > 0 and my_run.has_weights and set(my_run.trained_models()) == {"CNN", "FC"}
    assert {p.label: p.status for p in my_run.history} == {"CNN": Status.STOPPED, "FC": Status.STOPPED}
    wait_for(lambda: len(their_run.history) > kept + 2)
    assert len(my_run.history) == kept  # what I saw, no longer changing
    assert numbers(my_run)[:-2] == numbers(their_run)[:kept - 2]
    theirs.stop(their_run.id)  # the last one watching: the training stops
    wait_for_run(their_run)
    assert their_run.status == Status.STOPPED


def test_deleting_a_joined_run_leaves_the_training_to_the_others(scheduler):
    mine, theirs = RunRegistry(scheduler), RunRegistry(scheduler)
    their_run, my_run = theirs.start(LONG, PAIR), mine.start(LONG, PAIR)
    mine.delete(my_run.id)
    assert mine.runs() == [] and their_run.active and not their_run.shared
    theirs.delete(their_run.id)
    wait_for_run(their_run)
    assert scheduler.counts() == (0, 0)


def test_a_shared_training_is_an_orphan_only_when_every_watcher_is_gone():
    sched = Scheduler(max_running=1, cores=2, orphan_after_s=60, poll_s=3600)  # the test drives the clock
    alive = {"a": True, "b": True}
    a = RunRegistry(sched, alive=lambda: alive["a"]).start(LONG, PAIR)
    b = RunRegistry(sched, alive=lambda: alive["b"]).start(LONG, PAIR)
    alive["a"] = False
    assert sched.reap(now=0.0) == [] and sched.reap(now=100.0) == [] and b.active
    alive["b"] = False
    sched.reap(now=200.0)
    assert sched.reap(now=300.0) == [a.training]
    wait_for_run(b)
    assert "no page of its browser" in b.error


def test_a_stopped_or_failed_training_is_not_reused(scheduler):
    registry = RunRegistry(scheduler)
    run = registry.start(LONG, PAIR)
    registry.stop(run.id)
    wait_for_run(run)
    again = RunRegistry(scheduler).start(LONG, PAIR)
    assert again.training is not run.training and not again.identical
    scheduler.cancel(again.training)
    wait_for_run(again)


def test_a_finished_training_from_elsewhere_is_found_by_its_key(scheduler):
    """The seam for a run store shared across restarts: the scheduler asks `lookup(key)` when this process has no
    training with that key, and serves a finished one like its own."""
    trained = wait_for_run(RunRegistry(scheduler).start(TINY, PAIR))
    keys = []

    def lookup(key):
        keys.append(key)
        return trained.training if key == trained.training.key else None

    elsewhere = Scheduler(max_running=1, cores=2, lookup=lookup)  # a restarted server, or another replica
    run = RunRegistry(elsewhere).start(TINY, PAIR)
    assert keys == [trained.training.key] and run.reused and run.status == Status.FINISHED
    assert numbers(run) == numbers(trained) and same_weights(run, trained)
    other = RunRegistry(elsewhere).start(replace(TINY, seed=5), PAIR)  # unknown key: trained here
    assert not other.identical and other.active
    elsewhere.cancel(other.training)
    wait_for_run(other)

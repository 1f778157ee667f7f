"""The run-time estimate: measured step times (not a constant), scaled by steps and evaluations. How close it
comes to a real run is a timing, so bench/reproduce_tutorial.py prints both rather than a test asserting it."""
from __future__ import annotations

import threading
import time
from dataclasses import replace

import pytest

from cnn_dash.estimate import RunEstimate, describe_seconds, estimate_run, is_measured, prime, step_time
from cnn_dash.presets import PRESETS
from cnn_dash.specs import ModelConfig, OptimizerSpec, TrainSettings

MODELS = (ModelConfig("LeNet-5", PRESETS["LeNet-5"], OptimizerSpec("sgd", 0.05, 0.9)),
          ModelConfig("MLP", PRESETS["MLP 784-128-10"], OptimizerSpec("adam", 0.002)))
RUN = TrainSettings(train_subset=1200, batch_size=64, epochs=1, seed=1, source="bundled")


def test_a_step_time_is_measured_once_per_net_and_batch():
    net = PRESETS["LeNet-5"]
    first = step_time(net, 32)
    assert first.train_step_s > 0 and first.eval_image_s > 0
    assert step_time(net, 32) is first and step_time(net, 32, threads=None) is first  # cached in the process
    assert step_time(net, 16) is not first


def test_is_measured_says_whether_an_estimate_would_time_steps(monkeypatch):
    calls = []
    real = __import__("cnn_dash.estimate", fromlist=["_measure"])._measure
    monkeypatch.setattr("cnn_dash.estimate._measure", lambda *a: calls.append(a) or real(*a))
    settings = replace(RUN, batch_size=48)  # a batch size no other test times
    assert not is_measured(settings, MODELS)
    estimate_run(settings, MODELS, train_size=10_000, test_size=2_000)
    assert len(calls) == 2 and is_measured(settings, MODELS)
    estimate_run(settings, MODELS, train_size=10_000, test_size=2_000)
    assert len(calls) == 2  # nothing timed again
    assert not is_measured(settings, MODELS, threads=7)


def test_the_estimate_scales_with_epochs_images_and_evaluations():
    one = estimate_run(RUN, MODELS, train_size=10_000, test_size=2_000)
    assert one.steps == 19 and one.seconds == pytest.approx(one.train_s + one.eval_s)
    start = sum(step_time(m.net, 64, m.optimizer).start_s for m in MODELS)  # once per run, not per epoch
    three = estimate_run(replace(RUN, epochs=3), MODELS, train_size=10_000, test_size=2_000)
    assert three.steps == 57 and three.seconds - start == pytest.approx(3 * (one.seconds - start))
    double = estimate_run(replace(RUN, train_subset=2400), MODELS, train_size=10_000, test_size=2_000)
    assert double.steps == 38 and double.train_s - start == pytest.approx(2 * (one.train_s - start))
    assert double.eval_s == pytest.approx(one.eval_s)  # the test set does not grow with the subset
    evals = estimate_run(replace(RUN, evals_per_epoch=4), MODELS, train_size=10_000, test_size=2_000)
    assert evals.eval_s == pytest.approx(4 * one.eval_s) and evals.train_s == pytest.approx(one.train_s)
    whole = estimate_run(replace(RUN, train_subset=None), MODELS, train_size=10_000, test_size=2_000)
    assert whole.steps == 157  # no subset: the whole training set
    alone = estimate_run(RUN, MODELS[:1], train_size=10_000, test_size=2_000)
    assert alone.seconds < one.seconds  # every model's steps count


def test_durations_read_at_a_glance():
    assert describe_seconds(0.2) == "about 1 s" and describe_seconds(42.4) == "about 42 s"
    assert describe_seconds(59.4) == "about 59 s" and describe_seconds(60) == "about 1 min"
    assert describe_seconds(70) == "about 1 min 10 s" and describe_seconds(6 * 60 + 10) == "about 6 min 10 s"
    assert describe_seconds(12 * 60 + 10) == "about 12 min"
    assert describe_seconds(80 * 60) == "about 1 h 20 min" and describe_seconds(3 * 3600 + 5 * 60) == "about 3 h 05 min"
    assert isinstance(estimate_run(RUN, MODELS[1:], 1200, 100), RunEstimate)


def read_back(text: str) -> float:
    """The seconds a reader takes from "about 1 h 05 min", "about 1 min 10 s", "about 42 s"."""
    units = {"h": 3600, "min": 60, "s": 1}
    words = text.removeprefix("about ").split()
    return sum(int(number) * units[unit] for number, unit in zip(words[::2], words[1::2]))


def test_a_duration_in_words_is_within_a_tenth_of_it_from_5_s_up():
    """The queue's "starts in about N s" must be fine enough for an ETA within ±35%: no "about 1 min" for 45-90 s."""
    for seconds in [5 + 0.37 * i for i in range(30_000)]:  # 5 s to about 3 h
        assert abs(read_back(describe_seconds(seconds)) - seconds) <= 0.1 * seconds, seconds


def test_a_class_asking_at_once_waits_for_one_timing(monkeypatch):
    """30 visitors asking for the same estimate at once: one measurement, not 30 (which would each take 30 times as
    long on a shared CPU, and time each other's contention)."""
    calls = []
    real = __import__("cnn_dash.estimate", fromlist=["_measure"])._measure
    monkeypatch.setattr("cnn_dash.estimate._measure", lambda *a: calls.append(a) or real(*a))
    net, out = PRESETS["MLP 784-128-10"], []
    askers = [threading.Thread(target=lambda: out.append(step_time(net, 40))) for _ in range(30)]
    for asker in askers:
        asker.start()
    for asker in askers:
        asker.join()
    assert len(calls) == 1 and len(out) == 30 and all(t is out[0] for t in out)


def test_priming_times_in_the_background_once(monkeypatch):
    calls = []
    real = __import__("cnn_dash.estimate", fromlist=["_measure"])._measure
    monkeypatch.setattr("cnn_dash.estimate._measure", lambda *a: calls.append(a) or real(*a))
    settings = replace(RUN, batch_size=24)  # a batch size no other test times
    prime(MODELS, 24)
    end = time.monotonic() + 60
    while not is_measured(settings, MODELS) and time.monotonic() < end:
        time.sleep(0.05)
    assert is_measured(settings, MODELS) and len(calls) == 2
    prime(MODELS, 24)
    estimate_run(settings, MODELS, train_size=10_000, test_size=2_000)
    assert len(calls) == 2  # nothing timed again

"""The data-efficiency sweep: sizes, per-size settings, ordinary runs through the queue, stop, limits, chart."""
from __future__ import annotations

import math
import subprocess
import sys
from dataclasses import replace

import pandas as pd
import pytest
import torch
from sklearn.metrics import accuracy_score

from cnn_dash.data import normalize
from cnn_dash.limits import Limits, LimitError, check_run
from cnn_dash.plots.sweep import sweep_figure
from cnn_dash.registry import RunRegistry
from cnn_dash.shapes import net_cost
from cnn_dash.specs import ModelConfig
from cnn_dash.sweep import (SweepError, fc_level_or_ahead, images_to_match, plan_sweep, sweep_frame, sweep_models,
                            sweep_runs, sweep_sizes)
from cnn_dash.train import prepare_data
from tests.conftest import ROOT, wait_for_run
from tests.test_runs import LONG, TINY, wait_for
from tests.test_train import FC, PAIR, SMALL

BUNDLED = 10_000  # training images of the bundled sample
FORM = replace(SMALL, train_subset=2_000, batch_size=64, epochs=2, seed=7, evals_per_epoch=3, lr_decay=True)
QUICK = replace(TINY, epochs=1)
TWO_SIZES = Limits(max_train_subset=300)  # sizes 100 and 300


def quick_plan(limits: Limits = TWO_SIZES, settings=QUICK, min_steps: int = 1):
    return plan_sweep(settings, PAIR, BUNDLED, limits, min_steps=min_steps)


def test_sizes_are_clipped_to_the_dataset_and_the_limits():
    assert sweep_sizes(BUNDLED, Limits()) == (100, 300, 1_000, 3_000, 10_000)
    assert sweep_sizes(60_000, Limits()) == (100, 300, 1_000, 3_000, 10_000, 60_000)
    assert sweep_sizes(60_000, Limits(min_train_subset=500, max_train_subset=5_000)) == (1_000, 3_000, 5_000)
    assert sweep_sizes(250, Limits()) == (100, 250)
    assert sweep_sizes(50, Limits()) == ()
    with pytest.raises(SweepError, match="fewer than the 100 a run needs"):
        plan_sweep(FORM, PAIR, 50, Limits())


def test_the_sweep_takes_the_first_cnn_and_the_first_fc_net_or_says_which_is_missing():
    cnn2, fc2 = replace(PAIR[0], label="CNN 2"), replace(PAIR[1], label="FC 2")
    assert sweep_models([PAIR[1], PAIR[0], fc2, cnn2]) == (PAIR[0], PAIR[1])
    with pytest.raises(SweepError, match="none of the models is a CNN"):
        sweep_models([PAIR[1], fc2])
    with pytest.raises(SweepError, match="none of the models is an FC net"):
        sweep_models([PAIR[0], cnn2])


def test_each_size_keeps_the_forms_settings_and_small_ones_get_more_epochs():
    plan = plan_sweep(FORM, [PAIR[1], PAIR[0]], BUNDLED, Limits())
    assert plan.models == (PAIR[0], PAIR[1]) and plan.skipped == ()
    assert plan.sizes == (100, 300, 1_000, 3_000, 10_000)
    # steps per epoch in batches of 64: 2, 5, 16, 47, 157; enough epochs for 500 steps, at most 20, at least 2
    assert [s.epochs for s in plan.runs] == [20, 20, 20, 11, 4]
    for images, s in zip(plan.sizes, plan.runs):
        assert replace(s, train_subset=FORM.train_subset, epochs=FORM.epochs, evals_per_epoch=3) == FORM
        assert s.train_subset == images and s.evals_per_epoch == 1
        steps = math.ceil(images / 64)
        assert s.epochs * steps >= 500 or s.epochs == 20
        assert (s.epochs - 1) * steps < 500 or s.epochs == FORM.epochs  # no more epochs than the rule needs
        check_run(s, plan.models, Limits())
    assert plan_sweep(replace(FORM, epochs=6), PAIR, BUNDLED, Limits()).runs[-1].epochs == 6  # never fewer


def test_each_smaller_subset_is_part_of_every_larger_one():
    plan = plan_sweep(FORM, PAIR, BUNDLED, Limits())
    small, large = (prepare_data(s) for s in plan.runs[:2])
    assert len(small.train_labels) == 100 and len(large.train_labels) == 300
    assert torch.equal(small.train_images, large.train_images[:100])
    assert len(prepare_data(plan.runs[-1]).train_labels) == BUNDLED


def test_the_compute_limits_lower_the_epochs_and_leave_out_sizes_that_do_not_fit():
    macs = sum(net_cost(m.net)[1] for m in PAIR)  # forward multiply-adds of both models per image
    limits = Limits(max_run_macs=macs * 1_000 * 5)  # 5 epochs of 1,000 images
    plan = plan_sweep(FORM, PAIR, BUNDLED, limits)
    # affordable epochs: 50, 16, 5, 1, 0 -> 10,000 images do not fit even once
    assert plan.sizes == (100, 300, 1_000, 3_000) and [s.epochs for s in plan.runs] == [20, 16, 5, 1]
    assert len(plan.skipped) == 1 and plan.skipped[0].startswith("10,000 images: This run needs")
    for s in plan.runs:
        check_run(s, plan.models, limits)
    widest = max(net_cost(m.net)[1] for m in PAIR)
    plan = plan_sweep(FORM, PAIR, BUNDLED, Limits(max_epoch_macs=widest * 3_000))
    assert plan.sizes == (100, 300, 1_000, 3_000) and "multiply-adds per epoch on 10,000 images" in plan.skipped[0]
    with pytest.raises(LimitError, match="learning rate"):  # what fails at every size is the form's own problem
        plan_sweep(FORM, (replace(PAIR[0], optimizer=replace(PAIR[0].optimizer, lr=99.0)), PAIR[1]), BUNDLED)


def test_a_sweeps_runs_are_ordinary_runs_queued_in_order(scheduler):
    blocker = RunRegistry(scheduler).start(LONG, PAIR)  # another session's run holds the only slot
    registry = RunRegistry(scheduler)
    runs = registry.start_sweep(quick_plan())
    assert [r.name for r in runs] == ["Run 1 · sweep 1, 100 images", "Run 2 · sweep 1, 300 images"]
    assert [(r.sweep.index, r.sweep.count, r.sweep.images) for r in runs] == [(1, 2, 100), (2, 2, 300)]
    assert [r.status for r in runs] == ["queued", "queued"] and registry.runs() == runs
    assert [registry.position(r.id) for r in runs] == [1, 2] and scheduler.counts() == (1, 2)
    assert registry.active() is runs[0]  # the live view shows the sweep run by run
    assert registry.start(TINY, PAIR) is runs[0] and registry.start_sweep(quick_plan()) == runs  # no duplicate
    blocker.stop()
    for run in runs:
        wait_for_run(run)
    assert [r.status for r in runs] == ["finished", "finished"]
    assert runs[0].started_at < runs[1].started_at and registry.trained() == runs
    assert list(sweep_runs([blocker, *registry.runs()])) == [runs[0].sweep.id]
    second = registry.start_sweep(quick_plan())
    assert second[0].name == "Run 3 · sweep 2, 100 images" and second[0].sweep.id != runs[0].sweep.id
    registry.stop(second[0].id)


def test_stop_on_a_sweep_run_stops_the_whole_sweep_and_keeps_what_trained(scheduler):
    slow = replace(SMALL, batch_size=5, epochs=20)  # 200 steps an epoch on 1,000 images: it runs until stopped
    plan = plan_sweep(slow, PAIR, BUNDLED, Limits(min_train_subset=1_000, max_train_subset=3_000))
    registry = RunRegistry(scheduler)
    first, second = registry.start_sweep(plan)
    wait_for(lambda: any(p.step >= 10 for p in first.history))
    registry.stop(first.id)
    wait_for_run(first)
    wait_for_run(second)
    assert first.status == "stopped" and first.has_weights and registry.trained() == [first]
    assert all(0 < p.step < p.total_steps for p in first.history[-2:])
    assert second.status == "stopped" and second.started_at is None and second.history == []
    assert registry.active() is None and scheduler.counts() == (0, 0)


def test_deleting_a_sweep_run_leaves_the_rest_of_the_sweep_queued(scheduler):
    blocker = RunRegistry(scheduler).start(LONG, PAIR)
    registry = RunRegistry(scheduler)
    first, second = registry.start_sweep(quick_plan())
    registry.delete(second.id)
    assert registry.runs() == [first] and first.status == "queued" and second.status == "stopped"
    registry.stop(first.id)
    blocker.stop()


def test_a_sweep_over_a_session_cap_or_a_limit_is_refused_whole(scheduler):
    registry = RunRegistry(scheduler, max_runs=3)
    kept = wait_for_run(registry.start(QUICK, PAIR))
    plan = quick_plan(Limits(max_train_subset=1_000))  # 3 sizes
    with pytest.raises(LimitError, match="A sweep of 3 sizes needs 3 run slots; this browser keeps 1 of its 3 "
                                         "runs: delete 1 to start it."):
        registry.start_sweep(plan)
    params = sum(net_cost(m.net)[0] for m in PAIR)
    registry = RunRegistry(scheduler, limits=Limits(max_session_params=2 * params))
    with pytest.raises(LimitError, match=f"a sweep of 3 runs adds {3 * params:,}, over the {2 * params:,}"):
        registry.start_sweep(plan)
    registry = RunRegistry(scheduler, limits=Limits(max_epochs=1))
    with pytest.raises(LimitError, match="The sweep's run on 100 images: Epochs must be between 1 and 1"):
        registry.start_sweep(quick_plan(min_steps=500))  # planned with 20 epochs for the small subsets
    assert registry.runs() == [] and scheduler.counts() == (0, 0) and kept.status == "finished"


def test_a_sweep_checks_each_run_once_at_the_door(scheduler, limit_checks):
    plan = quick_plan()  # the form's planning checks each size to leave out those over a limit
    limit_checks.clear()
    runs = [wait_for_run(run) for run in RunRegistry(scheduler).start_sweep(plan)]
    assert all(run.status == "finished" for run in runs)
    assert limit_checks == [(settings, plan.models) for settings in plan.runs]


def test_the_frame_and_chart_of_a_finished_sweep(scheduler):
    registry = RunRegistry(scheduler)
    runs = registry.start_sweep(quick_plan())
    for run in runs:
        wait_for_run(run)
    frame = sweep_frame(runs)
    assert list(frame["images"]) == [100, 100, 300, 300] and list(frame["kind"]) == ["CNN", "FC"] * 2
    assert list(frame["training multiply-adds"]) == [  # subset × epochs × forward and backward × MACs per image
        r.sweep.images * r.settings.epochs * 3 * net_cost(m.net)[1] for r in runs for m in r.models]
    assert list(frame["status"]) == ["finished"] * 4 and list(frame["run"]) == [runs[0].name] * 2 + [runs[1].name] * 2
    for run in runs:  # the recorded accuracy, checked against scikit-learn on the trained models
        images, labels = run.test_set()
        x = normalize(images, run.stats)
        for label, model in run.trained_models().items():
            with torch.no_grad():
                predicted = model(x).argmax(1)
            shown = frame[(frame["run"] == run.name) & (frame["model"] == label)]["test_acc"].item()
            assert shown == pytest.approx(accuracy_score(labels, predicted))
    fig = sweep_figure(frame)
    assert fig.layout.xaxis.type == "log" and list(fig.layout.xaxis.tickvals) == [100, 300]
    assert [t.name for t in fig.data] == ["CNN", "FC"]
    for trace, kind in zip(fig.data, ("CNN", "FC")):
        assert list(trace.x) == [100, 300]
        assert list(trace.y) == list(frame[frame["kind"] == kind]["test_acc"])


def test_the_chart_draws_only_finished_models_and_names_the_images_to_match():
    frame = pd.DataFrame({
        "images": [100, 100, 1_000, 1_000, 10_000, 10_000],
        "model": ["C", "F"] * 3, "kind": ["CNN", "FC"] * 3,
        "test_acc": [0.7, 0.6, 0.93, 0.85, None, 0.92], "epochs": [20, 20, 5, 5, 1, 1],
        "run": ["Run 1", "Run 1", "Run 2", "Run 2", "Run 3", "Run 3"],
        "status": ["finished", "finished", "finished", "finished", "queued", "finished"]})
    fig = sweep_figure(frame)
    assert {t.name: list(t.x) for t in fig.data} == {"C": [100, 1_000], "F": [100, 1_000, 10_000]}
    assert list(fig.layout.xaxis.tickvals) == [100, 1_000, 10_000]  # the whole sweep's sizes from the start
    assert images_to_match(frame) == (0.92, 10_000, 1_000)
    assert images_to_match(frame.assign(status="stopped")) is None
    behind = frame.assign(test_acc=[0.5, 0.6, 0.8, 0.85, None, 0.92])
    assert images_to_match(behind) is None
    assert fc_level_or_ahead(frame) == [] and fc_level_or_ahead(behind) == [100, 1_000]
    assert fc_level_or_ahead(behind.assign(status="stopped")) == []
    close = frame.assign(test_acc=[0.705, 0.7, 0.93, 0.85, None, 0.92])  # half a point: level on the chart
    assert fc_level_or_ahead(close) == [100] and fc_level_or_ahead(close, within=0.001) == []
    empty = sweep_figure(frame.assign(status="queued"))
    assert empty.data == () and empty.layout.xaxis.type == "log"


def test_a_sweep_of_a_run_with_an_fc_net_only_is_explained_by_the_planner():
    with pytest.raises(SweepError, match="CNN"):
        plan_sweep(FORM, (ModelConfig("FC", FC),), BUNDLED)


def test_the_sweep_and_its_chart_import_neither_torch_nor_streamlit():
    code = ("import sys, cnn_dash.sweep, cnn_dash.plots.sweep; "
            "assert 'torch' not in sys.modules and 'streamlit' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_the_chart_against_training_multiply_adds_spans_the_whole_sweep_from_the_start():
    frame = pd.DataFrame({
        "images": [100, 100, 1_000, 1_000], "model": ["C", "F"] * 2, "kind": ["CNN", "FC"] * 2,
        "test_acc": [0.7, 0.6, None, None], "epochs": [20, 20, 5, 5], "run": ["Run 1"] * 2 + ["Run 2"] * 2,
        "status": ["finished", "finished", "queued", "queued"],
        "training multiply-adds": [100 * 20 * 3 * 500_000, 100 * 20 * 3 * 10_000, 1_000 * 5 * 3 * 500_000,
                                   1_000 * 5 * 3 * 10_000]})
    fig = sweep_figure(frame, x="training multiply-adds")
    assert {t.name: list(t.x) for t in fig.data} == {"C": [3e9], "F": [6e7]}  # finished runs only
    low, high = fig.layout.xaxis.range  # from the cheapest planned point to the costliest, queued ones too
    assert low == pytest.approx(math.log10(6e7) - 0.1) and high == pytest.approx(math.log10(7.5e9) + 0.1)
    assert fig.layout.xaxis.type == "log" and "multiply-adds" in fig.layout.xaxis.title.text

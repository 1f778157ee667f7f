"""The data-efficiency sweep on the Training page in AppTest: the button queues ordinary runs, Stop ends the
sweep, a finished sweep draws its chart, and the button says why it cannot start.

AppTest neither waits for the scheduler's threads nor runs fragment timers: tests poll the runs, then rerun.
"""
from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

from cnn_dash.limits import Limits
from cnn_dash.registry import RunRegistry
from cnn_dash.scheduler import Scheduler
from cnn_dash.sweep import fc_level_or_ahead, sweep_frame
from cnn_dash.ui.training import REGISTRY_KEY
from tests.conftest import APP, wait_for_run
from tests.test_draw_page import array
from tests.test_runs import LONG
from tests.test_train import PAIR
from tests.test_training_page import PAGE, texts


@pytest.fixture
def sched(scheduler, monkeypatch) -> Scheduler:
    """The test's one-slot scheduler (conftest) as the process's, on the bundled sample (10,000 train images)."""
    monkeypatch.delenv("CNN_DASH_DATA_DIR", raising=False)
    monkeypatch.setattr("cnn_dash.scheduler._scheduler", scheduler)
    return scheduler


@pytest.fixture
def at(sched) -> AppTest:
    app = AppTest.from_file(APP, default_timeout=90)
    # The session's registry, with tight limits: tiny sweeps of 100 and 300 images, at most 2 epochs.
    app.session_state[REGISTRY_KEY] = RunRegistry(sched, limits=Limits(max_train_subset=300, max_epochs=2))
    app.run()
    app.switch_page(PAGE).run()
    assert not app.exception and not app.button(key="sweep_start").disabled
    return app


def charts(at: AppTest) -> list[dict]:
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def test_the_sweep_button_queues_ordinary_runs_and_stop_ends_the_sweep(at, sched):
    blocker = RunRegistry(sched).start(LONG, PAIR)  # another session's run holds the only training slot
    at.button(key="sweep_start").click().run()
    assert not at.exception and not at.error
    registry = at.session_state[REGISTRY_KEY]
    first, second = registry.runs()
    assert (first.sweep.images, second.sweep.images) == (100, 300) and first.sweep.id == second.sweep.id
    assert first.name == "Run 1 · sweep 1, 100 images" and first.models[0].net.is_cnn
    assert [registry.position(r.id) for r in (first, second)] == [1, 2] and sched.counts() == (1, 2)
    shown = texts(at)
    assert "**Sweep 1**: run 1 of 2 (100 images, 2 epochs)" in shown and "number 1 in the queue" in shown
    assert at.button(key="sweep_start").disabled and at.button(key="train_start").disabled
    at.button(key=f"train_stop_{first.id}").click().run()  # the live card's Cancel
    assert not at.exception
    assert first.status == second.status == "stopped" and registry.active() is None
    assert second.started_at is None and blocker.active
    assert "2 runs: 2 stopped. Not on the chart: 100, 300 images" in texts(at)
    blocker.stop()


def test_a_finished_sweep_draws_accuracy_against_training_images(at):
    at.button(key="sweep_start").click().run()
    registry = at.session_state[REGISTRY_KEY]
    for run in registry.runs():
        wait_for_run(run)
    at.run()
    assert not at.exception
    assert [r.status for r in registry.runs()] == ["finished", "finished"]
    (sweep,) = [fig for fig in charts(at) if fig["layout"]["xaxis"].get("type") == "log"]
    cnn, fc = registry.runs()[0].models
    assert [t["name"] for t in sweep["data"]] == [cnn.label, fc.label]
    assert all(list(array(t["x"])) == [100, 300] for t in sweep["data"])
    assert "the CNN needs fewer images for the same accuracy" in texts(at)
    assert ("the FC net is level with the CNN (within a point) or ahead" in texts(at)) == bool(fc_level_or_ahead(sweep_frame(
        registry.runs())))  # said exactly when the chart shows it
    assert "2 runs: 2 finished." in texts(at)
    at.segmented_control(key="sweep_x").set_value("training multiply-adds").run()  # the same points at their compute
    assert not at.exception
    (sweep,) = [fig for fig in charts(at) if fig["layout"]["xaxis"].get("type") == "log"]
    macs = sweep_frame(registry.runs())
    for t in sweep["data"]:
        assert list(array(t["x"])) == list(macs[macs["model"] == t["name"]]["training multiply-adds"])
    assert "Training multiply-adds: " in texts(at)
    at.button(key="sweep_start").click().run()  # a second sweep: a picker for the older one
    for run in registry.runs():
        wait_for_run(run)
    at.run()
    picker = at.selectbox(key="sweep_pick")
    assert picker.options == ["Sweep 2 · MNIST (handwritten digits) · 100–300 images",
                              "Sweep 1 · MNIST (handwritten digits) · 100–300 images"]
    picker.set_value(picker.options[1]).run()
    assert not at.exception and len(registry.runs()) == 4


def test_the_button_says_why_a_sweep_cannot_start(at):
    at.selectbox(key="train_model_1_preset").set_value("Small CNN ×2 (batch norm)").run()
    button = at.button(key="sweep_start")
    assert button.disabled and "none of the models is an FC net" in button.help
    at.selectbox(key="train_model_1_preset").set_value("MLP 784-37-10").run()
    assert not at.button(key="sweep_start").disabled
    assert "Trains A · Small CNN (batch norm)" in at.button(key="sweep_start").help
    at.number_input(key="train_epochs").set_value(50).run()  # the form's own problem disables both buttons
    assert at.button(key="sweep_start").disabled and "Epochs must be between 1 and 20" in at.button(key="sweep_start").help
    assert at.session_state[REGISTRY_KEY].runs() == []

"""The training page in AppTest: a tiny run from Train to finished curves, page switches, Stop, limits, runs list.

AppTest neither waits for the scheduler's threads nor runs fragment timers, so each test polls the Run
(from the session's registry) and then reruns the page.
"""
from __future__ import annotations

import time
from dataclasses import replace

import pytest
from streamlit.testing.v1 import AppTest

from cnn_dash.compute import BACKWARD_FACTOR, X_AXES
from cnn_dash.limits import MAX_SHIFT
from cnn_dash.scheduler import Scheduler
from cnn_dash.shapes import net_cost
from cnn_dash.ui.compute import AXIS_KEY
from cnn_dash.plots.curves import FULL_ACC_RANGE
from cnn_dash.ui.run_card import curves
from cnn_dash.ui.training import REGISTRY_KEY
from tests.conftest import APP, wait_for_run

PAGE = "pages/training.py"


def texts(at: AppTest) -> str:
    return "\n".join(str(e.value) for e in [*at.markdown, *at.caption, *at.info, *at.warning, *at.error])


def charts(at: AppTest) -> list[str]:
    return [c.key for c in at.get("plotly_chart")]


@pytest.fixture
def at(monkeypatch) -> AppTest:
    monkeypatch.delenv("CNN_DASH_DATA_DIR", raising=False)  # the bundled sample: 10,000 train images
    # A scheduler of our own: runs other tests left behind in this process must not queue ours.
    monkeypatch.setattr("cnn_dash.scheduler._scheduler", Scheduler())
    app = AppTest.from_file(APP, default_timeout=90)
    app.run()
    app.switch_page(PAGE).run()
    assert not app.exception, app.exception[0].value
    yield app
    registry = app.session_state[REGISTRY_KEY] if REGISTRY_KEY in app.session_state else None
    for run in registry.runs() if registry else []:
        registry.stop(run.id)
        wait_for_run(run)


def tiny(at: AppTest, epochs: int = 1) -> None:
    at.number_input(key="train_subset").set_value(200)
    at.number_input(key="train_epochs").set_value(epochs)
    at.number_input(key="train_evals").set_value(1)


def test_a_tiny_run_from_train_to_finished_curves(at):
    tiny(at)
    at.button(key="train_start").click().run()
    assert not at.exception and not at.error
    registry = at.session_state[REGISTRY_KEY]
    (run,) = registry.runs()
    assert at.button(key="train_start").disabled  # no second run while this one trains
    wait_for_run(run)
    at.run()
    assert not at.exception
    assert run.status == "finished", run.error
    shown = texts(at)
    assert f"**{run.name}** — finished" in shown and "200 images" in shown
    table = at.table[0].value
    assert list(table.index) == [m.label for m in run.models]
    assert list(table["status"]) == ["finished", "finished"]
    results = run.results
    for label, acc in zip(table.index, table["test acc"]):
        assert acc == f"{results[label].test_acc:.2%}"
    # the run's curves (an overlay needs two runs), on the switch's axis: epochs until another is picked
    assert charts(at) == [f"train_curves_{run.id}"]
    assert at.segmented_control(key=AXIS_KEY).value == "epoch"
    assert not at.button(key="train_start").disabled
    figure = curves(run)  # the figure the page drew, shared by every viewer of this run's training
    assert max(figure.data[0].x) == pytest.approx(run.history[-1].epoch)  # an ended run's curves reach its end
    # on the axes it had from its first record: every epoch of the run, 0-100%, the run's fixed loss range
    assert tuple(figure.layout.xaxis.range) == tuple(figure.layout.xaxis2.range) == (0, run.settings.epochs)
    assert tuple(figure.layout.yaxis2.range) == FULL_ACC_RANGE
    at.run()
    assert curves(run) is figure  # and are not built again without new records
    # The same chart against each measure of compute: its x spans the whole run, and the page says what the axis
    # counts and where every model got to (compute.compute_sentence, tested in test_compute.py).
    images = 200 * run.settings.epochs
    for x, end in (("training images", images), ("optimizer steps", 4 * run.settings.epochs),
                   ("training multiply-adds", images * BACKWARD_FACTOR * max(net_cost(m.net)[1] for m in run.models)),
                   ("training time (s)", None), ("epoch", run.settings.epochs)):
        at.segmented_control(key=AXIS_KEY).set_value(x).run()
        assert not at.exception, (x, at.exception)
        figure = curves(run, x)  # the figure the page drew for this axis
        assert figure.layout.annotations[1].text.replace("<br>", " ") == f"Accuracy by {x}"
        if end is not None:
            assert tuple(figure.layout.xaxis.range) == (0, end), x
        else:  # the estimated time (or, without one, where the slowest model got): never short of the curves
            assert figure.layout.xaxis.range[1] >= max(max(trace.x) for trace in figure.data), x
        if x != "epoch":
            assert f"{x}: {X_AXES[x]}." in texts(at) and "Test accuracy at " in texts(at)


def test_switching_pages_mid_run_neither_stops_nor_loses_it_and_stop_keeps_the_weights(at):
    at.number_input(key="train_epochs").set_value(20)
    at.selectbox(key="train_batch").set_value(16)
    at.button(key="train_start").click().run()
    registry = at.session_state[REGISTRY_KEY]
    (run,) = registry.runs()
    at.switch_page("pages/home.py").run()
    assert not at.exception
    seen = len(run.history)
    end = time.monotonic() + 60
    while len(run.history) <= seen + 1:  # it trains on while its page is not shown
        assert time.monotonic() < end
        time.sleep(0.05)
    at.switch_page(PAGE).run()
    assert not at.exception
    assert run.active and at.session_state[REGISTRY_KEY].runs() == [run]
    end = time.monotonic() + 60
    while not any(p.step > 0 for p in run.history):
        assert time.monotonic() < end
        time.sleep(0.05)
    at.run()
    assert f"**{run.name}** — running" in texts(at)
    at.button(key=f"train_stop_{run.id}").click().run()
    wait_for_run(run)
    at.run()
    assert run.status == "stopped" and run.has_weights
    assert f"**{run.name}** — stopped" in texts(at) and not at.exception
    assert at.session_state[REGISTRY_KEY].trained() == [run]


def test_a_run_over_the_compute_limit_is_explained_and_cannot_start(at):
    at.selectbox(key="train_model_0_preset").set_value("Two-block 5×5 CNN (2020 tutorial)")
    at.number_input(key="train_epochs").set_value(20)
    at.number_input(key="train_subset").set_value(10_000)
    at.run()
    assert not at.exception
    assert any("limit is 2,000 billion" in e.value for e in at.warning)
    assert at.button(key="train_start").disabled
    at.number_input(key="train_epochs").set_value(2).run()
    assert not at.warning and not at.button(key="train_start").disabled
    assert at.session_state[REGISTRY_KEY].runs() == []


def test_the_runs_list_overlays_and_deletes(at):
    tiny(at)
    registry = at.session_state[REGISTRY_KEY] if REGISTRY_KEY in at.session_state else None
    for seed in (1, 2):
        at.number_input(key="train_seed").set_value(seed)
        at.button(key="train_start").click().run()
        registry = at.session_state[REGISTRY_KEY]
        wait_for_run(registry.runs()[-1])
        at.run()
    first, second = registry.runs()
    overlay = at.multiselect(key="train_overlay")
    assert overlay.value == [] and "train_overlay_chart" not in charts(at)  # opt-in: only the latest run's charts
    assert charts(at) == [f"train_curves_{second.id}"]
    assert all(o.startswith(("Run 1 (A ", "Run 2 (A ")) and "%, B " in o for o in overlay.options)
    overlay.set_value(overlay.options).run()
    assert not at.exception
    assert charts(at) == [f"train_curves_{second.id}", "train_overlay_chart"]
    at.button(key=f"train_del_{first.id}").click().run()
    assert registry.runs() == [second] and not at.exception
    assert not at.multiselect and charts(at) == [f"train_curves_{second.id}"]


def test_a_value_out_of_range_disables_train_with_the_reason(at):
    """No bounds in the boxes: a typed value reaches the page, which says what is wrong and never trains it."""
    for key, value, reason in (("train_epochs", 500, "Epochs must be between 1 and"),
                               ("train_epochs", 0, "Epochs must be between 1 and"),
                               ("train_subset", 99_999, "This dataset has 10,000 training images"),
                               ("train_opt_0_lr_SGD", -1.0, "learning rate must be above 0"),
                               ("train_seed", -5, "seed must be between 0")):
        at.number_input(key=key).set_value(value).run()
        assert not at.exception
        assert any(reason in w.value for w in at.warning), (key, [w.value for w in at.warning])
        assert at.button(key="train_start").disabled
        at.session_state["_train_start_requested"] = True  # even a click that slipped through trains nothing
        at.run()
        assert at.session_state[REGISTRY_KEY].runs() == []
        at.number_input(key=key).set_value({"train_epochs": 1, "train_subset": 1000, "train_seed": 0}.get(key, 0.01))
    at.run()
    assert not at.warning and not at.button(key="train_start").disabled


def test_a_batch_larger_than_the_subset_is_explained(at):
    at.number_input(key="train_subset").set_value(100)
    at.selectbox(key="train_batch").set_value(256).run()
    assert any("batch size (256) is larger than the 100 training images" in w.value for w in at.warning)


def test_the_pixel_shuffle_option_reaches_the_run(at):
    tiny(at)
    at.checkbox(key="train_permute").check()
    at.button(key="train_start").click().run()
    (run,) = at.session_state[REGISTRY_KEY].runs()
    assert run.settings.permute_pixels and run.settings.train_subset == 200
    wait_for_run(run)
    at.run()
    assert "shuffled pixels" in texts(at) and not at.exception


def test_the_quick_demo_button_starts_the_classroom_preset(at):
    from cnn_dash.presets import quick_demo

    at.button(key="train_quick_demo").click().run()
    assert not at.exception and not at.error
    (run,) = at.session_state[REGISTRY_KEY].runs()
    settings, models = quick_demo()
    assert (run.settings, run.models) == (replace(settings, train_subset=None), models)  # the bundled 10,000
    assert at.button(key="train_quick_demo").disabled and at.button(key="train_start").disabled
    at.button(key=f"train_stop_{run.id}").click().run()
    wait_for_run(run)
    assert run.status == "stopped" and not at.exception


def test_the_curves_figure_draws_every_model_train_and_test_on_shared_axes():
    from cnn_dash.plots.curves import curves_figure, curves_frame
    from cnn_dash.records import Progress

    def p(label, step, status="training", test=None, loss=1.0):
        return Progress(label, step, 4, step / 2, loss, 0.5, 100.0, step * 0.1, *(test or (None, None)), status=status)

    history = [p("CNN", 1), p("FC", 1), p("CNN", 2, test=(0.9, 0.7)), p("FC", 2, test=(1.1, 0.6)),
               p("CNN", 4, "finished", (0.5, 0.9)), p("FC", 3, "diverged")]
    frame = curves_frame({"Run 1": history})
    assert list(frame["model"].unique()) == ["CNN", "FC"] and len(frame) == 6
    fig = curves_figure(frame)
    names = [t.name for t in fig.data if t.showlegend is not False]
    assert names == ["CNN (train)", "CNN (test)", "FC (train)", "FC (test)"]
    assert len(fig.data) == 9  # 2 models x 2 splits x (loss, accuracy), and the divergence cross
    assert fig.data[-1].text == ("FC diverged",)
    cnn_test_acc = [t for t in fig.data if t.name == "CNN (test)" and t.xaxis == "x2"][0]
    assert list(cnn_test_acc.x) == [1.0, 2.0] and list(cnn_test_acc.y) == [0.7, 0.9]
    assert fig.layout.yaxis.type == "log"
    both = curves_figure(curves_frame({"Run 1": history, "Run 2": history[:2]}))
    assert "Run 2 · CNN (train)" in [t.name for t in both.data]


def test_random_shifts_in_the_form_every_value_explained_or_trained(at):
    """Random shifts of up to k pixels and the models ticked to train on them: every k a visitor can type renders,
    out of range or with no model ticked Train is off with a reason to act on, and Train starts what is shown."""
    assert at.number_input(key="train_shift").value == 0 and at.checkbox(key="train_shift_0").disabled  # off
    for k in (-3, -1, 5, 100):
        at.number_input(key="train_shift").set_value(k).run()
        assert not at.exception, (k, at.exception)
        assert at.button(key="train_start").disabled
        assert f"Random shifts must be between 0 and {MAX_SHIFT} pixels (got {k})" in texts(at), k
    for k in range(MAX_SHIFT + 1):
        at.number_input(key="train_shift").set_value(k).run()
        assert not at.exception and not at.button(key="train_start").disabled, k
    for ticked in ((True, False), (False, True), (False, False), (True, True)):
        for i, on in enumerate(ticked):
            at.checkbox(key=f"train_shift_{i}").set_value(on)
        at.run()
        assert not at.exception, (ticked, at.exception)
        none = "no model trains on the shifted copies: tick at least one model, or set the shifts to 0"
        assert at.button(key="train_start").disabled == (none in texts(at)) == (ticked == (False, False)), ticked
    at.checkbox(key="train_shift_0").set_value(False)
    tiny(at)
    at.button(key="train_start").click().run()
    (run,) = at.session_state[REGISTRY_KEY].runs()
    assert (run.settings.shift_pixels, run.settings.shifted_models) == (MAX_SHIFT, (1,))  # B only
    assert f"random shifts ≤ {MAX_SHIFT} px for B" in texts(at)
    wait_for_run(run)

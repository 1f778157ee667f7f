"""The tutorial widgets in AppTest on a tiny page of their own (the Training page wires them in), and their
pure formatting helpers."""
from __future__ import annotations

import time

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from cnn_dash.estimate import is_measured
from cnn_dash.limits import PROFILES, Limits, resolve_limits
from cnn_dash.records import Progress
from cnn_dash.scheduler import scheduler
from cnn_dash.specs import TrainSettings
from cnn_dash.tutorials import TUTORIALS
from cnn_dash.ui import tutorials as ui
from tests.test_train import PAIR


def _picker_page():
    import streamlit as st

    from cnn_dash.ui import tutorials

    active = tutorials.profile_note()
    chosen = tutorials.tutorial_picker(dataset_name="MNIST", train_size=60_000)
    st.session_state["chosen"] = chosen.key if chosen else None
    st.session_state["epochs"] = chosen.settings.epochs if chosen else None
    st.session_state["profile"] = active.name


def texts(at: AppTest) -> str:
    return "\n".join(str(e.value) for e in [*at.markdown, *at.caption, *at.info, *at.warning, *at.error])


@pytest.fixture
def clean_env(monkeypatch):
    for var in ("CNN_DASH_LIMITS", "CNN_DASH_MAX_EPOCHS"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr("cnn_dash.limits._secrets", ())


def test_the_picker_shows_each_tutorials_text_numbers_and_what_the_limits_say(clean_env, monkeypatch):
    at = AppTest.from_function(_picker_page, default_timeout=30).run()
    assert not at.exception
    assert at.session_state["chosen"] is None and at.session_state["profile"] == "shared"
    assert "Limits: **shared** profile" in texts(at)
    at.selectbox(key="tut_pick").select(TUTORIALS["000"].title).run()
    assert at.session_state["chosen"] == "000"
    assert "never trained" in at.warning[0].value and "2.311" in at.table[0].value.to_string()
    assert "refuse" not in texts(at)  # 000 fits the shared server
    at.selectbox(key="tut_pick").select(TUTORIALS["003"].title).run()
    assert at.session_state["chosen"] == "003"
    assert "Epochs must be between 1 and 20 (got 25)" in texts(at) and "CNN_DASH_LIMITS=local" in texts(at)
    # not a dead end: the largest version that fits is what Train runs, with what the tutorial printed there
    assert at.session_state["epochs"] == 3 and "**3 epochs** instead of 25" in at.warning[0].value
    assert "0.959" in at.table[0].value.to_string() and "0.283" in at.table[0].value.to_string()
    # the change of dataset comes first, before the refusal
    assert at.info[0].value.startswith("This tutorial trains on Fashion-MNIST")
    monkeypatch.setenv("CNN_DASH_LIMITS", "local")
    at.run()
    assert "refuse" not in texts(at) and "Limits: **local** profile" in texts(at)
    assert at.session_state["epochs"] == 25


def test_an_ignored_setting_is_shown_as_a_warning(clean_env, monkeypatch):
    monkeypatch.setenv("CNN_DASH_MAX_EPOCHS", "lots")
    at = AppTest.from_function(_picker_page, default_timeout=30).run()
    assert "CNN_DASH_MAX_EPOCHS = 'lots' is not a whole number" in at.warning[0].value


def test_the_profile_line_names_the_overrides():
    line = ui.profile_text(resolve_limits({"CNN_DASH_LIMITS": "local", "CNN_DASH_MAX_EPOCHS": "40"}))
    assert line.startswith("Limits: **local** profile (one user on their own machine): up to 40 epochs")
    assert "max_epochs = 40 (CNN_DASH_MAX_EPOCHS)" in line


def test_refusal_text_names_the_cap():
    assert ui.refusal_text(TUTORIALS["003"], PROFILES["local"]) is None
    assert "Epochs must be between 1 and 20" in ui.refusal_text(TUTORIALS["003"], Limits())


def _p(label: str, step: int, per_epoch: int, test_acc: float | None, train_acc: float = 0.9) -> Progress:
    return Progress(label, step, 25 * per_epoch, step / per_epoch, 0.3, train_acc, 1.0, 1.0,
                    None if test_acc is None else 0.35, test_acc)


def test_the_comparison_table_sets_points_beside_the_tutorials():
    history = [_p("SGD (lr 0.001)", 100, 4, 0.842, 0.85), _p("Adam (lr 0.001)", 60, 4, 0.889, 0.95)]
    frame = ui.comparison_frame(TUTORIALS["003"], history)
    sgd = frame[(frame.model == "SGD (lr 0.001)") & (frame.metric == "test accuracy")].iloc[0]
    assert (sgd.tutorial, sgd["this run"], sgd.difference) == ("83.6%", "84.2%", "+0.6 points")
    adam = frame[(frame.model == "Adam (lr 0.001)") & (frame.metric == "test accuracy")].iloc[0]
    assert (adam.epoch, adam["this run"], adam.difference) == (15, "88.9%", "-0.6 points")
    loss = ui.comparison_frame(TUTORIALS["000"], []).iloc[1]
    assert (loss.tutorial, loss["this run"], loss.difference) == ("2.311", "not reached", "–")


def test_the_epoch_frame_reads_each_model_at_the_chosen_epoch():
    history = [_p("A", 4, 4, 0.8), _p("B", 4, 4, 0.7), _p("A", 8, 4, 0.85), _p("B", 8, 4, None)]
    frame = ui.epoch_frame(history, ["A", "B"], 2)
    assert frame.loc["A", "test acc"] == 0.85 and pd.isna(frame.loc["B", "test acc"])
    assert ui.epoch_frame(history, ["A", "B"], 1)["test acc"].tolist() == [0.8, 0.7]


class _FakeRun:
    id = "r1"

    def __init__(self, history, labels):
        from cnn_dash.specs import ModelConfig

        self.history = history
        self.models = tuple(ModelConfig(label, TUTORIALS["003"].models[0].net) for label in labels)


def _epoch_page():
    import streamlit as st

    from cnn_dash.ui import tutorials

    st.session_state["epoch"] = tutorials.epoch_table(st.session_state["run"])


def test_the_epoch_table_picks_an_epoch_and_shows_every_model():
    history = [_p("A", 4, 4, 0.8), _p("B", 4, 4, 0.7), _p("A", 8, 4, 0.85), _p("B", 8, 4, 0.75)]
    at = AppTest.from_function(_epoch_page, default_timeout=30)
    at.session_state["run"] = _FakeRun(history, ["A", "B"])
    at.run()
    assert not at.exception and at.session_state["epoch"] == 2
    assert at.table[0].value.loc["A", "test acc"] == "85.00%"
    at.selectbox(key="tut_epoch_r1").select(1).run()
    assert at.session_state["epoch"] == 1 and at.table[0].value.loc["B", "test acc"] == "70.00%"
    at.session_state["run"] = _FakeRun([], ["A"])
    at.run()
    assert at.session_state["epoch"] is None and not at.table


def _estimate_page():
    import streamlit as st

    from cnn_dash.specs import TrainSettings
    from cnn_dash.ui import tutorials
    from tests.test_train import PAIR

    st.session_state["seconds"] = tutorials.estimate_note(TrainSettings(epochs=3, batch_size=64), PAIR, 60_000)
    st.session_state["none"] = tutorials.estimate_note(TrainSettings(), None, 60_000)


def test_the_estimate_note_shows_a_measured_time_before_train():
    at = AppTest.from_function(_estimate_page, default_timeout=60).run()
    assert not at.exception and at.session_state["seconds"] > 0 and at.session_state["none"] is None
    assert at.caption[0].value.startswith("Estimated time on this machine: about ")
    assert "2,814 steps per model" in at.caption[0].value  # 938 steps × 3 epochs


def _estimate_page_while_timing():
    from cnn_dash.specs import TrainSettings
    from cnn_dash.ui import tutorials
    from tests.test_train import PAIR

    tutorials.estimate_note(TrainSettings(batch_size=72), PAIR, 60_000)  # a batch size no other test times


def test_the_estimate_note_never_waits_for_another_visitors_timing(monkeypatch):
    """A class pressing at once: one page run times the steps, the others say so and go on (then it is primed)."""
    monkeypatch.setattr("cnn_dash.estimate.timing_under_way", lambda: True)
    at = AppTest.from_function(_estimate_page_while_timing, default_timeout=60).run()
    assert not at.exception and "being timed" in at.caption[0].value
    settings, threads, end = TrainSettings(batch_size=72), scheduler().threads_per_run, time.monotonic() + 60
    while not is_measured(settings, PAIR, threads) and time.monotonic() < end:
        time.sleep(0.05)
    assert is_measured(settings, PAIR, threads)  # timed in the background meanwhile
    at.run()
    assert at.caption[0].value.startswith("Estimated time on this machine: about ")


def test_data_problems_name_the_dataset_and_the_sample():
    t = TUTORIALS["003"]
    assert ui.data_problems(t, "FashionMNIST", 60_000) == []
    assert "trains on Fashion-MNIST" in ui.data_problems(t, "MNIST", 60_000)[0]
    assert "Only 10,000 training images" in ui.data_problems(t, "FashionMNIST", 10_000)[0]

"""The Training page with a class at once, in AppTest: a waiting run shows its place and when it starts; a run with
the settings and seed of one already training joins it, and one that has finished is shown at once, each saying so.

AppTest neither waits for the scheduler's threads nor runs fragment timers: tests poll the runs, then rerun."""
from __future__ import annotations

import re
from dataclasses import replace

import pytest
from streamlit.testing.v1 import AppTest

from cnn_dash.registry import RunRegistry
from cnn_dash.scheduler import Scheduler
from cnn_dash.ui.run_card import LIVE_REDRAWS_PER_S, POLL_S, live_poll_s, queued_poll_s
from cnn_dash.ui.training import REGISTRY_KEY
from tests.conftest import APP, wait_for_run
from tests.test_runs import LONG, PAIR
from tests.test_training_page import PAGE, texts, tiny


@pytest.fixture
def sched(monkeypatch) -> Scheduler:
    """A one-slot scheduler of this test's own as the process's, every run estimated at 20 s, on the bundled
    sample."""
    monkeypatch.delenv("CNN_DASH_DATA_DIR", raising=False)
    sched = Scheduler(max_running=1, cores=2, estimator=lambda training, threads: 20.0)
    monkeypatch.setattr("cnn_dash.scheduler._scheduler", sched)
    yield sched
    jobs = sched.jobs()
    sched.stop_all()
    for job in jobs:
        wait_for_run(job)


def visitor() -> AppTest:
    app = AppTest.from_file(APP, default_timeout=90)
    app.run()
    app.switch_page(PAGE).run()
    tiny(app)
    return app


def test_a_waiting_run_shows_its_place_and_when_it_starts(sched):
    blockers = [RunRegistry(sched).start(replace(LONG, seed=i), PAIR) for i in range(2)]  # one trains, one waits
    at = visitor()
    at.button(key="train_start").click().run()
    assert not at.exception
    shown = texts(at)
    eta = re.search(r"number 2 in the queue \(1 run\(s\) training on this server, 2 waiting\); it starts in about "
                    r"(\d+) s", shown)
    assert eta, shown
    assert 20 <= int(eta[1]) <= 45  # the run ahead (20 s) after what is left of the one training (at most 20 s)
    for blocker in blockers:
        blocker.stop()


def test_the_page_checks_a_waiting_runs_place_more_often_as_its_start_nears():
    assert queued_poll_s(None) == queued_poll_s(600) == 5.0
    assert queued_poll_s(30) == 3.0 and queued_poll_s(4) == 1.0


def test_identical_requests_join_the_training_and_a_finished_one_is_shown_at_once(sched):
    first, second = visitor(), visitor()
    first.button(key="train_start").click().run()
    second.button(key="train_start").click().run()
    mine, theirs = (app.session_state[REGISTRY_KEY].runs()[0] for app in (first, second))
    assert theirs.training is mine.training
    assert "you watch that race from where it is" in texts(second) and "watch that race" not in texts(first)
    wait_for_run(mine)
    third = visitor()
    third.button(key="train_start").click().run()
    (reused,) = third.session_state[REGISTRY_KEY].runs()
    assert reused.status == "finished" and "**Run 1** — finished" in texts(third)
    assert "Identical settings and seed: the same numbers as an earlier run" in texts(third)
    assert sched.counts() == (0, 0)


def test_live_poll_slows_as_more_visitors_watch_one_training():
    """One or a few viewers redraw every POLL_S; a class of 30 watching one race together redraws the training
    at most LIVE_REDRAWS_PER_S times a second in all."""
    assert live_poll_s(1) == live_poll_s(2) == POLL_S
    for viewers in (10, 30, 60):
        assert viewers / live_poll_s(viewers) <= LIVE_REDRAWS_PER_S + 1e-9
        assert live_poll_s(viewers) >= POLL_S
    assert live_poll_s(30) == 2.0

"""A shared run's link in AppTest: the run's Evaluation and Try it yourself, read-only, in a session of another
owner; for any id that names no finished run, "no such run" and nothing else; and a reload of the owner's page
(a new session with the same token) picks the run last viewed."""
from __future__ import annotations

from dataclasses import replace

import pytest
from streamlit.testing.v1 import AppTest

from cnn_dash.library import library
from cnn_dash.scheduler import Scheduler
from cnn_dash.ui.evaluation import NO_SUCH_RUN
from cnn_dash.ui.owner import TOKEN_KEY
from tests.conftest import APP, wait_for_run
from tests.test_train import PAIR, SMALL

OWNER = "s" * 43  # the owner token of the run's browser


@pytest.fixture(scope="module")
def run():
    """A finished run of one owner, in the process's library (the store the app uses)."""
    registry = library().registry(OWNER)
    registry._scheduler = Scheduler()  # its own: never queued behind another test's runs
    return wait_for_run(registry.start(SMALL, PAIR))


def open_page(page: str, run_id: str | None = None, token: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=90)
    if run_id is not None:
        at.query_params["run"] = run_id
    if token is not None:  # as the browser's cookie would give it
        at.session_state[TOKEN_KEY] = token
    at.run()
    at.switch_page(page).run()
    assert not at.exception, at.exception[0].value
    return at


def popovers(at: AppTest) -> list[str]:
    return [block.proto.popover.label for block in at.get("popover")]


def test_the_owner_gets_a_share_button(run):
    at = open_page("pages/evaluation.py", token=OWNER)
    assert "Share this run" in popovers(at) and "eval_run" in [s.key for s in at.selectbox]


@pytest.mark.parametrize("page, picker", [("pages/evaluation.py", "eval_run"), ("pages/draw.py", "draw_run")])
def test_a_shared_link_opens_the_run_read_only_for_another_owner(run, page, picker):
    at = open_page(page, run.id)
    assert not at.error
    assert any(c.value.startswith("A shared run, read-only") and run.name in c.value for c in at.caption)
    assert "Share this run" not in popovers(at) and picker not in [s.key for s in at.selectbox]
    if page == "pages/evaluation.py":
        assert len(at.get("plotly_chart")) >= 2  # the run's confusion matrices


@pytest.mark.parametrize("page, bad", [("pages/evaluation.py", "../../etc/passwd"),
                                       ("pages/evaluation.py", "<script>alert(1)</script>"),
                                       ("pages/evaluation.py", "A" * 22), ("pages/draw.py", "x" * 500)])
def test_any_other_id_says_no_such_run_and_nothing_else(run, page, bad):
    at = open_page(page, bad)
    assert [e.value for e in at.error] == [NO_SUCH_RUN]
    assert not at.get("plotly_chart") and [s.key for s in at.selectbox] == ["dataset_title"]  # the sidebar's only
    shown = " ".join(m.value for m in [*at.markdown, *at.caption, *at.info])
    assert run.name not in shown and "alert" not in shown and "passwd" not in shown


def test_a_reload_shows_the_run_last_picked(run):
    registry = library().registry(OWNER)
    newer = wait_for_run(registry.start(replace(SMALL, seed=4), PAIR))
    for picked in (newer.id, run.id):
        at = open_page("pages/evaluation.py", token=OWNER)
        at.selectbox(key="eval_run").set_value(picked).run()
        again = open_page("pages/evaluation.py", token=OWNER)  # F5: a new session of the same browser
        assert again.selectbox(key="eval_run").value == picked
    registry.delete(newer.id)

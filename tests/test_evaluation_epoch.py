"""The Evaluation page reads every model's test accuracy at a chosen epoch of a finished run."""
from __future__ import annotations

from streamlit.testing.v1 import AppTest

from cnn_dash.records import accuracy_at_epoch
from cnn_dash.registry import RunRegistry
from cnn_dash.scheduler import Scheduler
from cnn_dash.specs import TrainSettings
from cnn_dash.ui.training import REGISTRY_KEY
from tests.conftest import APP, wait_for_run
from tests.test_evaluation_page import MODELS, PAGE


def test_the_evaluation_page_shows_test_accuracy_at_a_chosen_epoch():
    registry = RunRegistry(Scheduler())
    settings = TrainSettings("MNIST", train_subset=600, batch_size=50, epochs=2, evals_per_epoch=2, seed=1,
                             source="bundled")
    run = wait_for_run(registry.start(settings, MODELS))
    assert run.status == "finished", run.error
    at = AppTest.from_file(APP, default_timeout=90)
    at.session_state[REGISTRY_KEY] = registry
    at.run()
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception[0].value
    picker = at.selectbox(key="eval_epoch")
    assert list(picker.options) == ["1", "2"] and picker.value == 2  # whole epochs only, the last by default
    picker.select(1).run()
    # the page's tables are all st.table since issue 25 (the scores come first): the epoch's is the one with test acc
    table = next(t.value for t in at.table if "test acc" in t.value.columns)
    for m in MODELS:
        assert table.loc[m.label, "test acc"] == f"{accuracy_at_epoch(run.history, m.label, 1):.2%}"

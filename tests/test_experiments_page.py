"""The experiments on the Training page in AppTest: a button starts the run as it is (shrunk to this server's
limits), and under the finished run the page says what the numbers say, with the shift-robustness curve."""
from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from cnn_dash.experiments import (Augmentation, Decomposition, augmentation_sentence, decomposition_sentence,
                                  find_experiment)
from cnn_dash.limits import Limits
from cnn_dash.registry import RunRegistry
from cnn_dash.ui.training import REGISTRY_KEY
from tests.conftest import APP, wait_for_run
from tests.test_sweep_page import charts, sched  # noqa: F401 - the fixture: a one-slot scheduler, bundled data
from tests.test_training_page import PAGE, texts


@pytest.fixture
def at(sched) -> AppTest:  # noqa: F811
    app = AppTest.from_file(APP, default_timeout=300)  # a finished experiment shifts 1,000 test images 9 ways
    app.session_state[REGISTRY_KEY] = RunRegistry(sched, limits=Limits(max_train_subset=100, max_epochs=1))
    app.run()
    app.switch_page(PAGE).run()
    assert not app.exception
    return app


def finish(at: AppTest, key: str):
    at.button(key=f"exp_{key}").click().run()
    assert not at.exception and not at.error
    (run,) = at.session_state[REGISTRY_KEY].runs()
    wait_for_run(run, timeout=600)  # seconds on a quiet machine; the timeout allows for a loaded one
    at.run()
    assert not at.exception
    return run


def test_locality_vs_sharing_trains_three_nets_and_splits_the_lead(at):
    run = finish(at, "decomposition")
    assert find_experiment(run.settings, run.models).key == "decomposition"
    assert run.settings.train_subset == 100 and run.settings.epochs == 1  # shrunk to the session's limits
    assert ["LocallyConnected2d" in str(m.net) for m in run.models] == [False, True, False]
    accs = [run.results[m.label].test_acc for m in run.models]
    shown = texts(at)
    assert decomposition_sentence(Decomposition(*accs)) in shown
    assert "206,250 parameters, 206,250 multiply-adds per image" in shown
    assert "Test images moved by 2 pixels" in shown
    (curve,) = [c for c in charts(at) if "shift" in str(c["layout"]).lower()]
    assert len(curve["data"]) >= 3


def test_shifted_copies_trains_the_fc_net_twice_and_says_what_the_copies_did(at):
    run = finish(at, "shifted_copies")
    assert run.settings.shift_pixels == 2 and run.settings.shifted_models == (2,)
    accs = [run.results[m.label].test_acc for m in run.models]
    assert augmentation_sentence(Augmentation(*accs)) in texts(at)
    assert "random shifts ≤ 2 px for C" in texts(at)

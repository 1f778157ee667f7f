"""Every page survives many seeded random widget settings a user could enter: no exception, ever."""
from __future__ import annotations

import os

import pytest

from tests.fuzz import fuzz_page

STEPS = int(os.environ.get("CNN_DASH_FUZZ_STEPS", "300"))

# page -> widgets the fuzzer leaves alone (long work it cannot wait for, or downloads)
PAGES = {
    None: (),  # the home page
    "pages/shapes.py": (),
    "pages/architectures.py": (),
    "pages/training.py": (),  # Train and Stop are clicked too: the scheduler queues and caps the runs
    "pages/evaluation.py": (),  # with a finished run of two tiny models prepared in the session
    "pages/draw.py": (),  # the same run; the canvas and the file uploader are not fuzzed (AppTest cannot draw)
    "pages/draw.py#playground": (),  # the page's second tab
}
WITH_RUN = ("pages/evaluation.py", "pages/draw.py", "pages/draw.py#playground")


@pytest.fixture(autouse=True)
def own_scheduler(monkeypatch):
    """Runs the fuzzer starts queue on a scheduler of their own, stopped at the end."""
    from cnn_dash import scheduler as runs

    monkeypatch.setattr(runs, "_scheduler", runs.Scheduler())
    yield
    runs.scheduler().stop_all()


@pytest.fixture(scope="module")
def finished_run_registry():
    """A session's runs holding one finished run of a tiny CNN and a tiny FC net."""
    from tests.conftest import wait_for_run
    from tests.test_evaluation_page import MODELS, RunRegistry, TrainSettings

    registry = RunRegistry()
    settings = TrainSettings("MNIST", train_subset=1000, batch_size=50, seed=0, source="bundled")
    assert wait_for_run(registry.start(settings, MODELS)).status == "finished"
    return registry


@pytest.mark.parametrize("page", list(PAGES), ids=lambda p: p or "home")
def test_fuzz_page(page, request):
    avoid = PAGES[page]
    setup = None
    if page in WITH_RUN:
        from cnn_dash.ui.training import REGISTRY_KEY

        registry = request.getfixturevalue("finished_run_registry")
        tab = "Convolution playground" if page.endswith("#playground") else "Draw or upload"

        def setup(at):
            at.session_state[REGISTRY_KEY] = registry
            at.session_state["draw_tab"] = tab  # tabs are not widgets the fuzzer picks

    page = page.split("#")[0] if page else page
    changed = fuzz_page(page, STEPS, seed=1234, skip=lambda kind, w: any(a in str(w.label) for a in avoid),
                        setup=setup)
    assert changed >= STEPS  # every step really changed at least one widget

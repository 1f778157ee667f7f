"""The evaluation page in AppTest: with no run, and with a run of two real tiny models."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import pytest
from streamlit.testing.v1 import AppTest

from cnn_dash import metrics
from cnn_dash.data import load_dataset
from tests.test_metrics import train_tiny_pair

ROOT = Path(__file__).resolve().parent.parent
PAGE = str(ROOT / "pages" / "evaluation.py")


@dataclass
class FakeRun:
    """The surface of a training run that the page reads."""

    id: int
    models: tuple
    status: str
    trained: dict
    settings: SimpleNamespace

    def state_dicts(self):
        return {label: m.state_dict() for label, m in self.trained.items()}

    def trained_models(self):
        return self.trained

    def test_set(self):
        data = load_dataset(self.settings.dataset, source="bundled")
        return data.test_images, data.test_labels


@pytest.fixture(scope="module")
def run():
    cnn, fc = train_tiny_pair()
    models = tuple(SimpleNamespace(label=label) for label in ("CNN", "FC"))
    settings = SimpleNamespace(dataset="FashionMNIST", permute_pixels=False, seed=0)
    return FakeRun(1, models, "finished", {"CNN": cnn, "FC": fc}, settings)


def app_with(runs, monkeypatch) -> AppTest:
    monkeypatch.setattr("cnn_dash.ui.evaluation.session_runs", lambda: list(runs))
    at = AppTest.from_file(PAGE, default_timeout=60)
    return at.run()


def test_no_run_says_so(monkeypatch):
    at = app_with([], monkeypatch)
    assert not at.exception
    assert "No finished training run" in at.info[0].value


def test_a_running_run_is_not_evaluated(run, monkeypatch):
    running = FakeRun(2, run.models, "running", run.trained, run.settings)
    at = app_with([running], monkeypatch)
    assert not at.exception
    assert at.info and "No finished training run" in at.info[0].value


def test_page_shows_matrices_tables_and_mcnemar(run, monkeypatch):
    at = app_with([run], monkeypatch)
    assert not at.exception, at.exception
    charts = at.get("plotly_chart")
    # two matrices, the difference, five galleries/images and kernels, two feature-map grids
    assert len(charts) >= 5
    labels = run.test_set()[1].numpy()
    preds = {k: metrics.predict(m, run.test_set()[0], (0.2860, 0.3530)).preds for k, m in run.trained.items()}
    scores = at.dataframe[0].value
    assert scores.loc["CNN", "accuracy"] == pytest.approx((preds["CNN"] == labels).mean())
    per_class = at.dataframe[1].value
    assert "best f1" in per_class.columns and "Shirt" in per_class.index
    agree = at.dataframe[2].value
    d = metrics.disagreement(labels, preds["CNN"], preds["FC"])
    assert agree.loc["CNN right", "FC wrong"] == d.only_a
    assert agree.loc["CNN wrong", "FC right"] == d.only_b
    text = " ".join(m.value for m in at.markdown)
    assert "McNemar" in text and "p = " in text


def test_widgets_drive_the_page(run, monkeypatch):
    at = app_with([run], monkeypatch)
    at.toggle(key="eval_percent").set_value(True).run()
    assert not at.exception
    at.selectbox(key="eval_a").set_value("FC").run()
    at.selectbox(key="eval_b").set_value("CNN").run()
    assert not at.exception
    at.selectbox(key="eval_cell_true").set_value(3).run()
    at.number_input(key="eval_image").set_value(17).run()
    assert not at.exception
    at.selectbox(key="eval_b").set_value("FC").run()  # the same model twice: a message, not an error
    assert not at.exception
    assert any("two different models" in i.value for i in at.info)

"""The evaluation page in AppTest: with no run, with a finished run of two real tiny models, with a stopped one."""
from __future__ import annotations

import base64
import json
import time

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from cnn_dash import metrics
from cnn_dash.data import STATS
from cnn_dash.registry import RunRegistry
from cnn_dash.scheduler import Scheduler
from cnn_dash.specs import LayerSpec, NetSpec
from cnn_dash.specs import ModelConfig, OptimizerSpec, TrainSettings
from cnn_dash.ui.training import REGISTRY_KEY
from tests.conftest import APP, wait_for_run

PAGE = "pages/evaluation.py"
L = LayerSpec.of
TINY_CNN = NetSpec("Tiny CNN", (
    L("Conv2d", out_channels=6, kernel_size=3, padding=1), L("ReLU"), L("MaxPool2d", kernel_size=2),  # (6, 14, 14)
    L("Conv2d", out_channels=8, kernel_size=3), L("ReLU"), L("MaxPool2d", kernel_size=2),  # (8, 6, 6)
    L("Flatten"), L("Linear", out_features=10),
))
TINY_FC = NetSpec("Tiny FC", (L("Flatten"), L("Linear", out_features=24), L("ReLU"), L("Linear", out_features=10)))
MODELS = (
    ModelConfig.lettered("A", TINY_CNN, OptimizerSpec("adam", 0.003)),
    ModelConfig.lettered("B", TINY_FC, OptimizerSpec("adam", 0.003)),
)


def array(value) -> np.ndarray:
    """A figure's array as the browser receives it: plotly 7 sends numpy arrays as base64 typed arrays."""
    if isinstance(value, dict):
        shape = [int(n) for n in str(value["shape"]).split(",")]
        return np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"]).reshape(shape)
    return np.asarray(value)


@pytest.fixture(scope="module")
def registry() -> RunRegistry:
    """A session's runs with one finished run: both tiny models trained on the bundled Fashion-MNIST."""
    registry = RunRegistry(Scheduler())  # its own scheduler: never queued behind another test's runs
    settings = TrainSettings("FashionMNIST", train_subset=3000, batch_size=50, seed=0, source="bundled")
    run = wait_for_run(registry.start(settings, MODELS))
    assert run.status == "finished", run.error
    return registry


def open_page(registry: RunRegistry | None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=90)
    if registry is not None:
        at.session_state[REGISTRY_KEY] = registry
    at.run()
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception[0].value
    return at


def test_no_run_says_so_and_links_to_training():
    at = open_page(None)
    assert "No finished training run" in at.info[0].value
    links = at.get("page_link")
    assert links and links[0].proto.page_script_hash  # resolved to the registered training page
    assert not at.get("plotly_chart")


def test_page_shows_matrices_tables_and_mcnemar(registry):
    at = open_page(registry)
    (run,) = registry.trained()
    images, labels = run.test_set()
    labels = labels.numpy()
    models = run.trained_models()
    preds = {k: metrics.predict(m, images, STATS["FashionMNIST"]).preds for k, m in models.items()}
    a, b = (m.label for m in MODELS)

    # the two matrices, with exactly the counts of the models' answers
    figures = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    titles = [f["layout"].get("title", {}).get("text") for f in figures]
    for label in (a, b):
        right, wrong = (array(t["z"]) for t in figures[titles.index(label)]["data"])  # diagonal; mistakes
        z = np.where(np.eye(10, dtype=bool), right, wrong)
        np.testing.assert_array_equal(z, metrics.confusion_matrix(labels, preds[label], 10))
    assert f"Where {a.split(' · ')[0]} does better than {b.split(' · ')[0]}" in titles  # short: fits a phone

    scores = at.table[0].value
    assert scores.loc[a.split(" · ")[0], "accuracy"] == pytest.approx((preds[a] == labels).mean())
    per_class = next(t.value for t in at.table if "best f1" in t.value.columns)
    assert list(per_class.index[:10]) == list(run.classes)
    shirt = metrics.per_class_report(labels, preds[a], 10)
    assert per_class.loc["Shirt", "recall (A)"] == pytest.approx(shirt.recall[6])
    assert set(per_class["best f1"]) <= {"A", "B", "A = B"}
    agree = next(t.value for t in at.table if "A right" in t.value.index)
    d = metrics.disagreement(labels, preds[a], preds[b])
    assert agree.loc["A right", "B wrong"] == d.only_a  # short names, as in the per-class table
    assert agree.loc["A wrong", "B right"] == d.only_b
    test = metrics.mcnemar(d.only_a, d.only_b)
    text = " ".join(m.value for m in at.markdown)
    assert "McNemar" in text and f"p = {test.p_value:.3g}" in text
    downloads = {d.label for d in at.get("download_button")}
    assert {"A matrix (CSV, counts)", "B matrix (CSV, counts)", "Advantage of A over B (CSV, counts)",
            "Per-class table (CSV)", "Scores (CSV)", "Agreement table (CSV)"} <= downloads


def test_widgets_drive_the_page(registry):
    at = open_page(registry)
    a, b = (m.label for m in MODELS)
    at.toggle(key="eval_percent").set_value(True).run()
    assert not at.exception
    at.selectbox(key="eval_a").set_value(b).run()
    at.selectbox(key="eval_b").set_value(a).run()
    assert not at.exception
    for view in range(4):  # misclassified, fixed by A, broken by A, one matrix cell
        at.radio(key="eval_gallery").set_value(view).run()
        assert not at.exception
    at.selectbox(key="eval_cell_true").set_value(3).run()
    at.selectbox(key="eval_cell_pred").set_value(6).run()
    at.slider(key="eval_limit").set_value(48).run()
    at.number_input(key="eval_image").set_value(1999).run()
    assert not at.exception
    at.selectbox(key="eval_b").set_value(b).run()  # the same model twice: a message, not an error
    assert not at.exception
    assert any("two different models" in i.value for i in at.info)


def test_a_stopped_run_is_evaluated_with_its_weights():
    registry = RunRegistry(Scheduler())
    settings = TrainSettings("FashionMNIST", train_subset=10_000, batch_size=16, epochs=3, seed=1, source="bundled")
    run = registry.start(settings, MODELS)
    end = time.monotonic() + 60
    while not run.has_weights and time.monotonic() < end:
        time.sleep(0.02)
    registry.stop(run.id)
    wait_for_run(run)
    assert run.status == "stopped"
    at = open_page(registry)
    assert any("stopped before the end" in i.value for i in at.info)
    assert at.table[0].value.shape[0] == 2


def test_a_pixel_shuffled_run_shows_the_images_unshuffled():
    registry = RunRegistry(Scheduler())
    settings = TrainSettings("MNIST", train_subset=500, batch_size=50, seed=2, permute_pixels=True, source="bundled")
    run = wait_for_run(registry.start(settings, MODELS))
    at = open_page(registry)
    assert "shuffled pixels" in at.selectbox(key="eval_run").options[0]
    figures = {c.proto.id: json.loads(c.proto.spec) for c in at.get("plotly_chart")}
    (inside,) = [f for f in figures.values() if any("what the CNN sees" in a.get("text", "")
                                                    for a in f["layout"].get("annotations", []))]
    assert len(inside["data"]) == 2  # the original image and the shuffled one the CNN is given
    images, labels = run.test_set()
    preds = metrics.predict(run.trained_models()[MODELS[0].label], images, STATS["MNIST"]).preds
    assert at.table[0].value.loc["A", "accuracy"] == pytest.approx((preds == labels.numpy()).mean())


def test_shift_robustness_section(registry):
    from cnn_dash.shift import run_shift_curve

    at = open_page(registry)
    (run,) = registry.trained()
    figures = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    (fig,) = [f for f in figures if "shifted images" in f["layout"].get("title", {}).get("text", "")]
    curves, _ = run_shift_curve(run, 4)
    assert [t["name"] for t in fig["data"]] == [c.label for c in curves]
    for trace, curve in zip(fig["data"], curves):
        assert list(array(trace["x"])) == [0, 1, 2, 3, 4]
        np.testing.assert_allclose(array(trace["y"]), [100 * a for a in curve.accuracy])
    assert any("Moved by 3 px" in c.value for c in at.caption)
    at.slider(key="eval_max_shift").set_value(6).run()
    assert not at.exception
    fig = [json.loads(c.proto.spec) for c in at.get("plotly_chart") if "shifted" in c.proto.spec][0]
    assert list(array(fig["data"][0]["x"])) == list(range(7))
    assert "Shift robustness (CSV)" in {d.label for d in at.get("download_button")}


def test_the_title_names_the_winner_of_this_run(registry):
    at = open_page(registry)
    summary = at.table[0].value
    cnn, fc = (summary.loc[m.label.split(" · ")[0], "accuracy"] for m in MODELS)
    title = at.title[0].value
    expected = ("CNN wins" if cnn > fc else "FC net wins") if round(cnn * 1000) != round(fc * 1000) else "tie"
    assert title.startswith("Evaluation: on this run") and expected in title, title
    assert "where the CNN wins" not in title
    sentence = " ".join(m.value for m in at.markdown)
    assert f"{max(cnn, fc):.2%}" in sentence and f"{min(cnn, fc):.2%}" in sentence
    text = " ".join(c.value for c in at.caption)
    assert "Shirts" in text and "Digits written alike" not in text  # a Fashion-MNIST run


def test_an_mnist_run_has_no_fashion_words():
    registry = RunRegistry(Scheduler())
    settings = TrainSettings("MNIST", train_subset=300, batch_size=50, seed=3, source="bundled")
    wait_for_run(registry.start(settings, MODELS))
    at = open_page(registry)
    text = " ".join(e.value for kind in ("caption", "markdown", "title", "info") for e in getattr(at, kind))
    for word in ("Shirt", "pullover", "coat", "garment", "Fashion"):
        assert word.lower() not in text.lower(), word
    at.switch_page("pages/draw.py").run()
    assert not at.exception
    text = " ".join(e.value for kind in ("caption", "markdown") for e in getattr(at, kind))
    assert "garment" not in text and "test digits" in text


def test_every_table_shows_its_numbers_whole(registry):
    from tests.tables_check import assert_tables_readable

    at = open_page(registry)
    assert assert_tables_readable(at) == 5  # scores, test accuracy per epoch, per class, agreement, shift


def test_moving_the_input_moves_the_cnn_maps_and_not_the_fc_units(registry):
    from cnn_dash.inference import model_input
    from cnn_dash.equivariance import equivariance, equivariance_sentence

    at = open_page(registry)
    at.slider(key="eq_dy").set_value(3).run()
    assert not at.exception
    run = registry.runs()[0]
    models = run.trained_models()
    e = equivariance(models[MODELS[0].label], models[MODELS[1].label], run.dataset.test_images[0].numpy(), 3, 2,
                     lambda batch: model_input(batch, run.settings))
    shown = "\n".join(str(m.value) for m in at.markdown)
    assert equivariance_sentence(e) in shown and "Moved by (3, 2) pixels" in shown
    figures = [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]
    titles = [[a["text"] for a in f["layout"].get("annotations", [])] for f in figures]
    (figure,) = [f for f, t in zip(figures, titles) if "CNN: moved<br>along" in t]  # wrapped for a phone
    assert [t["type"] for t in figure["data"]] == ["heatmap"] * 6  # input, CNN map, FC units; original and moved

"""The 'Try it yourself' page in AppTest: no run, a digit uploaded for a finished MNIST run, a bad upload,
a Fashion-MNIST run, and the convolution playground."""
from __future__ import annotations

import base64
import io
import json
from dataclasses import replace

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from cnn_dash import drawing, hints, inference
from cnn_dash.data import load_dataset
from cnn_dash.placement import placement_accuracy
from cnn_dash.presets import placement_pair
from cnn_dash.registry import RunRegistry
from cnn_dash.scheduler import Scheduler
from cnn_dash.specs import TrainSettings
from cnn_dash.ui.training import REGISTRY_KEY
from tests.conftest import APP, fresh_owner, wait_for_run, wait_until_idle
from tests.test_evaluation_page import MODELS
from tests.test_evaluation_page import array as array_2d

PAGE = "pages/draw.py"


@pytest.fixture(scope="module")
def trained() -> RunRegistry:
    """Two finished runs of the tiny CNN and FC net: Fashion-MNIST, then MNIST (the newest)."""
    registry = RunRegistry(Scheduler())
    for dataset in ("FashionMNIST", "MNIST"):
        run = wait_for_run(registry.start(TrainSettings(dataset, train_subset=1000, batch_size=50, seed=0,
                                                        source="bundled"), MODELS))
        assert run.status == "finished", run.error
    return registry


@pytest.fixture
def registry(trained: RunRegistry) -> RunRegistry:
    """A browser of this test's own with the two runs: the run another test viewed is not picked first here."""
    return fresh_owner(trained)


def open_page(registry: RunRegistry | None, tab: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=90)
    if registry is not None:
        registry.last_viewed = None  # the pickers start from the newest run, not the one a test before picked
        at.session_state[REGISTRY_KEY] = registry
    at.run()
    at.switch_page(PAGE).run()
    if tab:
        at.session_state["draw_tab"] = tab
        at.run()
    assert not at.exception, at.exception[0].value
    return at


def upload(at: AppTest, data: bytes, name: str = "digit.png") -> AppTest:
    at.radio(key="draw_source_MNIST").set_value("Upload a picture").run()
    at.get("file_uploader")[0].set_value((name, data, "image/png")).run()
    assert not at.exception, at.exception[0].value
    return at


def array(value) -> np.ndarray:
    """A figure's array as sent to the browser; a 1-D typed array comes without a shape."""
    if isinstance(value, dict) and "shape" not in value:
        return np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
    return array_2d(value)


def png_of(image: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return buffer.getvalue()


def test_without_a_run_it_says_so_and_offers_the_quick_demo():
    at = open_page(None)
    assert "No finished training run" in at.info[0].value and "Quick demo" in at.info[0].value
    links = at.get("page_link")
    assert links and links[0].proto.page_script_hash and "Quick demo" in links[0].proto.label
    assert at.radio(key="draw_source_none").value == "Draw"  # the canvas is drawn (AppTest cannot draw on it)


def test_an_uploaded_digit_gets_every_models_probabilities(registry):
    at = open_page(registry)
    run = registry.trained()[-1]
    assert run.settings.dataset == "MNIST" and at.selectbox(key="draw_run").value == run.id  # newest first
    digit = load_dataset("MNIST", source="bundled").test_images[7].numpy()
    at = upload(at, png_of(255 - np.kron(digit, np.ones((5, 5), dtype=np.uint8))))  # dark on white, 140×140
    image = drawing.to_mnist(drawing.decode_upload(png_of(255 - np.kron(digit, np.ones((5, 5), np.uint8))))).image
    expected = inference.probabilities(run.trained_models(), image, run.settings)
    said = [m.value for m in at.markdown if " says " in m.value]
    assert len(said) == 2
    for (label, p), line in zip(expected.items(), said):
        assert line.startswith(f"**{label}**") and f"**{int(np.argmax(p))}**" in line
    bars = next(json.loads(c.proto.spec) for c in at.get("plotly_chart") if "draw_probabilities" in c.proto.id)
    for trace in bars["data"]:
        np.testing.assert_allclose(array(trace["y"]), expected[trace["name"]], rtol=1e-5)
    ids = " ".join(c.proto.id for c in at.get("plotly_chart"))
    assert "draw_input" in ids and "draw_kernels" in ids and ids.count("draw_maps_") == 2  # two convolutions
    assert "inverted to light ink on black" in " ".join(c.value for c in at.caption)


def test_a_bad_upload_gives_a_message_and_no_predictions(registry):
    at = upload(open_page(registry), b"GIF89a not really", "digit.png")
    assert "not an image" in at.error[0].value
    assert not [m for m in at.markdown if " says " in m.value]
    # the refused file left the list (a fresh uploader, empty): the next picture is not listed beside it
    (uploader,) = at.get("file_uploader")
    assert uploader.value is None and "digit.png was not used" in at.error[0].value


@pytest.mark.parametrize("name, data, reason", [
    ("photo.jpg", b"\xff\xd8\xff" + bytes(drawing.MAX_UPLOAD_BYTES + 2**19), "The file is 1.5 MB; the limit is 1 MB"),
    ("digit.gif", "gif", "This is a GIF image; upload a PNG or JPEG"),
])
def test_a_file_the_widget_once_refused_reaches_the_page_and_leaves_the_list(registry, name, data, reason):
    """Too big for the page or of another type, a file still gets through the widget (which refused it itself and
    kept it listed, unseen by the page): the page says why it was not used, the list is emptied, and the next
    picture is used alone."""
    if data == "gif":
        buffer = io.BytesIO()
        Image.new("L", (64, 64), 255).save(buffer, format="GIF")
        data = buffer.getvalue()
    at = open_page(registry)
    at.radio(key="draw_source_MNIST").set_value("Upload a picture").run()
    (uploader,) = at.get("file_uploader")
    assert uploader.proto.type == [] and uploader.proto.max_upload_size_mb == drawing.UPLOAD_CEILING_MB
    uploader.set_value((name, data, "application/octet-stream")).run()
    assert not at.exception, at.exception[0].value
    assert f"{name} was not used: {reason}" in at.error[0].value
    (uploader,) = at.get("file_uploader")
    assert uploader.value is None
    digit = load_dataset("MNIST", source="bundled").test_images[7].numpy()
    uploader.set_value(("digit.png", png_of(255 - np.kron(digit, np.ones((5, 5), np.uint8))), "image/png")).run()
    assert not at.error and [m for m in at.markdown if " says " in m.value]


def test_a_fashion_mnist_run_defaults_to_upload_and_names_its_classes(registry):
    at = open_page(registry)
    fashion = registry.trained()[0]
    at.selectbox(key="draw_run").set_value(fashion.id).run()
    assert at.radio(key="draw_source_FashionMNIST").value == "Upload a picture"
    boot = load_dataset("FashionMNIST", source="bundled").test_images[0].numpy()
    at.get("file_uploader")[0].set_value(("boot.png", png_of(boot), "image/png")).run()
    assert not at.exception, at.exception[0].value
    said = [m.value for m in at.markdown if " says " in m.value]
    assert len(said) == 2 and all(any(c in line for c in fashion.classes) for line in said)


def test_the_playground_shows_input_kernel_output_and_pooling(registry):
    at = open_page(registry, tab="Convolution playground")
    at.selectbox(key="play_kernel").set_value("Sobel x (vertical edges)")
    at.number_input(key="play_stride").set_value(2).run()
    text = " ".join(m.value for m in at.markdown)
    assert "output **(1, 13, 13)**" in text
    ids = " ".join(c.proto.id for c in at.get("plotly_chart"))
    for key in ("play_in", "play_kernel_fig", "play_out", "play_MaxPool2d", "play_AvgPool2d", "play_maps"):
        assert key in ids, key
    out = next(json.loads(c.proto.spec) for c in at.get("plotly_chart") if "play_out" in c.proto.id)
    image = load_dataset(registry.trained()[-1].settings.dataset, source="bundled").test_images[0].numpy()
    from cnn_dash import playground

    expected = playground.apply_kernel(image, playground.preset("Sobel x (vertical edges)"), stride=2).output
    np.testing.assert_allclose(array(out["data"][0]["z"]), expected, rtol=1e-5)


def test_the_playground_explains_a_convolution_torch_refuses(registry):
    at = open_page(registry, tab="Convolution playground")
    at.selectbox(key="play_kernel").set_value("Box blur 5×5")
    at.number_input(key="play_dilation").set_value(10).run()
    assert not at.exception and "not possible" in at.error[0].value and "larger than the padded input" in \
        at.error[0].value
    at.selectbox(key="play_kernel").set_value("Sobel x (vertical edges)")  # 3×3: dilation 14 spans 29 pixels
    at.number_input(key="play_dilation").set_value(14).run()  # taken (it was refused without a word), explained
    assert at.number_input(key="play_dilation").value == 14 and "larger than the padded input" in at.error[0].value


def test_the_playground_can_use_the_drawing(registry):
    at = open_page(registry)
    digit = load_dataset("MNIST", source="bundled").test_images[3].numpy()
    upload(at, png_of(digit))
    at.session_state["draw_tab"] = "Convolution playground"
    at.run()
    at.radio(key="play_source").set_value("Your drawing or upload").run()
    assert not at.exception
    inp = next(json.loads(c.proto.spec) for c in at.get("plotly_chart") if "play_in" in c.proto.id)
    np.testing.assert_array_equal(array(inp["data"][0]["z"]), drawing.to_mnist(digit).image)


def test_a_pair_built_for_drawing_off_centre_is_offered_trained_and_read_from_its_own_scores(registry, monkeypatch):
    """The button shows when the chosen run's CNN does not hold (placement.py's numbers say so), trains the
    shift-tolerant pair as an ordinary run, picks it once it ends, and the page's words are that run's numbers."""
    def small_pair(dataset: str = "MNIST", train_size: int | None = None):  # the pair, briefly, on the sample
        settings, models = placement_pair(dataset, train_size)
        return replace(settings, train_subset=2_000, epochs=1, source="bundled"), models

    monkeypatch.setattr("cnn_dash.presets.placement_pair", small_pair)
    at = open_page(registry)
    run = registry.trained()[-1]
    assert "holds" not in hints.placement_verdicts(run.models, scores(run)).values()  # the tiny CNN: no pooling
    assert _has(at, "draw_pair")
    at.button(key="draw_pair").click().run()
    pair = registry.runs()[-1]
    assert pair.models == small_pair()[1] and pair.models[0].net.name == "Shift-tolerant CNN (global max pool)"
    assert any("trained" in p.proto.text or "waiting" in p.proto.text for p in at.get("progress"))
    wait_for_run(pair)
    at.run()
    assert not at.exception and at.selectbox(key="draw_run").value == pair.id  # the pair is the page's run now
    accs = scores(pair)
    assert hints.placement_reading(pair.models, accs) in [c.value for c in at.caption]
    assert _has(at, "draw_pair") == ("holds" not in hints.placement_verdicts(pair.models, accs).values())
    wait_until_idle(registry.scheduler)  # the new net's steps are timed after its run (conftest)


def _has(at: AppTest, key: str) -> bool:
    return any(b.key == key for b in at.button)


def scores(run) -> dict[str, dict[str, float]]:
    return placement_accuracy(run.trained_models(), run.dataset.test_images, run.dataset.test_labels,
                              lambda batch: inference.model_input(batch, run.settings))

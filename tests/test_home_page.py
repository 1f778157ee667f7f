"""The router and the home page in AppTest."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from streamlit.testing.v1 import AppTest

from cnn_dash import data
from cnn_dash.plots.images import tiles
from tests.conftest import APP


@pytest.fixture
def app(monkeypatch, tmp_path):
    monkeypatch.delenv("CNN_DASH_DATA_DIR", raising=False)
    monkeypatch.setenv("CNN_DASH_DOWNLOAD", "0")
    monkeypatch.setenv("CNN_DASH_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(data, "DEBIAN_DIR", tmp_path / "no-debian")
    data.clear_cache()
    return AppTest.from_file(APP, default_timeout=60)


def test_home_renders_with_source_and_examples(app):
    app.run()
    assert not app.exception
    assert "beat fully-connected" in app.title[0].value
    assert app.subheader[0].value == "MNIST (handwritten digits): 10,000 train / 2,000 test images"
    assert "bundled stratified sample" in app.sidebar.caption[0].value
    (grid,) = app.get("image")  # plain PNG tiles: no chart library for a classroom of browsers to load
    assert grid.captions == [str(d) for d in range(10) for _ in range(2)]


def test_home_starts_with_the_quick_demo_and_links_every_page(app):
    app.run()
    links = [(link.proto.label, link.proto.page) for link in app.get("page_link")]
    assert links[0][0].startswith("Quick demo") and links[0][1] == "training"  # the first step
    assert "**Start here:**" in app.markdown[1].value
    assert {page for _, page in links} == {"shapes", "architectures", "training", "evaluation", "draw"}
    assert all(link.proto.page_script_hash for link in app.get("page_link"))  # each one resolved to its page


def test_home_switches_dataset_and_example_set(app):
    app.run()
    app.sidebar.selectbox(key="dataset_title").select("Fashion-MNIST (clothing)").run()
    assert not app.exception
    assert app.subheader[0].value.startswith("Fashion-MNIST (clothing)")
    for value in (0, 10_000, 17):
        app.number_input[0].set_value(value).run()
        assert not app.exception


def test_full_data_dir_is_announced(app, monkeypatch):
    full = data.SAMPLE_DIR.parents[2] / "shared" / "datasets"
    if not (full / "MNIST" / "raw").is_dir():
        pytest.skip("../shared/datasets is absent")
    monkeypatch.setenv("CNN_DASH_DATA_DIR", str(full))
    app.run()
    assert not app.exception
    assert app.subheader[0].value == "MNIST (handwritten digits): 60,000 train / 10,000 test images"
    caption = app.sidebar.caption[0].value  # in words, never the server's path
    assert "full MNIST in a local folder" in caption and str(full) not in caption
    assert all(str(full) not in m.value for m in [*app.markdown, *app.caption, *app.sidebar.caption])


def test_tiles_enlarge_each_pixel_into_a_square():
    images = torch.randint(0, 256, (3, 28, 28), dtype=torch.uint8)
    shown = tiles(images, scale=3)
    assert len(shown) == 3 and all(t.shape == (84, 84) and t.dtype == np.uint8 for t in shown)
    for tile, image in zip(shown, images):
        for dy in range(3):
            for dx in range(3):
                assert (tile[dy::3, dx::3] == image.numpy()).all()

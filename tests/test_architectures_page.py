"""The architectures page in AppTest: every preset pair, input and batch size, the matched FC, a custom stack."""
from __future__ import annotations

import pytest
from torch import nn
from streamlit.testing.v1 import AppTest

from cnn_dash.build import build_model
from cnn_dash.presets import PRESETS, cnn_presets, fc_presets
from cnn_dash.ui.model_picker import CUSTOM, preset_options
from tests.conftest import APP


def python_code(at: AppTest) -> list[str]:
    """The page's code blocks of PyTorch code (the "Copy link" box holds a link, not code)."""
    return [c.value for c in at.code if c.language == "python"]


def n_params(name: str) -> int:
    return sum(p.numel() for p in build_model(PRESETS[name]).parameters())


@pytest.fixture
def at() -> AppTest:
    app = AppTest.from_file(APP, default_timeout=60)
    app.run()
    app.switch_page("pages/architectures.py").run()
    assert not app.exception
    assert app.title[0].value == "Architectures"
    return app


def shown_params(at: AppTest) -> tuple[int, int]:
    """Total parameters in the CNN's and the FC's layer tables."""
    tables = [df.value for df in at.table if "Params" in df.value.columns]
    assert len(tables) == 2
    return int(tables[0]["Params"].sum()), int(tables[1]["Params"].sum())


def test_defaults_are_the_seed_notebook_pair(at: AppTest) -> None:
    assert not at.error
    assert shown_params(at) == (13_686, 12_730)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Parameters"] == f"{13_686 / 12_730:.2f}×"
    totals = [df.value for df in at.table if "Value" in df.value.columns]
    assert totals[0]["Value"].iloc[0] == "13,686" and totals[1]["Value"].iloc[0] == "12,730"
    assert "nn.Conv2d(in_channels=1, out_channels=16" in python_code(at)[0]
    assert len(at.get("plotly_chart")) == 1


def test_both_pickers_offer_every_preset(at: AppTest) -> None:
    for key in ("arch_cnn_preset", "arch_fc_preset"):
        assert set(at.selectbox(key=key).options) == {*PRESETS, CUSTOM}
    assert preset_options("fc")[: len(fc_presets())] == list(fc_presets())
    assert preset_options("cnn")[: len(cnn_presets())] == list(cnn_presets())


def test_every_preset_pair(at: AppTest) -> None:
    # Every CNN against every FC, and each side also given a preset of the other kind.
    pairs = [(c, f) for c in cnn_presets() for f in fc_presets()]
    pairs += [("MLP 784-128-10", "LeNet-5"), ("FCNet (CNN notebook)", "ConvNet (CNN notebook)")]
    for cnn, fc in pairs:
        at.selectbox(key="arch_cnn_preset").select(cnn)
        at.selectbox(key="arch_fc_preset").select(fc)
        at.run()
        assert not at.exception and not at.error, (cnn, fc)
        assert shown_params(at) == (n_params(cnn), n_params(fc)), (cnn, fc)
        metrics = {m.label: m.value for m in at.metric}
        assert metrics["Parameters"] == f"{n_params(cnn) / n_params(fc):.2f}×", (cnn, fc)


def test_batch_and_input_size(at: AppTest) -> None:
    at.number_input(key="arch_batch").set_value(1)
    at.run()
    tables = [df.value for df in at.table if "Output shape" in df.value.columns]
    assert tables[0]["Output shape"].iloc[0] == "[1, 16, 28, 28]"
    at.selectbox(key="arch_cnn_preset").select("LeNet-5")
    at.number_input(key="arch_channels").set_value(3)
    at.number_input(key="arch_height").set_value(32)
    at.number_input(key="arch_width").set_value(32)
    at.number_input(key="arch_batch").set_value(1024)
    at.run()
    assert not at.exception and not at.error
    tables = [df.value for df in at.table if "Output shape" in df.value.columns]
    assert tables[0]["Output shape"].iloc[0] == "[1024, 6, 32, 32]"
    assert tables[1]["Output shape"].iloc[0] == "[1024, 3072]"  # the FC's Flatten sees 3×32×32
    assert "torch.randn(1, 3, 32, 32)" in python_code(at)[0]


def test_too_small_input_is_explained_not_raised(at: AppTest) -> None:
    at.number_input(key="arch_height").set_value(6)
    at.run()
    assert not at.exception
    assert any("does not work on a 1×6×28 input" in e.value for e in at.error)
    assert not [df for df in at.table if "Params" in df.value.columns]  # no half comparison


def test_parameter_matched_fc(at: AppTest) -> None:
    at.toggle(key="arch_matched").set_value(True).run()
    assert not at.exception and not at.error
    assert "MLP 784-17-10 (matched)" in at.info[0].value
    assert shown_params(at) == (13_686, 13_525)  # 784→17→10, the closest to the CNN's 13,686
    at.slider(key="arch_hidden").set_value(2)
    at.selectbox(key="arch_cnn_preset").select("Two-block 5×5 CNN (2020 tutorial)")
    at.run()
    assert not at.exception and not at.error
    cnn, fc = shown_params(at)
    assert cnn == 3_199_106 and abs(fc - cnn) / cnn < 0.001


def edit(at: AppTest, key: str, **state) -> None:
    """Seed the layer table's edit state (AppTest cannot type into st.data_editor cells) and rerun."""
    at.session_state[f"{key}__table"] = {"edited_rows": {}, "added_rows": [], "deleted_rows": [], **state}
    at.run()


def test_custom_stack_edited_in_the_layer_table(at: AppTest) -> None:
    at.selectbox(key="arch_cnn_preset").select(CUSTOM).run()
    assert at.selectbox(key="arch_cnn_start").value == "ConvNet (CNN notebook)"
    assert len(at.data_editor) == 1 and list(at.data_editor[0].value["type"])[:2] == ["Conv2d", "MaxPool2d"]
    assert shown_params(at) == (13_686, 12_730)  # unedited: the preset's numbers
    # first convolution 16 -> 8 channels, and a ReLU appended at the end
    edit(at, "arch_cnn_editor", edited_rows={0: {"out": "8"}}, added_rows=[{"type": "ReLU"}])
    assert not at.exception and not at.error
    oracle = nn.Sequential(
        nn.Conv2d(1, 8, 3, 1, 1), nn.MaxPool2d(2, 2, 0), nn.Conv2d(8, 32, 3), nn.MaxPool2d(2, 2, 1),
        nn.Conv2d(32, 64, 1), nn.Conv2d(64, 4, 5), nn.Flatten(), nn.Linear(36, 10), nn.ReLU(),
    )
    assert shown_params(at)[0] == sum(p.numel() for p in oracle.parameters()) == 11_302
    tables = [df.value for df in at.table if "Output shape" in df.value.columns]
    assert list(tables[0]["Layer"])[-1] == "ReLU: 1-9"
    assert "**ConvNet (CNN notebook) (edited)**" in [m.value for m in at.markdown]
    assert "nn.Conv2d(in_channels=1, out_channels=8" in python_code(at)[0]


def test_invalid_custom_stacks_are_explained(at: AppTest) -> None:
    at.selectbox(key="arch_fc_preset").select(CUSTOM).run()
    edit(at, "arch_fc_editor", edited_rows={1: {"kernel_size": "40"}})  # the start is FCNet: row 2 is Linear
    assert not at.exception
    assert any("Linear has no argument 'kernel_size'" in e.value for e in at.error)
    edit(at, "arch_fc_editor", edited_rows={1: {"out": "1 6"}})
    assert not at.exception
    assert any("cannot be read" in e.value for e in at.error)
    edit(at, "arch_fc_editor", edited_rows={0: {"type": "Conv2d", "out": "4", "kernel_size": "40"}})
    assert not at.exception
    assert any("does not work on a 1×28×28 input: layer 1 (Conv2d" in e.value for e in at.error)
    assert not [df for df in at.table if "Params" in df.value.columns]

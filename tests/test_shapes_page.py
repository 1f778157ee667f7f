"""The shape calculator page in AppTest (both modes, out-of-range values) and the layer table it edits."""
from __future__ import annotations

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from cnn_dash.presets import PRESETS
from cnn_dash.specs import LayerSpec, NetSpec
from cnn_dash.ui.stack_editor import from_frame, parse_value, to_frame
from tests.conftest import APP, ROOT

PAGE = "pages/shapes.py"
STACK_KEY = "shp_stack_0"  # the editor of the first preset


def python_code(at: AppTest) -> list[str]:
    """The page's code blocks of PyTorch code (the "Copy link" box holds a link, not code)."""
    return [c.value for c in at.code if c.language == "python"]


def open_page() -> AppTest:
    """The page through the router when the router lists it, else on its own."""
    if PAGE in (ROOT / "streamlit_app.py").read_text():
        at = AppTest.from_file(APP, default_timeout=60)
        at.run()
        at.switch_page(PAGE)
    else:
        at = AppTest.from_file(str(ROOT / PAGE), default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    return at


@pytest.fixture
def at() -> AppTest:
    return open_page()


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_single_layer_defaults_explain_the_rounding(at):
    assert metrics(at) == {"Output shape": "16×14×14", "Parameters": "160", "Multiply-adds per image": "31,360"}
    latex = [x.value for x in at.latex]
    assert any(r"\tfrac{27}{2}" in x and "= 14" in x for x in latex)
    assert any("never covered" in m.value for m in at.markdown)
    assert len(at.get("plotly_chart")) == 1  # the window
    assert python_code(at)[0].startswith("nn.Conv2d(in_channels=1, out_channels=16, kernel_size=3, stride=2, padding=1")


@pytest.mark.parametrize("kind", ["Conv2d", "MaxPool2d", "AvgPool2d", "ConvTranspose2d", "AdaptiveAvgPool2d",
                                  "Conv1d", "Conv3d", "LocallyConnected2d"])
def test_every_layer_type_renders(at, kind):
    at.selectbox(key="shp_kind").select(kind).run()
    assert not at.exception and not at.error, (kind, [e.value for e in at.error])
    assert "Output shape" in metrics(at)
    charts = len(at.get("plotly_chart"))
    assert charts == (2 if "Pool2d" in kind and kind != "AdaptiveAvgPool2d" else 1)  # window (+ max vs avg)


def test_a_locally_connected_layer_has_a_convolution_s_windows_and_a_kernel_per_position(at):
    at.selectbox(key="shp_kind").select("LocallyConnected2d").run()
    # the default 3×3, stride 2, padding 1 on 1×28×28: 14×14 positions, each with its own 9 weights and bias
    assert metrics(at) == {"Output shape": "16×14×14", "Parameters": f"{16 * 10 * 14 * 14:,}",
                           "Multiply-adds per image": f"{16 * 10 * 14 * 14:,}"}
    assert python_code(at)[0].startswith("LocallyConnected2d(in_channels=1, out_channels=16, kernel_size=3")
    at.radio(key="shp_mode").set_value("Network").run()
    assert not at.exception


def test_output_cell_slider_and_box_stay_in_step(at):
    at.number_input(key="shp_cell_height__box").set_value(5).run()
    assert at.slider(key="shp_cell_height__slider").value == 5
    at.slider(key="shp_cell_width__slider").set_value(13).run()
    assert at.number_input(key="shp_cell_width__box").value == 13
    # a smaller output clamps the chosen cell instead of failing
    at.number_input(key="shp_Conv2d_stride").set_value(4).run()
    assert not at.exception and at.slider(key="shp_cell_width__slider").value == 6


@pytest.mark.parametrize("key, value, words", [
    ("shp_Conv2d_kernel", 0, "kernel_size must be positive"),
    ("shp_Conv2d_kernel", 40, "larger than the padded input 30 (28 + 2*1)"),
    ("shp_Conv2d_kernel", -4, "kernel_size must be positive"),
    ("shp_Conv2d_stride", 0, "stride must be positive"),
    ("shp_Conv2d_pad", -1, "padding must be at least 0"),
    ("shp_Conv2d_dilation", 20, "dilation 20"),
    ("shp_groups", 3, "divisible by groups=3"),
    ("shp_out_ch", 0, "out_channels must be positive"),
    ("shp_in_ch", 0, "at least 1"),
    ("shp_in_size", 0, "at least 1"),
])
def test_out_of_range_values_are_explained_not_raised(at, key, value, words):
    at.number_input(key=key).set_value(value).run()
    assert not at.exception
    assert at.error and words in at.error[0].value, [e.value for e in at.error]
    assert not at.get("plotly_chart")


def test_same_padding_with_stride_is_refused(at):
    at.radio(key="shp_pad_kind").set_value("same").run()
    assert "padding='same' needs stride 1" in at.error[0].value
    at.number_input(key="shp_Conv2d_stride").set_value(1).run()
    assert not at.error and metrics(at)["Output shape"] == "16×28×28"


def test_huge_values_do_not_hang_the_page(at):
    at.number_input(key="shp_in_size").set_value(at.number_input(key="shp_in_size").max)
    at.number_input(key="shp_out_ch").set_value(at.number_input(key="shp_out_ch").max).run()
    assert not at.exception and not at.error
    assert any("too large to draw" in i.value for i in at.info)


def test_non_square_and_ceil_mode_pooling(at):
    at.selectbox(key="shp_kind").select("MaxPool2d").run()
    at.toggle(key="shp_separate").set_value(True).run()
    at.number_input(key="shp_in_size_width").set_value(5)
    at.checkbox(key="shp_ceil").check().run()
    assert not at.exception and metrics(at)["Output shape"] == "1×14×3"
    assert any("ceil_mode rounds up" in m.value for m in at.markdown)


def test_network_mode_starts_from_the_seed_convnet(at):
    at.radio(key="shp_mode").set_value("Network").run()
    assert not at.exception and not at.error
    table = [df.value for df in at.table if "receptive field" in df.value.columns][0]
    assert list(table["output shape"]) == ["16×28×28", "16×14×14", "32×12×12", "32×7×7", "64×7×7", "4×3×3", "36", "10"]
    assert table["parameters"].sum() == 13_686
    assert list(table["receptive field"])[:6] == ["3×3", "4×4", "8×8", "10×10", "10×10", "26×26"]
    assert "in_features = 4 · 3 · 3 = 36" in at.info[0].value
    assert "nn.Linear(in_features=36, out_features=10)" in python_code(at)[0]


def test_network_mode_every_preset(at):
    at.radio(key="shp_mode").set_value("Network").run()
    for name in PRESETS:
        at.selectbox(key="shp_preset").select(name).run()
        assert not at.exception and not at.error, name
        assert "model = nn.Sequential(" in python_code(at)[0]


def test_network_mode_explains_a_bad_stack_and_a_too_small_input(at):
    at.radio(key="shp_mode").set_value("Network").run()
    at.number_input(key="shp_net_h").set_value(4).run()
    assert not at.exception and "layer 3 (Conv2d, input (16, 2, 14))" in at.error[0].value
    at.number_input(key="shp_net_h").set_value(28).run()
    # a typed-in wrong in_features, as in pytorch/examples' nn.Linear(9216, 128)
    layers = (*PRESETS["ConvNet (CNN notebook)"].layers[:-1], LayerSpec.of("Linear", in_features=9216, out_features=10))
    at.session_state[f"{STACK_KEY}__base"] = to_frame(layers)
    at.run()
    assert not at.exception and "in_features=9216" in at.error[0].value and "36" in at.error[0].value


def test_network_mode_table_that_cannot_be_read(at):
    at.radio(key="shp_mode").set_value("Network").run()
    frame = to_frame(PRESETS["ConvNet (CNN notebook)"].layers)
    frame.loc[0, "kernel_size"] = "3 x 3"
    at.session_state[f"{STACK_KEY}__base"] = frame
    at.run()
    assert not at.exception and "row 1 (Conv2d): cannot read '3 x 3'" in at.error[0].value


# ---- the table itself ----

@pytest.mark.parametrize("text, value", [("3", 3), ("3, 5", (3, 5)), ("(3, 5)", (3, 5)), ("same", "same"),
                                         ("True", True), ("0.25", 0.25), ("", None), (" ", None), (None, None),
                                         (pd.NA, None), ("3,", (3,)), ("None, 4", (None, 4))])
def test_cells_read_as_torch_arguments(text, value):
    assert parse_value(text) == value


@pytest.mark.parametrize("text", ["3 x 3", "[[1]]", "{1: 2}", "3 5", "import os"])
def test_unreadable_cells_say_what_to_write(text):
    with pytest.raises(ValueError, match="cannot read"):
        parse_value(text)


@pytest.mark.parametrize("name", list(PRESETS))
def test_table_round_trip_of_every_preset(name):
    assert from_frame(to_frame(PRESETS[name].layers)) == (PRESETS[name].layers, None)


def test_table_more_column_empty_rows_and_missing_type():
    frame = to_frame((LayerSpec.of("MaxPool2d", kernel_size=2, ceil_mode=True, padding=(1, 0)),))
    assert frame.loc[0, "more"] == "ceil_mode=True" and frame.loc[0, "padding"] == "1, 0"
    frame.loc[0, "more"] = "ceil_mode=False, dilation=(2, 1), padding_mode=reflect"
    frame = pd.concat([frame, pd.DataFrame([{"type": None}])], ignore_index=True)  # an empty new row
    layers, error = from_frame(frame)
    assert error is None and layers[0].kwargs() == {"kernel_size": 2, "padding": (1, 0), "ceil_mode": False,
                                                     "dilation": (2, 1), "padding_mode": "reflect"}
    frame.loc[1, "out"] = "4"
    assert from_frame(frame)[1].startswith("row 2: choose a layer type")
    frame = to_frame((LayerSpec.of("ReLU"),))
    frame.loc[0, "out"] = "4"
    assert "no output size" in from_frame(frame)[1]
    assert from_frame(frame.iloc[0:0])[1] == "the table has no layers: add a row"


def test_editor_state_survives_reruns_and_resets_with_a_new_start(at):
    at.radio(key="shp_mode").set_value("Network").run()
    edited = to_frame(PRESETS["ConvNet (CNN notebook)"].layers[:-2])
    at.session_state[f"{STACK_KEY}__base"] = edited
    at.run()
    at.run()  # an unrelated rerun keeps the edit
    table = [df.value for df in at.table if "receptive field" in df.value.columns][0]
    assert len(table) == 6
    assert at.session_state[f"{STACK_KEY}__initial"] == PRESETS["ConvNet (CNN notebook)"]
    assert isinstance(at.session_state[f"{STACK_KEY}__initial"], NetSpec)

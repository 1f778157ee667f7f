"""Tables show every number whole: column widths from the longest cell, on the Shape calculator and Architectures."""
from __future__ import annotations

import json

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from cnn_dash.ui.tables import CHAR_PX, PADDING_PX, column_widths, needed_px
from tests.conftest import APP
from tests.tables_check import assert_tables_fit


def test_widths_come_from_the_longest_cell_or_header():
    frame = pd.DataFrame({"Mult-adds": [8_028_160, 3], "a": [0.5, 0.25]}, index=["x", "a much longer name"])
    config = column_widths(frame.style.format({"a": "{:.2%}"}))
    assert config["Mult-adds"]["width"] == needed_px("8,028,160") == PADDING_PX + 9 * CHAR_PX
    assert config["a"]["width"] == needed_px("50.00%")
    assert config["_index"]["width"] == needed_px("a much longer name")
    assert "_index" not in column_widths(frame, index=False)


@pytest.fixture
def at() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=90)
    at.run()
    return at


def test_shape_calculator_network_table_shows_every_column_whole(at):
    at.switch_page("pages/shapes.py").run()
    at.radio(key="shp_mode").set_value("Network").run()
    assert not at.exception
    assert assert_tables_fit(at) == 1
    (trace,) = [d for d in at.dataframe if d.editing_mode == "read_only"]
    config = json.loads(trace.proto.columns)
    assert "effective stride" in config and "bias" in config["multiply-adds"]["help"]
    assert any("bias additions counted" in m.value for m in at.markdown)


def test_architectures_tables_show_mult_adds_whole(at):
    at.switch_page("pages/architectures.py").run()
    assert not at.exception
    assert assert_tables_fit(at) == 4  # layers and totals, CNN and FC
    layers = [d for d in at.dataframe if "Mult-adds" in d.value]
    for d in layers:  # the ConvNet's 8,028,160 was cut to "80281" when Streamlit sized the column itself
        biggest = int(d.value["Mult-adds"].max())
        assert json.loads(d.proto.columns)["Mult-adds"]["width"] >= needed_px(f"{biggest:,}")
    assert max(int(d.value["Mult-adds"].max()) for d in layers) >= 1_000_000
    assert all("bias" in json.loads(d.proto.columns)["Mult-adds"]["help"] for d in at.dataframe
               if "Mult-adds" in d.value)


def test_single_layer_multiply_adds_say_bias_is_counted(at):
    at.switch_page("pages/shapes.py").run()
    (macs,) = [m for m in at.metric if m.label == "Multiply-adds per image"]
    assert "bias" in macs.proto.help

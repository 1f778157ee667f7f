"""Tables show every number whole, with thousands separators, as HTML tables (Shape calculator, Architectures)."""
from __future__ import annotations

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from cnn_dash.ui.tables import styled
from tests.conftest import APP
from tests.tables_check import assert_tables_readable, shown_text


def test_whole_numbers_get_separators_and_other_formats_stay():
    frame = pd.DataFrame({"Mult-adds": [8_028_160, 3], "a": [0.5, 0.25], "b": [1.5, 12345.678]},
                         index=[1000, 2])
    html = styled(frame.style.format({"a": "{:.2%}"})).to_html()
    assert "8,028,160" in html and "50.00%" in html and "1,000" in html
    plain = styled(frame).to_html()  # a plain frame: two decimals for fractions, separators for wholes
    assert "12,345.68" in plain and "1.50" in plain and "8,028,160" in plain


@pytest.fixture
def at() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=90)
    at.run()
    return at


def test_shape_calculator_network_table_shows_every_column_whole(at):
    at.switch_page("pages/shapes.py").run()
    at.radio(key="shp_mode").set_value("Network").run()
    assert not at.exception
    assert assert_tables_readable(at) == 1
    (trace,) = at.table
    assert "effective stride" in trace.value.columns
    assert any("**multiply-adds**" in c.value and "bias" in c.value for c in at.caption)  # what the column counts
    assert any("bias additions counted" in m.value for m in at.markdown)


def test_architectures_tables_show_mult_adds_whole(at):
    at.switch_page("pages/architectures.py").run()
    assert not at.exception
    assert assert_tables_readable(at) == 5  # layers and totals, CNN and FC; their costs side by side (issue 26)
    layers = [t for t in at.table if "Mult-adds" in t.value]
    for t in layers:  # the ConvNet's 8,028,160 was cut to "80281" when Streamlit sized a canvas column itself
        biggest = int(t.value["Mult-adds"].max())
        assert f"{biggest:,}" in shown_text(t)["Mult-adds"].tolist()
    assert max(int(t.value["Mult-adds"].max()) for t in layers) >= 1_000_000
    assert any("Mult-adds are multiply-adds" in c.value and "bias" in c.value for c in at.caption)


def test_single_layer_multiply_adds_say_bias_is_counted(at):
    at.switch_page("pages/shapes.py").run()
    (macs,) = [m for m in at.metric if m.label == "Multiply-adds per image"]
    assert "bias" in macs.proto.help

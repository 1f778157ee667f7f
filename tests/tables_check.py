"""Shared check: every st.dataframe on a page gives each column a width that shows its longest cell whole."""
from __future__ import annotations

import json
import math

import numpy as np
from streamlit.testing.v1 import AppTest

from cnn_dash.ui.tables import needed_px


def shortest_text(value) -> str:
    """The least text a cell can show for `value`: ints with separators, floats with 3 decimals or a percent."""
    if isinstance(value, (bool, np.bool_)):
        return str(value)
    if isinstance(value, (int, np.integer)):
        return f"{value:,}"
    if isinstance(value, (float, np.floating)) and math.isfinite(value):
        return min(f"{value:.3f}", f"{value:.1%}", key=len)
    return str(value)


def assert_tables_fit(at: AppTest) -> int:
    """Each dataframe's configured widths cover its header and cells; returns how many tables were checked."""
    shown = [frame for frame in at.dataframe if frame.editing_mode == "read_only"]  # not the data editors
    for frame in shown:
        config = json.loads(frame.proto.columns or "{}")
        value = frame.value
        for column in value.columns:
            width = config.get(str(column), {}).get("width")
            assert isinstance(width, int), f"column {column!r} has no width: {config}"
            texts = [str(column), *map(shortest_text, value[column])]
            longest = max(texts, key=len)
            assert width >= needed_px(longest), f"{column!r}: {width} px < {longest!r}"
        if "_index" in config and not config["_index"].get("hidden"):
            width = config["_index"]["width"]
            assert all(width >= needed_px(str(i)) for i in value.index), (width, list(value.index))
    return len(shown)

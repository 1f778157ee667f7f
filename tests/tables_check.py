"""Shared check: the tables a page shows are HTML tables (st.table, which the browser's layout contract can
measure) whose whole numbers are written with thousands separators."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
from streamlit.testing.v1 import AppTest


def shown_text(table) -> pd.DataFrame:
    """The text an st.table shows in each cell, as the browser gets it (a Styler sends its formatted text)."""
    styler = table.proto.arrow_data.styler
    if not styler.display_values:  # a plain frame (no Styler): each value as it is, no separators added
        return table.value.astype(str)
    return pa.ipc.open_stream(styler.display_values).read_pandas()


def assert_tables_readable(at: AppTest) -> int:
    """No read-only st.dataframe (a canvas); every whole number of 1,000 or more in an st.table is shown with its
    separators. Returns how many tables were checked."""
    read_only = [frame for frame in at.dataframe if frame.editing_mode == "read_only"]
    assert not read_only, f"{len(read_only)} read-only st.dataframe: use cnn_dash.ui.tables.table"
    for table in at.table:
        value, text = table.value, shown_text(table)
        for j, column in enumerate(value.columns):
            for i, cell in enumerate(value[column]):
                if isinstance(cell, (int, np.integer)) and not isinstance(cell, (bool, np.bool_)) and abs(cell) >= 1000:
                    assert text.iat[i, j] == f"{cell:,}", f"{column!r}: {cell} shown as {text.iat[i, j]!r}"
    return len(at.table)

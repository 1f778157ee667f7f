"""Tables that show every number whole: st.dataframe with each column as wide as its longest cell and header.

Streamlit sizes columns from a sample of the cells and cuts the rest ("80281" for 8,028,160); a width in pixels
per column (st.column_config, Streamlit 1.4x+) does not cut. Widths come from the text as shown, in characters
times a per-character width that errs on the wide side.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st
from pandas.io.formats.style import Styler

CHAR_PX = 8  # one character of the table's 14 px font, rounded up (digits ~7.7 px, capitals wider, most less)
PADDING_PX = 32  # the cell's padding on both sides, and room for the header's sort arrow


def needed_px(text: str) -> int:
    """Pixels a column needs to show `text` whole."""
    return PADDING_PX + CHAR_PX * len(text)


def cell_text(value: Any, shown: str | None = None) -> str:
    """The longest text a cell may show: the formatted value, or a number with thousands separators."""
    texts = [shown if shown is not None else str(value)]
    if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
        texts.append(f"{value:,}")
    elif isinstance(value, (float, np.floating)) and shown is None:
        texts.append(f"{value:,.4f}")  # Streamlit's default shows up to 4 decimals
    return max(texts, key=len)


def _shown(data: pd.DataFrame | Styler) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """The frame, and the text of every cell as a Styler formats it (None for a plain frame)."""
    if not isinstance(data, Styler):
        return data, None
    frame = data.data
    funcs = getattr(data, "_display_funcs", None)  # pandas' per-cell formatters, keyed by (row, column) position
    if funcs is None:
        return frame, None
    text = [[str(funcs[(i, j)](v)) for j, v in enumerate(row)] for i, row in enumerate(frame.itertuples(index=False))]
    return frame, pd.DataFrame(text, index=frame.index, columns=frame.columns)


def column_widths(data: pd.DataFrame | Styler, helps: Mapping[str, str] | None = None,
                  index: bool = True) -> dict[str, Any]:
    """st.column_config for every column (and the index, unless hidden): width from the longest shown text."""
    frame, text = _shown(data)
    helps = helps or {}
    config: dict[str, Any] = {}
    for j, column in enumerate(frame.columns):
        cells = [cell_text(v, None if text is None else text.iat[i, j]) for i, v in enumerate(frame.iloc[:, j])]
        width = max(needed_px(t) for t in [str(column), *cells])
        config[str(column)] = st.column_config.Column(width=width, help=helps.get(str(column)))
    if index:
        names = [str(n) for n in frame.index.names if n is not None]
        config["_index"] = st.column_config.Column(width=max(needed_px(t) for t in
                                                             [*names, *map(str, frame.index), ""]))
    return config


def table(data: pd.DataFrame | Styler, helps: Mapping[str, str] | None = None, hide_index: bool = False,
          **kwargs: Any) -> None:
    """st.dataframe with every column wide enough for its longest cell and header; `helps`: header tooltips."""
    st.dataframe(data, column_config=column_widths(data, helps, index=not hide_index), hide_index=hide_index,
                 **kwargs)

"""Tables that show every number whole, with thousands separators: st.table (HTML) of a pandas Styler.

An st.dataframe is drawn on a canvas: a cell it cuts ("supp…", "80281" for 8,028,160) cannot be found by a test,
and its widths in pixels per column were guesses. An HTML table sizes each column to its text, wraps long
headers, scrolls sideways on purpose where it is wider than the screen, and the browser's layout contract
(tests/test_browser_layout.py) checks that no cell is cut. The data stays numeric (AppTest reads the numbers);
only the text shown is formatted.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
import streamlit as st
from pandas.api.types import is_bool_dtype, is_float_dtype, is_integer_dtype
from pandas.io.formats.style import Styler


def styled(data: pd.DataFrame | Styler) -> Styler:
    """The table as a Styler whose whole numbers show thousands separators (125,440), other formats kept."""
    style = data if isinstance(data, Styler) else data.style
    frame = style.data
    if not isinstance(data, Styler):  # a Styler comes with its own formats; a plain frame gets two decimals
        fractional = [c for c in frame.columns if is_float_dtype(frame[c])]
        if fractional:
            style = style.format("{:,.2f}", subset=fractional)
    whole = [c for c in frame.columns if is_integer_dtype(frame[c]) and not is_bool_dtype(frame[c])]
    if whole:
        style = style.format("{:,}", subset=whole)
    if is_integer_dtype(frame.index) and not is_bool_dtype(frame.index):
        style = style.format_index("{:,}", axis=0)
    return style


def table(data: pd.DataFrame | Styler, helps: Mapping[str, str] | None = None, hide_index: bool = False,
          **kwargs: Any) -> None:
    """st.table of `data` with thousands separators; `helps` (column -> what it means) are said under it."""
    st.table(styled(data), hide_index=hide_index, **kwargs)
    if helps:
        st.caption(" ".join(f"**{column}**: {text}" for column, text in helps.items()))

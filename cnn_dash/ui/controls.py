"""Small widget groups: a slider that also has a number box, kept in step through session state."""
from __future__ import annotations

import streamlit as st


def _copy(source: str, target: str) -> None:
    st.session_state[target] = st.session_state[source]


def number_slider(label: str, lo: int, hi: int, key: str, default: int | None = None, help: str | None = None) -> int:
    """An int chosen with a slider or typed into the box beside it; the value lives in st.session_state[key].

    The value is clamped into [lo, hi] on every run, so a range that shrinks (a smaller output) never strands it.
    """
    value = st.session_state.get(key, lo if default is None else default)
    value = min(max(int(value), lo), hi)
    st.session_state[key] = value  # not a widget key: the two widgets below copy into it
    slider_key, box_key = f"{key}__slider", f"{key}__box"
    st.session_state[slider_key] = st.session_state[box_key] = value
    left, right = st.columns([4, 1], vertical_alignment="bottom")
    if lo < hi:
        left.slider(label, lo, hi, key=slider_key, help=help, on_change=_copy, args=(slider_key, key))
    else:
        left.caption(f"{label}: {lo} (the only choice)")
    right.number_input(f"{label} (type a value)", lo, hi, step=1, key=box_key, on_change=_copy, args=(box_key, key),
                       label_visibility="collapsed")
    return value

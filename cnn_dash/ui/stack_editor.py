"""A layer stack edited as a table (st.data_editor): one row per layer, values typed as text.

    net, error = stack_editor("my_key", PRESETS["LeNet-5"])
    if error: st.error(error)

Cells take what torch takes: `3`, `3, 5` (height, width), `same`, `True`, `0.25`; the "more" column takes any other
constructor argument as `name=value, ...` (e.g. `ceil_mode=True, groups=2`). Empty cells use torch's default, and
in_channels / in_features / num_features are inferred from the layer before.
"""
from __future__ import annotations

import ast
import re
from typing import Any

import pandas as pd
import streamlit as st

from cnn_dash.shapes import LAYER_TYPES, SIGNATURES
from cnn_dash.specs import LayerSpec, NetSpec

# Columns after "type"; "out" is out_channels, out_features or output_size depending on the layer. Any other
# argument (dilation, ceil_mode, groups, ...) goes in "more": one column more scrolled the table sideways at 1280.
COLUMNS = ("out", "kernel_size", "stride", "padding", "p", "more")
OUT_NAMES = ("out_channels", "out_features", "output_size")
_WORD = re.compile(r"^[A-Za-z_][A-Za-z_0-9]*$")


def out_name(layer_type: str) -> str | None:
    """Which constructor argument the "out" column sets for this layer type."""
    return next((n for n in OUT_NAMES if n in SIGNATURES.get(layer_type, {})), None)


def format_value(value: Any) -> str:
    """A cell's text for a constructor argument: 3, "3, 5", same, True, 0.5."""
    if isinstance(value, (tuple, list)):
        return ", ".join(format_value(v) for v in value)
    return "" if value is None else str(value)


def _empty(text: Any) -> bool:
    return text is None or (not isinstance(text, (tuple, list)) and pd.isna(text)) or not str(text).strip()


def parse_value(text: Any) -> Any:
    """The value a cell's text stands for; None for an empty cell; ValueError for text that means nothing."""
    if _empty(text):
        return None
    text = str(text).strip()
    if text.lower() in ("true", "false", "none"):
        return {"true": True, "false": False, "none": None}[text.lower()]
    if _WORD.match(text):
        return text  # 'same', 'valid', 'reflect', 'tanh' ... written without quotes
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        raise ValueError(f"cannot read {text!r}: write a number, numbers separated by commas, or a word") from None
    if isinstance(value, list):
        value = tuple(value)
    if not isinstance(value, (int, float, str, tuple)) or isinstance(value, tuple) and not all(
            isinstance(v, (int, float)) or v is None for v in value):
        raise ValueError(f"cannot read {text!r}: write a number, numbers separated by commas, or a word")
    return value


def parse_more(text: Any) -> dict[str, Any]:
    """The "more" column: `name=value, name=value`, values as in the other cells (tuples in parentheses)."""
    if _empty(text):
        return {}
    try:
        call = ast.parse(f"f({text})", mode="eval").body
    except SyntaxError:
        raise ValueError(f"cannot read {text!r}: write name=value pairs, e.g. ceil_mode=True, groups=2") from None
    if not isinstance(call, ast.Call) or call.args or any(k.arg is None for k in call.keywords):
        raise ValueError(f"cannot read {text!r}: write name=value pairs, e.g. ceil_mode=True, groups=2")
    return {k.arg: parse_value(ast.get_source_segment(f"f({text})", k.value)) for k in call.keywords}


def to_frame(layers: tuple[LayerSpec, ...]) -> pd.DataFrame:
    """One row per layer, every value as text."""
    rows = []
    for layer in layers:
        kw = layer.kwargs()
        row = {"type": layer.type, "out": format_value(kw.pop(out_name(layer.type), None))}
        row |= {c: format_value(kw.pop(c, None)) for c in COLUMNS[1:-1]}
        row["more"] = ", ".join(f"{k}={v!r}" for k, v in kw.items())
        rows.append(row)
    return pd.DataFrame(rows, columns=["type", *COLUMNS]).astype({c: "string" for c in COLUMNS})


def from_frame(frame: pd.DataFrame) -> tuple[tuple[LayerSpec, ...] | None, str | None]:
    """The layers a table describes, or None and what to fix in which row. Empty rows are skipped."""
    layers = []
    for number, (_, row) in enumerate(frame.iterrows(), start=1):
        cells = {c: row.get(c) for c in COLUMNS}
        kind = row.get("type")
        if _empty(kind) and all(_empty(v) for v in cells.values()):
            continue
        if _empty(kind) or kind not in LAYER_TYPES:
            return None, f"row {number}: choose a layer type ({', '.join(LAYER_TYPES)})"
        try:
            params = {c: parse_value(cells[c]) for c in COLUMNS[:-1]}
            params |= parse_more(cells["more"])
        except ValueError as e:
            return None, f"row {number} ({kind}): {e}"
        out = params.pop("out")
        if out is not None:
            if out_name(kind) is None:
                return None, f"row {number} ({kind}): this layer has no output size; clear the 'out' cell"
            params[out_name(kind)] = out
        layers.append(LayerSpec.of(kind, **{k: v for k, v in params.items() if v is not None}))
    if not layers:
        return None, "the table has no layers: add a row"
    return tuple(layers), None


def stack_editor(key: str, initial: NetSpec) -> tuple[NetSpec | None, str | None]:
    """Edit `initial`'s layers in a table; (the edited network, None) or (None, a message saying what to fix)."""
    base_key, table_key = f"{key}__base", f"{key}__table"
    if st.session_state.get(f"{key}__initial") != initial:  # a new starting point: drop the old edits
        st.session_state[f"{key}__initial"] = initial
        st.session_state[base_key] = to_frame(initial.layers)
        st.session_state.pop(table_key, None)
    config = {"type": st.column_config.SelectboxColumn("type", options=LAYER_TYPES, required=True,
                                                       width=_WIDTHS["type"])}
    config |= {c: st.column_config.TextColumn(_LABELS.get(c, c), help=_HELP.get(c), width=_WIDTHS.get(c))
               for c in COLUMNS}
    edited = st.data_editor(st.session_state[base_key], key=table_key, num_rows="dynamic", hide_index=True,
                            column_config=config, width="stretch")
    layers, error = from_frame(edited)
    if error is not None:
        return None, error
    name = initial.name if layers == initial.layers else f"{initial.name} (edited)"
    return NetSpec(name, layers, initial.input_shape, initial.description), None


_LABELS = {"out": "outputs", "p": "dropout p"}  # headers that say what they hold
# px, each header whole: 620 px in all, and "more" takes what is left, so that the table fits a 1280 px screen's
# column beside the sidebar (820 px) without scrolling sideways (tests/test_browser_layout.py); a phone scrolls it.
_WIDTHS = {"type": 150, "out": 90, "kernel_size": 110, "stride": 78, "padding": 92, "p": 100}
_HELP = {
    "out": "how many come out: out_channels (convolutions), out_features (Linear) or output_size "
           "(AdaptiveAvgPool2d)",
    "kernel_size": "one number, or height, width: 3 or 3, 5",
    "stride": "empty: 1 for convolutions, the kernel size for pooling",
    "padding": "a number, height, width, or same / valid (convolutions)",
    "p": "Dropout probability, 0 to 1",
    "more": "other arguments as name=value, e.g. dilation=2, ceil_mode=True, groups=2, bias=False",
}

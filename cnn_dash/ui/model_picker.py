"""The model picker every page shares: a preset, or a custom stack edited in the layer table.

Usage (any page that needs a model):

    net = model_picker("train_model", kind="cnn", default="ConvNet (CNN notebook)")
    if net is not None:
        ...  # a valid NetSpec (input_shape (1, 28, 28)); replace(net, input_shape=...) for other inputs

Every preset, CNN and fully connected, is offered whatever `kind` is (issue 4.2): `kind` only puts that
kind's presets first. "Custom (edit layers)" opens the shape calculator's layer editor, starting from a
preset; an invalid stack is explained with st.error and the picker returns None.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Literal

import streamlit as st

from cnn_dash.presets import PRESETS, cnn_presets, fc_presets
from cnn_dash.specs import NetSpec

CUSTOM = "Custom (edit layers)"


def preset_options(kind: Literal["cnn", "fc", "any"] = "any") -> list[str]:
    """Every preset name, those of `kind` first, then the custom option."""
    if kind == "fc":
        names = [*fc_presets(), *cnn_presets()]
    elif kind == "cnn":
        names = [*cnn_presets(), *fc_presets()]
    else:
        names = list(PRESETS)
    return [*names, CUSTOM]


def model_picker(
    key: str,
    kind: Literal["cnn", "fc", "any"] = "any",
    default: str | None = None,
    label: str = "Model",
) -> NetSpec | None:
    """A selectbox over all presets plus a custom stack; returns the chosen spec, or None if the stack is invalid.

    Widget keys start with `key`, so two pickers on one page need two keys.
    """
    options = preset_options(kind)
    index = options.index(default) if default in options else 0
    choice = st.selectbox(label, options, index=index, key=f"{key}_preset")
    if choice != CUSTOM:
        net = PRESETS[choice]
        st.caption(net.description)
        return net
    presets = options[:-1]
    start = st.selectbox(
        "Start from", presets, index=presets.index(default) if default in presets else 0, key=f"{key}_start"
    )
    from cnn_dash.ui.stack_editor import stack_editor  # TEMP until it lands

    # One editor per starting preset: switching the start shows that preset's layers, not stale edits.
    net, error = stack_editor(f"{key}_editor_{presets.index(start)}", PRESETS[start])
    if error is not None or net is None:
        st.error(f"This stack cannot be built: {error}")
        return None
    return replace(net, name=f"Custom (from {start})", description=f"Edited from {start}.")

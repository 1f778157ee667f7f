"""The model picker every page shares: a preset, or a custom stack edited in the layer table.

Usage (any page that needs a model):

    net = model_picker("train_model", kind="cnn", default="ConvNet (CNN notebook)")
    if net is not None:
        ...  # a NetSpec whose layers fit input_shape (default 1×28×28), with that input_shape

Every preset, CNN and fully connected, is offered whatever `kind` is (issue 4.2): `kind` only puts that
kind's presets first. "Custom (edit layers)" opens the shape calculator's layer editor (stack_editor),
starting from a preset. A stack that cannot be read, or whose shapes do not fit `input_shape`, is
explained with st.error and the picker returns None: never a traceback.
"""
from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Literal

import streamlit as st

from cnn_dash.presets import PRESETS, cnn_presets, fc_presets
from cnn_dash.shapes import ShapeError, trace
from cnn_dash.specs import NetSpec
from cnn_dash.ui.stack_editor import stack_editor

if TYPE_CHECKING:
    from cnn_dash.ui.links import PageLink

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
    input_shape: tuple[int, ...] = (1, 28, 28),
    link: PageLink | None = None,
) -> NetSpec | None:
    """A selectbox over all presets plus a custom stack; the chosen spec on `input_shape`, or None if it is invalid.

    Widget keys start with `key`, so two pickers on one page need two keys. With a `link` (links.PageLink) the
    choices are kept in the page's URL (the edited layer table is not).
    """
    options = preset_options(kind)
    index = options.index(default) if default in options else 0
    select = link.selectbox if link is not None else st.selectbox
    choice = select(label, options, index=index, key=f"{key}_preset")
    if choice == CUSTOM:
        presets = options[:-1]
        start = select(
            "Start from", presets, index=presets.index(default) if default in presets else 0, key=f"{key}_start"
        )
        net, error = stack_editor(f"{key}_editor", PRESETS[start])  # it drops old edits when `start` changes
        if net is None:
            st.error(f"This stack cannot be read: {error}")
            return None
    else:
        net = PRESETS[choice]
        st.caption(net.description)
    net = replace(net, input_shape=tuple(input_shape))
    try:
        trace(net)  # the shape arithmetic: explains a layer that does not fit before torch is involved
    except ShapeError as exc:
        size = "×".join(map(str, input_shape))
        st.error(f"{net.name} does not work on a {size} input: {exc}")
        return None
    return net

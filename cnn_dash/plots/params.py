"""Where the parameters live: parameters per layer of two summarised models, side by side."""
from __future__ import annotations

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from cnn_dash.plots.layout import BELOW, title_px, wrapped
from cnn_dash.summary import Summary


def params_frame(summaries: dict[str, Summary]) -> pd.DataFrame:
    """One row per layer that has parameters: model label, layer, type, params, % of its model's total."""
    records = [
        {
            "Model": label,
            "Layer": r.name,
            "Type": r.type,
            "Params": r.params,
            "% of model": round(r.params_percent, 2),
        }
        for label, s in summaries.items()
        for r in s.rows
        if r.params > 0  # activations, pooling, Flatten and Dropout have none
    ]
    return pd.DataFrame(records, columns=["Model", "Layer", "Type", "Params", "% of model"])


TITLE = wrapped("Parameters per layer (layers without parameters left out)")


def params_per_layer_figure(
    a: Summary, b: Summary, labels: tuple[str, str] | None = None, log_y: bool = False
) -> go.Figure:
    """Bar chart of parameters per layer, one panel per model (titled by `labels`) on a shared y axis."""
    label_a, label_b = labels or (a.net_name, b.net_name)
    if label_a == label_b:  # the same model twice still gets two panels
        label_a, label_b = f"{label_a} (1)", f"{label_b} (2)"
    frame = params_frame({label_a: a, label_b: b})
    fig = px.bar(
        frame,
        x="Layer",
        y="Params",
        color="Type",
        facet_col="Model",
        hover_data=["% of model"],
        log_y=log_y,
        title=TITLE,
    )
    fig.update_xaxes(matches=None, title_text="")  # each model has its own layers
    # Each panel's name wrapped to half a phone's column (the two ran into each other there); the legend below,
    # not beside the panels, which it squeezed.
    fig.for_each_annotation(lambda ann: ann.update(text=wrapped(ann.text.removeprefix("Model="), 18)))
    # The top margin holds the title's lines and, under them, the panels' names (up to two lines each).
    return fig.update_layout(legend=dict(BELOW, title_text=""), margin=dict(t=title_px(TITLE, below=48)))

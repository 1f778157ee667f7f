"""Figures for the 'Try it yourself' page: every model's class probabilities, and small grids of numbers
(an image, a kernel, a convolution's output) drawn as heatmaps."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from cnn_dash.plots.confusion import DIVERGING, MARGIN

# Plotly's qualitative "Safe" palette (colour-blind safe), one colour per model.
MODEL_COLOURS = ("#88CCEE", "#CC6677", "#DDCC77", "#117733")


def probabilities_figure(probabilities: dict[str, np.ndarray], classes: tuple[str, ...]) -> go.Figure:
    """Every model's probability for every class, as bars side by side per class."""
    bars = [
        go.Bar(x=list(classes), y=p, name=label, marker_color=MODEL_COLOURS[i % len(MODEL_COLOURS)],
               hovertemplate=f"{label}<br>%{{x}}: %{{y:.1%}}<extra></extra>")
        for i, (label, p) in enumerate(probabilities.items())
    ]
    fig = go.Figure(bars)
    fig.update_xaxes(type="category", title="Class", tickangle=-45 if max(map(len, classes)) > 2 else 0)
    fig.update_yaxes(title="Probability", tickformat=".0%", range=[0, 1])
    # Legend above the plot: beside it, it would take half the width of a phone.
    return fig.update_layout(barmode="group", height=380, margin=dict(MARGIN, t=30),
                             legend=dict(orientation="h", yanchor="bottom", y=1.02, x=0))


def grid_figure(values: np.ndarray, title: str, signed: bool = False, text: bool = False,
                height: int = 300) -> go.Figure:
    """One 2-D array as a square-pixel heatmap: grey for an image, red/blue around 0 for signed values
    (kernels, convolution outputs); with `text`, each value written in its cell."""
    values = np.asarray(values, dtype=np.float64)
    style: dict = dict(colorscale="gray", showscale=False)
    if signed:
        bound = float(np.abs(values).max()) or 1.0
        style = dict(colorscale=DIVERGING, zmin=-bound, zmax=bound, zmid=0, colorbar=dict(thickness=10))
    if text:
        style.update(texttemplate="%{z:.3~g}", textfont=dict(size=16 if values.shape[1] <= 3 else 14))  # from the back of a room
    fig = go.Figure(go.Heatmap(z=values, hovertemplate="row %{y}, column %{x}: %{z:.3g}<extra></extra>", **style))
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False, autorange="reversed", scaleanchor="x", constrain="domain")
    return fig.update_layout(title=dict(text=title, font=dict(size=14)), height=height,
                             margin=dict(l=5, r=5, t=40, b=5))

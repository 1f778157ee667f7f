"""The equivariance figure: the image and its moved copy, a CNN feature map of each, the FC net's hidden units of each."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from cnn_dash.equivariance import Equivariance, as_grid
from cnn_dash.plots.layout import wrapped


def equivariance_figure(e: Equivariance, channel: int = 0, height: int = 460) -> go.Figure:
    """Two rows (original, moved) × three columns (input, CNN map of `channel`, FC hidden units as a grid)."""
    dy, dx = e.shift
    # Short titles, wrapped to a phone's third of a column (about 100 px at 13 px); the page's text says the rest.
    titles = ("input", f"CNN map, channel {channel}", "FC hidden units",
              f"moved ({dy}, {dx})", "CNN: moved along", "FC: another pattern")
    fig = make_subplots(rows=2, cols=3, subplot_titles=[wrapped(t, 15) for t in titles], horizontal_spacing=0.05,
                        vertical_spacing=0.14)
    fig.update_annotations(font_size=13)
    maps = e.cnn_maps[:, channel]
    lo, hi = float(maps.min()), float(maps.max())
    units = e.fc_hidden
    ulo, uhi = float(np.nanmin(units)), float(np.nanmax(units))
    for row in (0, 1):
        fig.add_trace(go.Heatmap(z=e.images[row], colorscale="gray_r", showscale=False), row=row + 1, col=1)
        fig.add_trace(go.Heatmap(z=maps[row], colorscale="RdBu_r", zmin=lo, zmax=hi, showscale=False),
                      row=row + 1, col=2)
        fig.add_trace(go.Heatmap(z=as_grid(units[row]), colorscale="RdBu_r", zmin=ulo, zmax=uhi, showscale=False),
                      row=row + 1, col=3)
    fig.update_yaxes(autorange="reversed", scaleanchor=None, showticklabels=False)
    fig.update_xaxes(showticklabels=False)
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=60, b=10))
    return fig

"""The equivariance figure: the image and its moved copy, a CNN feature map of each, the FC net's hidden units of each."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from cnn_dash.equivariance import Equivariance, as_grid


def equivariance_figure(e: Equivariance, channel: int = 0, height: int = 460) -> go.Figure:
    """Two rows (original, moved) × three columns (input, CNN map of `channel`, FC hidden units as a grid)."""
    dy, dx = e.shift
    titles = ("input", f"CNN feature map (channel {channel})", "FC hidden units (a grid, no positions)",
              f"input moved ({dy}, {dx})", "CNN: moved with it", "FC: another pattern")
    fig = make_subplots(rows=2, cols=3, subplot_titles=titles, horizontal_spacing=0.05, vertical_spacing=0.1)
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
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=40, b=10))
    return fig

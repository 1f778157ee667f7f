"""Shift robustness: test accuracy against the shift in pixels, one line per model (mean of four directions)."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import pandas as pd
import plotly.graph_objects as go

from cnn_dash.plots.layout import BELOW, title_px, wrapped


class Curve(Protocol):
    """What a shift curve offers (cnn_dash.shift.ShiftCurve); no torch needed here."""

    label: str
    shifts: tuple[int, ...]
    accuracy: tuple[float, ...]
    by_direction: tuple[tuple[str, tuple[float, ...]], ...]


def shift_frame(curves: Sequence[Curve]) -> pd.DataFrame:
    """One row per model and shift: the mean accuracy and one column per direction."""
    rows = []
    for c in curves:
        for i, s in enumerate(c.shifts):
            rows.append({"model": c.label, "shift (px)": s, "mean": c.accuracy[i]}
                        | {name: accs[i] for name, accs in c.by_direction})
    return pd.DataFrame(rows)


def shift_figure(curves: Sequence[Curve], height: int = 360) -> go.Figure:
    """Accuracy (0–100 %) against the shift in pixels; hover shows each direction."""
    fig = go.Figure()
    for c in curves:
        detail = ["<br>".join(f"{name} {accs[i]:.1%}" for name, accs in c.by_direction) for i in range(len(c.shifts))]
        fig.add_trace(go.Scatter(x=list(c.shifts), y=[100 * a for a in c.accuracy], mode="lines+markers",
                                 name=c.label, customdata=detail,
                                 hovertemplate="%{x} px: %{y:.1f} %<br>%{customdata}<extra>" + c.label + "</extra>"))
    title = wrapped("Test accuracy on shifted images (mean of up, down, left, right)")
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=title_px(title, line_px=18), b=10), hovermode="closest",
                      legend=BELOW, title=dict(text=title, font=dict(size=14)))
    fig.update_xaxes(title="shift (pixels)", dtick=1)
    fig.update_yaxes(title="test accuracy (%)", range=[0, 100])
    return fig

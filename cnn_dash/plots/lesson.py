"""The Lesson's two small charts that no other page draws: parameters beside multiply-adds, and accuracy on real
beside shuffled pixels."""
from __future__ import annotations

import plotly.graph_objects as go

KIND_COLOURS = {"CNN": "#636EFA", "FC net": "#EF553B"}  # the training curves' first two colours


def cost_figure(params: dict[str, int], macs: dict[str, int], height: int = 330) -> go.Figure:
    """Parameters and multiply-adds per image of each net (keyed "CNN", "FC net"), bars on a log axis."""
    fig = go.Figure([go.Bar(name=kind, x=["parameters", "multiply-adds per image"], y=[params[kind], macs[kind]],
                            marker_color=KIND_COLOURS.get(kind), text=[f"{params[kind]:,}", f"{macs[kind]:,}"],
                            textposition="outside", hovertemplate=f"{kind}<br>%{{x}}: %{{y:,}}<extra></extra>")
                     for kind in params])
    top = max(max(params.values()), max(macs.values()))
    fig.update_yaxes(type="log", range=[3, len(str(top)) + 0.3], title="count (log scale)")
    return fig.update_layout(barmode="group", height=height, margin=dict(l=10, r=10, t=30, b=10),
                             legend=dict(orientation="h", yanchor="bottom", y=1.02, x=0))


def shuffle_figure(real: tuple[float, float], shuffled: tuple[float, float], height: int = 330) -> go.Figure:
    """Test accuracy of the CNN and the FC net on real and on shuffled pixels, (CNN, FC net) each, as bars."""
    x = ["real images", "shuffled pixels"]
    fig = go.Figure([go.Bar(name=kind, x=x, y=[real[i], shuffled[i]], marker_color=KIND_COLOURS[kind],
                            text=[f"{real[i]:.1%}", f"{shuffled[i]:.1%}"], textposition="outside",
                            hovertemplate=f"{kind}<br>%{{x}}: %{{y:.2%}}<extra></extra>")
                     for i, kind in enumerate(("CNN", "FC net"))])
    low = min(*real, *shuffled)
    fig.update_yaxes(tickformat=".0%", range=[max(0.0, low - 0.1), 1.02], title="test accuracy")
    return fig.update_layout(barmode="group", height=height, margin=dict(l=10, r=10, t=30, b=10),
                             legend=dict(orientation="h", yanchor="bottom", y=1.02, x=0))

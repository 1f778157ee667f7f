"""The Lesson's small charts that no other page draws: parameters beside multiply-adds, accuracy on real beside
shuffled pixels, and the CNN's lead split into locality and weight sharing."""
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


def decomposition_figure(fc: float, local: float, cnn: float, height: int = 330) -> go.Figure:
    """Test accuracy from the FC net to the CNN in two steps, a waterfall: + locality (the locally connected net),
    + weight sharing (the CNN)."""
    fig = go.Figure(go.Waterfall(
        x=["FC net", "+ small windows", "+ shared weights", "CNN"],
        measure=["absolute", "relative", "relative", "total"],
        y=[fc, local - fc, cnn - local, 0], base=0,
        text=[f"{fc:.1%}", f"{100 * (local - fc):+.1f} pts", f"{100 * (cnn - local):+.1f} pts", f"{cnn:.1%}"],
        textposition="outside", connector=dict(line=dict(color="#888")),
        increasing=dict(marker=dict(color="#00CC96")), decreasing=dict(marker=dict(color=KIND_COLOURS["FC net"])),
        totals=dict(marker=dict(color=KIND_COLOURS["CNN"])), hoverinfo="x+text"))
    low = min(fc, local, cnn)
    fig.update_yaxes(tickformat=".0%", range=[max(0.0, low - 0.08), min(1.0, max(fc, local, cnn) + 0.04)],
                     title="test accuracy")
    return fig.update_layout(height=height, margin=dict(l=10, r=10, t=30, b=10), showlegend=False)

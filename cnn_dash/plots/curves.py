"""Training curves: loss and accuracy, train and test, of every model of one or more runs on shared axes."""
from __future__ import annotations

from typing import Iterable, Protocol

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
from plotly.subplots import make_subplots

COLUMNS = ("run", "model", "step", "epoch", "train_loss", "train_acc", "test_loss", "test_acc", "samples_per_s",
           "elapsed_s", "status")


class Record(Protocol):
    """What a progress record offers (cnn_dash.records.Progress); no torch needed here."""

    label: str
    step: int
    epoch: float
    train_loss: float | None
    train_acc: float | None
    test_loss: float | None
    test_acc: float | None
    samples_per_s: float
    elapsed_s: float
    status: str


def curves_frame(runs: dict[str, Iterable[Record]]) -> pd.DataFrame:
    """One row per record: run name -> its history, flattened into the COLUMNS."""
    rows = [(run, p.label, p.step, p.epoch, p.train_loss, p.train_acc, p.test_loss, p.test_acc, p.samples_per_s,
             p.elapsed_s, p.status) for run, history in runs.items() for p in history]
    return pd.DataFrame(rows, columns=list(COLUMNS)).astype({c: float for c in COLUMNS[3:10]})


def curves_figure(frame: pd.DataFrame, x: str = "epoch", height: int = 380, smooth: int = 5) -> go.Figure:
    """Loss (log scale) and accuracy side by side; one colour per model, solid train, dashed test with markers.

    Train values are averaged over the last `smooth` records (batch-to-batch noise hides the trend). With
    several runs in `frame`, each trace is named "run · model". A model that diverged ends in a cross."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=("Loss (cross-entropy)", "Accuracy"),
                        horizontal_spacing=0.08)
    several = frame["run"].nunique() > 1
    palette = px.colors.qualitative.Plotly
    for i, ((run, model), group) in enumerate(frame.groupby(["run", "model"], sort=False)):
        name = f"{run} · {model}" if several else model
        color = palette[i % len(palette)]
        for col, metric in ((1, "loss"), (2, "acc")):
            for split, dash in (("train", "solid"), ("test", "dash")):
                points = group.dropna(subset=[f"{split}_{metric}"])
                if points.empty:
                    continue
                y = points[f"{split}_{metric}"]
                if split == "train" and smooth > 1:
                    y = y.rolling(smooth, min_periods=1).mean()
                fig.add_trace(go.Scatter(
                    x=points[x], y=y, name=f"{name} ({split})", legendgroup=name,
                    mode="lines+markers" if split == "test" else "lines", line=dict(color=color, dash=dash),
                    showlegend=col == 1, hovertemplate=f"{name} {split}<br>{x} %{{x:.2f}}: %{{y:.4f}}<extra></extra>",
                ), row=1, col=col)
        last = group.iloc[-1]
        if last["status"] == "diverged":
            fig.add_trace(go.Scatter(
                x=[last[x]], y=[0.0], mode="markers+text", marker=dict(symbol="x", size=12, color=color),
                text=[f"{name} diverged"], textposition="top center", showlegend=False, hoverinfo="text",
            ), row=1, col=2)
    fig.update_yaxes(type="log", dtick="D2", row=1, col=1)  # ticks at 1, 2, 5 of every decade
    fig.update_yaxes(range=[0, 1.02], tickformat=".0%", row=1, col=2)
    fig.update_xaxes(title_text="epoch" if x == "epoch" else x.replace("_", " "), matches="x")
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=40, b=10), legend=dict(orientation="h", y=-0.2))
    return fig

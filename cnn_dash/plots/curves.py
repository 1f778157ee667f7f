"""Training curves: loss and accuracy, train and test, of every model of one or more runs on shared axes."""
from __future__ import annotations

import math
from typing import Iterable, Protocol

import numpy as np
import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from cnn_dash.plots.layout import BELOW

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


LOSS_CAP = 20.0  # the loss axis stops at this many times the first loss: a blown-up loss would flatten the rest
ACC_STEP = 0.05  # the zoomed accuracy axis starts on a multiple of 5%


def log_ticks(low: float, high: float) -> list[float]:
    """Tick values 1, 2, 5 × 10^k covering [low, high] (one per decade when that makes more than 12)."""
    first, last = math.floor(math.log10(low)), math.ceil(math.log10(high))
    ticks = [m * 10.0 ** e for e in range(first, last + 1) for m in (1, 2, 5)]
    ticks = [float(f"{t:.1g}") for t in ticks]  # 0.30000000000000004 -> 0.3
    inside = [t for t in ticks if low / 1.5 <= t <= high * 1.5] or [ticks[0]]
    if len(inside) > 12:
        inside = [t for t in inside if f"{t:g}".lstrip("0.").startswith("1")]
    return inside


def tick_text(value: float) -> str:
    """A short plain label: 0.5, 1, 2, 100, 1e+06 (never 0.50000 nor 18 digits)."""
    return f"{value:g}"


def loss_range(frame: pd.DataFrame) -> tuple[float, float] | None:
    """(lowest, highest) loss to show: every positive finite loss, the top capped at LOSS_CAP × the first loss."""
    losses = pd.concat([frame["train_loss"], frame["test_loss"]]).to_numpy(dtype=float)
    losses = losses[np.isfinite(losses) & (losses > 0)]
    if losses.size == 0:
        return None
    firsts = [g[c].dropna() for _, g in frame.groupby(["run", "model"], sort=False) for c in ("train_loss", "test_loss")]
    firsts = [float(f.iloc[0]) for f in firsts if not f.empty and np.isfinite(f.iloc[0]) and f.iloc[0] > 0]
    cap = LOSS_CAP * max(firsts) if firsts else float(losses.max())
    return float(losses.min()), float(min(losses.max(), cap))


def accuracy_range(frame: pd.DataFrame, x: str = "epoch") -> tuple[float, float]:
    """From a bit below the lowest accuracy since the first test evaluation, on a 5% step, up to 100%."""
    tested = frame.dropna(subset=["test_acc"])
    if tested.empty:
        return 0.0, 1.02
    since = frame[frame[x] >= tested[x].min()]
    accs = pd.concat([since["train_acc"], since["test_acc"]]).to_numpy(dtype=float)
    low = float(np.nanmin(accs[np.isfinite(accs)])) if np.isfinite(accs).any() else 0.0
    return max(0.0, math.floor((low - 0.01) / ACC_STEP) * ACC_STEP), 1.02


def curves_figure(frame: pd.DataFrame, x: str = "epoch", height: int = 380, smooth: int = 5,
                  full_range: bool = False) -> go.Figure:
    """Loss (log scale) and accuracy side by side; one colour per model, solid train, dashed test with markers.

    Train values are averaged over the last `smooth` records (batch-to-batch noise hides the trend). With
    several runs in `frame`, each trace is named "run · model". A model that diverged ends in a cross.
    The loss axis is labelled 0.5, 1, 2… and stops at LOSS_CAP × the first loss (higher values are drawn at the
    top, their hover says so); the accuracy axis is zoomed to where the models differ unless `full_range`."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=("Loss (cross-entropy)", "Accuracy"),
                        horizontal_spacing=0.08)
    several = frame["run"].nunique() > 1
    palette = px.colors.qualitative.Plotly
    losses = loss_range(frame)
    top = losses[1] if losses else math.inf
    acc_low, acc_high = (0.0, 1.02) if full_range else accuracy_range(frame, x)
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
                if metric == "loss":
                    hover = [f"{v:.4g}" + (" (off the chart: drawn at its top)" if v > top else "") for v in y]
                    y = y.clip(upper=top)
                else:
                    hover = [f"{v:.2%}" for v in y]
                fig.add_trace(go.Scatter(
                    x=points[x], y=y, name=f"{name} ({split})", legendgroup=name, text=hover,
                    mode="lines+markers" if split == "test" else "lines", line=dict(color=color, dash=dash),
                    showlegend=col == 1, hovertemplate=f"{name} {split}<br>{x} %{{x:.2f}}: %{{text}}<extra></extra>",
                ), row=1, col=col)
        last = group.iloc[-1]
        if last["status"] == "diverged":
            fig.add_trace(go.Scatter(
                x=[last[x]], y=[acc_low], mode="markers+text", marker=dict(symbol="x", size=12, color=color),
                text=[f"{name} diverged"], textposition="top center", showlegend=False, hoverinfo="text",
            ), row=1, col=2)
    if losses:
        low, high = losses
        ticks = log_ticks(low, high)
        span = math.log10(high) - math.log10(low)
        pad = max(0.05 * span, 0.03)
        fig.update_yaxes(type="log", tickvals=ticks, ticktext=[tick_text(t) for t in ticks],
                         range=[math.log10(low) - pad, math.log10(high) + pad], row=1, col=1)
    else:
        fig.update_yaxes(type="log", row=1, col=1)
    fig.update_yaxes(range=[acc_low, acc_high], tickformat=".0%", row=1, col=2)
    fig.update_xaxes(title_text="epoch" if x == "epoch" else x.replace("_", " "), matches="x")
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=40, b=10), legend=BELOW)
    return fig

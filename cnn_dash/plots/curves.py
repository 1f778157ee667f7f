"""Training curves: loss and accuracy, train and test, of every model of one or more runs on shared axes.

A run's own chart (`run_figure`) keeps the same axes from its first record to its last: x spans every epoch of
the run, the loss and accuracy axes are fixed, so the live chart never jumps and the finished chart is the last
live frame. The overlay of several runs (`curves_figure`) zooms to where the models differ.
Figures are built from plain dicts in one go (no make_subplots, no trace-by-trace validation): a live redraw
costs a few ms on the server (bench/bench_redraw.py).
"""
from __future__ import annotations

import math
from typing import Iterable, Protocol

import numpy as np
import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

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
             p.elapsed_s, str(p.status)) for run, history in runs.items() for p in history]
    return pd.DataFrame(rows, columns=list(COLUMNS)).astype({c: float for c in COLUMNS[3:10]})


LOSS_CAP = 20.0  # the overlay's loss axis stops at this many times the first loss: a blown-up loss would flatten it
ACC_STEP = 0.05  # the zoomed accuracy axis starts on a multiple of 5%
RUN_LOSS_RANGE = (0.01, 10.0)  # a run's own loss axis, fixed: ln 10 = 2.3 at the start, 0.01 well trained
FULL_ACC_RANGE = (0.0, 1.02)
# The two panels' widths: the gap between them holds the accuracy axis's labels ("100%"), which on a phone reached
# into the loss panel with a narrower one.
LOSS_DOMAIN, ACC_DOMAIN = (0.0, 0.44), (0.58, 1.0)
X_HOVER = {"training images": ",.0f", "optimizer steps": ",.0f", "training time (s)": ".1f",
           "training multiply-adds": ".3s"}  # d3 formats of x in the hover (else 2 decimals): 1.23T, not 13 digits
MAX_POINTS = 120  # per train trace: a long run is thinned to this many points (every test point is kept)


TICK_PX = 30  # vertical room per tick label (12 px text and a gap), so that labels never touch
# Room a figure's height spends on anything but its plot area: the titles and margins (50 px), and the legend
# below, which wraps to three or four rows on a phone.
NOT_PLOT_PX = 120


def log_ticks(low: float, high: float, most: int = 12) -> list[float]:
    """Tick values 1, 2, 5 × 10^k covering [low, high]; only the powers of ten when that makes more than `most`
    (and only every other power when even those are too many)."""
    first, last = math.floor(math.log10(low)), math.ceil(math.log10(high))
    ticks = [m * 10.0 ** e for e in range(first, last + 1) for m in (1, 2, 5)]
    ticks = [float(f"{t:.1g}") for t in ticks]  # 0.30000000000000004 -> 0.3
    inside = [t for t in ticks if low / 1.5 <= t <= high * 1.5] or [ticks[0]]
    if len(inside) > most:
        inside = [t for t in inside if f"{t:g}".lstrip("0.").startswith("1")] or inside[:1]
    while len(inside) > max(most, 2):
        inside = inside[::2]
    return inside


def ticks_for(height: int) -> int:
    """How many tick labels fit on a loss axis of a figure `height` px tall, legend below included."""
    return max(2, (height - NOT_PLOT_PX) // TICK_PX)


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
        return FULL_ACC_RANGE
    since = frame[frame[x] >= tested[x].min()]
    accs = pd.concat([since["train_acc"], since["test_acc"]]).to_numpy(dtype=float)
    low = float(np.nanmin(accs[np.isfinite(accs)])) if np.isfinite(accs).any() else 0.0
    return max(0.0, math.floor((low - 0.01) / ACC_STEP) * ACC_STEP), FULL_ACC_RANGE[1]


def thinned(n: int, most: int = MAX_POINTS) -> np.ndarray:
    """Indices of at most `most` of n points, evenly spaced, the last always kept (the live edge of the curve)."""
    if n <= most:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, most).round().astype(int))


def _loss_text(values: np.ndarray, low: float, high: float) -> list[str]:
    return [f"{v:.4g}" + (" (off the chart: drawn at its top)" if v > high else
                          " (below the chart: drawn at its bottom)" if v < low else "") for v in values]


def run_figure(frame: pd.DataFrame, x_end: float, height: int = 300, smooth: int = 1, x: str = "epoch") -> go.Figure:
    """One run's chart with axes fixed for the whole run: `x` from 0 to `x_end` (its epochs, or on another axis of
    cnn_dash.compute, compute.run_x_end), loss RUN_LOSS_RANGE (log), accuracy 0-100%. The same call draws the live
    chart and the finished one."""
    return curves_figure(frame, x=x, height=height, smooth=smooth, x_range=(0.0, float(x_end)),
                         loss_limits=RUN_LOSS_RANGE, full_range=True)


def curves_figure(frame: pd.DataFrame, x: str = "epoch", height: int = 380, smooth: int = 5,
                  full_range: bool = False, x_range: tuple[float, float] | None = None,
                  loss_limits: tuple[float, float] | None = None) -> go.Figure:
    """Loss (log scale) and accuracy side by side; one colour per model, solid train, dashed test with markers.

    Train values are averaged over the last `smooth` records. With several runs in `frame`, each trace is named
    "run · model". A model that diverged ends in a cross, its name in the hover. Loss values outside the loss axis
    (LOSS_CAP × the first loss, or `loss_limits`) are drawn at its edge and their hover says so; the accuracy axis
    is zoomed to where the models differ unless `full_range`; x starts at 0 (or spans `x_range`)."""
    several = frame["run"].nunique() > 1
    palette = px.colors.qualitative.Plotly
    low, high = loss_limits or loss_range(frame) or (0.1, 10.0)
    acc_low, acc_high = FULL_ACC_RANGE if full_range else accuracy_range(frame, x)
    traces: list[dict] = []
    crosses: list[tuple[float, str, str]] = []
    for i, ((run, model), group) in enumerate(frame.groupby(["run", "model"], sort=False)):
        name = f"{run} · {model}" if several else model
        color = palette[i % len(palette)]
        for axis, metric in (("", "loss"), ("2", "acc")):
            for split, dash in (("train", "solid"), ("test", "dash")):
                column = f"{split}_{metric}"
                points = group[np.isfinite(group[column].to_numpy(dtype=float))]
                if split == "train" and smooth > 1:
                    points = points.assign(**{column: points[column].rolling(smooth, min_periods=1).mean()})
                if split == "train":
                    points = points.iloc[thinned(len(points))]
                if points.empty:
                    continue
                y = points[column].to_numpy(dtype=float)
                # Hover text only where a loss is drawn at an edge of its axis: plotly formats the rest itself,
                # and a live redraw sends half the bytes.
                clipped = metric == "loss" and bool(((y < low) | (y > high)).any())
                value = "%{text}" if clipped else "%{y:.4g}" if metric == "loss" else "%{y:.2%}"
                traces.append(dict(
                    type="scatter", x=points[x].to_numpy(dtype=np.float32),  # float32: half the bytes, plenty
                    y=(np.clip(y, low, high) if clipped else y).astype(np.float32),
                    name=f"{name} ({split})", legendgroup=name, xaxis=f"x{axis}", yaxis=f"y{axis}",
                    showlegend=not axis, mode="lines+markers" if split == "test" else "lines",
                    line=dict(color=color, dash=dash), **({"text": _loss_text(y, low, high)} if clipped else {}),
                    hovertemplate=f"{name} {split}<br>{x} %{{x:{X_HOVER.get(x, '.2f')}}}: {value}<extra></extra>"))
        last = group.iloc[-1]
        if last["status"] == "diverged":
            crosses.append((float(last[x]), name, color))
    for x_at, name, color in crosses:  # on the accuracy axis's floor, the name in the hover: labels could overprint
        traces.append(dict(type="scatter", x=[x_at], y=[acc_low], mode="markers", xaxis="x2", yaxis="y2",
                           marker=dict(symbol="x", size=12, color=color), showlegend=False, text=[f"{name} diverged"],
                           hovertemplate="%{text}<extra></extra>", name=f"{name} diverged"))
    if x_range is None:
        top = float(frame[x].max()) if len(frame) and np.isfinite(frame[x].max()) else 1.0
        x_range = (0.0, max(top, 1e-3))
    ticks = log_ticks(low, high, most=ticks_for(height))  # a short chart: fewer labels, never crowded
    pad = max(0.05 * (math.log10(high) - math.log10(low)), 0.03)
    # The x axis is named in the titles, not under the axes: there it printed over the legend on a narrow screen.
    x_axis = dict(range=list(x_range))
    along = "epoch" if x == "epoch" else x.replace("_", " ")
    by = " by " if len(along) < 10 else "<br>by "  # two lines: "Accuracy by training multiply-adds" overprinted the
    # loss chart's title on a phone (both fit the top margin)
    layout = dict(
        template={},  # Streamlit's theme styles the chart in the browser; plotly's default would be a third of a redraw
        height=height, margin=dict(l=10, r=10, t=40, b=10), legend=BELOW,
        xaxis=dict(x_axis, domain=LOSS_DOMAIN, anchor="y"), xaxis2=dict(x_axis, domain=ACC_DOMAIN, anchor="y2"),
        yaxis=dict(type="log", tickvals=ticks, ticktext=[tick_text(t) for t in ticks], anchor="x",
                   range=[math.log10(low) - pad, math.log10(high) + pad]),
        yaxis2=dict(range=[acc_low, acc_high], tickformat=".0%", anchor="x2"),
        annotations=[dict(text=title, x=(a + b) / 2, y=1.0, xref="paper", yref="paper", xanchor="center",
                          yanchor="bottom", showarrow=False, font=dict(size=14))
                     for title, (a, b) in ((f"Loss{by}{along}", LOSS_DOMAIN), (f"Accuracy{by}{along}", ACC_DOMAIN))])
    return go.Figure(data=traces, layout=layout)

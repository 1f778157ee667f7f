"""The sliding window drawn: the padded input with the cells one output reads, and the output with that cell lit."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from cnn_dash.windows import DimWindow, Explanation

MAX_DRAWN = 96  # cells per side; larger grids are explained in numbers only
# cell categories and their colours
PAD, INPUT, TAP_PAD, TAP, BEYOND, OUT, OUT_PICKED = range(7)
COLOURS = ["#e8e8e8", "#c6dbef", "#fdae6b", "#e6550d", "#ffffff", "#c7e9c0", "#238b45"]
LABELS = ["padding", "input", "window on padding", "window on input", "past the padded input (ignored)",
          "output", "the chosen output"]


def drawable(expl: Explanation) -> bool:
    """True when the layer slides a window and both grids are small enough to draw cell by cell."""
    if not expl.dims:
        return False
    return all(max(d.padded, d.out, d.padded - d.uncovered) <= MAX_DRAWN for d in expl.dims[-2:])


def _axis(dim: DimWindow, o: int) -> tuple[list[int], list[int], set[int]]:
    """Input positions to draw (padding included, negatives before the input), their categories, the taps."""
    taps = set(dim.taps(o))
    first = -dim.pad_before if dim.kind != "transposed" else 0
    last = dim.size + (dim.pad_after if dim.kind != "transposed" else 0)
    if dim.kind in ("conv", "pool"):
        last = max(last, max(dim.taps(dim.out - 1)) + 1)  # ceil mode: the last window may hang over
    positions = list(range(first, last))
    kinds = [INPUT if 0 <= x < dim.size else PAD if x < dim.size + dim.pad_after else BEYOND for x in positions]
    return positions, kinds, taps


UNCOVERED = "not covered by any window"


def uncovered(dim: DimWindow | None, positions: list[int], kinds: list[int]) -> list[int]:
    """Indices into `positions` (input or padding, not past it) that no output's window reads."""
    if dim is None or dim.kind not in ("conv", "pool"):
        return []
    read = {x for o in range(dim.out) for x in dim.taps(o)}
    return [i for i, (x, k) in enumerate(zip(positions, kinds)) if k != BEYOND and x not in read]


def window_figure(expl: Explanation, out_index: tuple[int, ...]) -> go.Figure:
    """Two heatmaps: the (padded) input with the window of output cell `out_index`, and the output grid."""
    dims = expl.dims[-2:] if len(expl.dims) >= 2 else (None, expl.dims[0])
    index = tuple(out_index)[-2:] if len(expl.dims) >= 2 else (0, out_index[-1])
    axes = [(([0], [INPUT], {0}) if d is None else _axis(d, o)) for d, o in zip(dims, index)]
    (rows, row_kinds, row_taps), (cols, col_kinds, col_taps) = axes
    grid = np.empty((len(rows), len(cols)), dtype=int)
    for i, (r, rk) in enumerate(zip(rows, row_kinds)):
        for j, (c, ck) in enumerate(zip(cols, col_kinds)):
            base = BEYOND if BEYOND in (rk, ck) else INPUT if rk == ck == INPUT else PAD
            if r in row_taps and c in col_taps:
                base = TAP if base == INPUT else TAP_PAD
            grid[i, j] = base
    out_rows = 1 if dims[0] is None else dims[0].out
    out_grid = np.full((out_rows, dims[1].out), OUT)
    out_grid[index[0], index[1]] = OUT_PICKED

    fig = make_subplots(rows=1, cols=2, column_widths=[max(len(cols), 1), max(dims[1].out, 1)],
                        subplot_titles=("input" + (" with padding" if _padded(dims) else ""), "output"),
                        horizontal_spacing=0.08)
    fig.add_trace(_heatmap(grid, rows, cols, "input"), row=1, col=1)
    fig.add_trace(_heatmap(out_grid, list(range(out_rows)), list(range(dims[1].out)), "output"), row=1, col=2)
    skipped_rows, skipped_cols = uncovered(dims[0], rows, row_kinds), uncovered(dims[1], cols, col_kinds)
    cells = [(rows[i], cols[j]) for i in range(len(rows)) for j in range(len(cols))
             if (i in skipped_rows or j in skipped_cols) and grid[i, j] != BEYOND]
    if cells:  # hatched with crosses, so the cells keep their own colour (input or padding) underneath
        fig.add_trace(go.Scatter(
            x=[c for _, c in cells], y=[r for r, _ in cells], mode="markers", name=UNCOVERED,
            marker=dict(symbol="x-thin", size=max(4, min(14, 320 // max(len(rows), len(cols)))),
                        line=dict(width=1.5, color="#525252"), color="#525252"),
            hovertemplate=f"input row %{{y}}, column %{{x}}: {UNCOVERED}<extra></extra>",
        ), row=1, col=1)
    for col, (ys, xs) in enumerate(((rows, cols), (range(out_rows), range(dims[1].out))), start=1):
        fig.update_yaxes(autorange="reversed", scaleanchor=f"x{'' if col == 1 else 2}", constrain="domain",
                         showgrid=False, zeroline=False, dtick=_tick(len(ys)), row=1, col=col)
        fig.update_xaxes(constrain="domain", showgrid=False, zeroline=False, dtick=_tick(len(xs)), row=1, col=col)
    fig.update_layout(height=min(max(140 + 16 * len(rows), 200), 520) + (40 if cells else 0),
                      margin=dict(l=10, r=10, t=40, b=40 if cells else 10), showlegend=bool(cells),
                      legend=dict(orientation="h", yanchor="top", y=-0.12, x=0))  # below the tick labels
    return fig


def _tick(cells: int) -> int:
    return 1 if cells <= 10 else 5 if cells <= 40 else 10


def _padded(dims) -> bool:
    return any(d is not None and (d.pad_before or d.pad_after) and d.kind != "transposed" for d in dims)


def _heatmap(grid: np.ndarray, rows: list[int], cols: list[int], what: str) -> go.Heatmap:
    n = len(COLOURS) - 1
    # one flat band of colour per category value
    scale = [[max((v - 0.5) / n, 0) if k == 0 else min((v + 0.5) / n, 1), c]
             for v, c in enumerate(COLOURS) for k in (0, 1)]
    text = [[f"{what} row {r}, column {c}: {LABELS[grid[i][j]]}" for j, c in enumerate(cols)]
            for i, r in enumerate(rows)]
    return go.Heatmap(z=grid, x=cols, y=rows, zmin=0, zmax=n, colorscale=scale, showscale=False, xgap=1, ygap=1,
                      text=text, hoverinfo="text")


def pooling_figure(image: np.ndarray, pooled: dict[str, np.ndarray], title: str = "") -> go.Figure:
    """The image and its pooled versions side by side, in grey, each at its own resolution."""
    panels = {"original": image, **pooled}
    fig = make_subplots(rows=1, cols=len(panels), subplot_titles=[
        f"{name} ({a.shape[0]}×{a.shape[1]})" for name, a in panels.items()], horizontal_spacing=0.04)
    for col, a in enumerate(panels.values(), start=1):
        finite = np.where(np.isfinite(a), a, np.nan)
        fig.add_trace(go.Heatmap(z=finite, colorscale="gray", reversescale=False, showscale=False,
                                 hovertemplate="row %{y}, column %{x}: %{z:.1f}<extra></extra>"), row=1, col=col)
        fig.update_yaxes(autorange="reversed", scaleanchor=f"x{'' if col == 1 else col}", showticklabels=False,
                         row=1, col=col)
        fig.update_xaxes(showticklabels=False, row=1, col=col)
    fig.update_layout(height=340, margin=dict(l=10, r=10, t=70 if title else 40, b=10), title=title or None)
    return fig

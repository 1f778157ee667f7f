"""Figures for evaluation: confusion matrices, their difference, kernels, feature maps, image galleries.

Built from plotly.graph_objects directly: px.imshow and its facets (make_subplots) cost 10-50× more to
build, and the evaluation page redraws all of these on every rerun.
"""
from __future__ import annotations

import base64
import io

import numpy as np
import plotly.graph_objects as go
from PIL import Image

from cnn_dash.plots.layout import title_px, wrapped

# Colour-blind-safe scales: cividis is sequential and designed for colour-vision deficiency; RdBu is
# diverging red/blue, which stays distinguishable for red-green deficiency (no red-vs-green contrast).
SEQUENTIAL = "cividis"
DIVERGING = "RdBu"
# A confusion matrix's right answers are one calm colour; its mistakes have a scale of their own, from white (none)
# to dark orange-red, so that 3 mistakes stand out beside 190 right answers (on one scale they were all dark).
RIGHT = [[0.0, "#d6e4f0"], [1.0, "#d6e4f0"]]
MISTAKES = [[0.0, "#ffffff"], [0.02, "#fee8c8"], [0.5, "#fc8d59"], [1.0, "#b30000"]]
# Plotly writes a heatmap's numbers at the figure's font size, shrunk to fit a cell where they do not (and only
# when no text size is set): 16 px where a cell has room, at least 14 px at 1280 and 11 px on a phone.
MATRIX_TEXT_PX = 16
MARGIN = dict(l=10, r=10, t=50, b=10)


def _matrix_figure(traces: list[go.Heatmap], classes: tuple[str, ...], title: str) -> go.Figure:
    fig = go.Figure(traces)
    # Category axes keep digit names ("0".."9") as labels rather than numbers on a linear scale. The cells are not
    # forced square: they fill the column's width and the figure's height (no blank band, bigger numbers).
    fig.update_xaxes(type="category", title=dict(text="Predicted", font=dict(size=14)),
                     tickangle=-45 if max(map(len, classes)) > 2 else 0, tickfont=dict(size=13))
    fig.update_yaxes(type="category", title=dict(text="True", font=dict(size=14)), autorange="reversed",
                     tickfont=dict(size=13))
    return fig.update_layout(title=dict(text=title, font=dict(size=16)), margin=MARGIN, height=560,
                             font=dict(size=MATRIX_TEXT_PX))


def _colorbar(title: str) -> dict:
    """A thin horizontal colour bar at the figure's foot, named on its right: the cells keep the column's whole
    width (a phone's too), and nothing sits on the axis title."""
    return dict(title=dict(text=title, side="right", font=dict(size=13)), orientation="h", thickness=12, len=0.55,
                x=0, xanchor="left", yref="container", y=0.01, yanchor="bottom", tickfont=dict(size=12))


def confusion_figure(
    matrix: np.ndarray, classes: tuple[str, ...], title: str, percent: bool = False
) -> go.Figure:
    """Heatmap of a confusion matrix (rows true, columns predicted), the value written in every cell.

    Right answers (the diagonal) are one plain colour; mistakes are on a scale of their own, white for none (left
    blank) up to dark red for the most frequent mistake. `matrix` is the counts or, with `percent`, the row
    percentages (see metrics.row_percent).
    """
    values = np.asarray(matrix, dtype=float)
    diagonal = np.eye(len(classes), dtype=bool)
    unit = "% of the true class" if percent else "images"
    # At most 4 characters, so that a phone's cell holds them at 11 px: no thousands separator ("1135"), and
    # percentages to 2 figures ("99", "2.1").
    fmt = (lambda v: f"{v:.0f}" if v >= 10 else f"{v:.1f}") if percent else "{:.0f}".format
    common = dict(x=list(classes), y=list(classes), texttemplate="%{text}",
                  hovertemplate=f"true %{{y}}, predicted %{{x}}: %{{z}} {unit}<extra></extra>", hoverongaps=False)
    right = np.where(diagonal, values, np.nan)
    wrong = np.where(diagonal, np.nan, values)
    right_text = [[fmt(v) if d else "" for v, d in zip(row, drow)] for row, drow in zip(values, diagonal)]
    wrong_text = [["" if d or round(v, 1) == 0 else fmt(v) for v, d in zip(row, drow)]
                  for row, drow in zip(values, diagonal)]
    top = float(np.nanmax(wrong)) if np.isfinite(wrong).any() and np.nanmax(wrong) > 0 else 1.0
    return _matrix_figure([
        go.Heatmap(z=right, text=right_text, colorscale=RIGHT, showscale=False, **common),
        go.Heatmap(z=wrong, text=wrong_text, colorscale=MISTAKES, zmin=0, zmax=top,
                   colorbar=_colorbar("mistakes, % of row" if percent else "mistakes"), **common),
    ], classes, title)


def advantage(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """A's advantage over B in every cell of two confusion matrices: positive where A does better.

    On the diagonal (right answers) that is A − B; off it (mistakes) B − A, since fewer mistakes is better.
    """
    out = np.asarray(b) - np.asarray(a)
    np.fill_diagonal(out, np.diagonal(a) - np.diagonal(b))
    return out


def difference_figure(
    diff: np.ndarray, classes: tuple[str, ...], title: str, percent: bool = False, a: str = "A", b: str = "B"
) -> go.Figure:
    """Heatmap of A's advantage over B (see `advantage`) on a diverging scale centred at 0: blue where A does
    better, red where B does, on and off the diagonal alike; the value written in every cell where the models
    differ (negative ones with their minus) (blank where they agree: a 0 in every cell would hide the few that matter)."""
    bound = float(np.abs(diff).max()) or 1.0
    fmt = "{:.1f}" if percent else "{:d}"  # no "+": the colour says who is better, and "161" fits a phone's cell
    text = ["" if round(v, 1) == 0 else fmt.format(v) for row in diff.tolist() for v in row]
    text = [text[i : i + len(classes)] for i in range(0, len(text), len(classes))]
    unit = "% of row" if percent else "images"
    heatmap = go.Heatmap(
        z=diff, x=list(classes), y=list(classes), colorscale=DIVERGING, zmin=-bound, zmax=bound, zmid=0,
        text=text, texttemplate="%{text}",
        # The bar's ends say who is better (a long name on its right squeezed the bar to a sliver on a phone).
        colorbar=dict(_colorbar(""), tickvals=[-bound, 0, bound], ticktext=[f"{b} better", "0", f"{a} better"]),
        hovertemplate=f"true %{{y}}, predicted %{{x}}: %{{z}} {unit} in favour of {a}<extra></extra>",
    )
    return _matrix_figure([heatmap], classes, title)


def _mosaic(tiles: np.ndarray, columns: int) -> np.ndarray:
    """Tiles (n, h, w) laid out in a grid with one blank (NaN) pixel between them."""
    n, h, w = tiles.shape
    columns = max(1, min(columns, n))
    rows = -(-n // columns)
    out = np.full((rows * (h + 1) - 1, columns * (w + 1) - 1), np.nan)
    for i, tile in enumerate(tiles):
        r, c = divmod(i, columns)
        out[r * (h + 1) : r * (h + 1) + h, c * (w + 1) : c * (w + 1) + w] = tile
    return out


def _grid_figure(grid: np.ndarray, title: str, width: int = 900, **heatmap: object) -> go.Figure:
    fig = go.Figure(go.Heatmap(z=grid, hoverongaps=False, **heatmap))
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False, autorange="reversed", scaleanchor="x", constrain="domain")
    # Height from the grid's proportions at about `width` pixels wide, so no band of white is left over.
    height = min(max(70 + int(width * grid.shape[0] / grid.shape[1]), 220), 1200)
    title = wrapped(title)
    return fig.update_layout(title=title, height=height, margin=dict(MARGIN, t=max(MARGIN["t"], title_px(title))))


def finite(values: np.ndarray) -> np.ndarray:
    """Float64 values with NaN and ±inf (a diverged model's) as NaN: drawn as gaps, left out of every scale."""
    values = np.asarray(values, dtype=np.float64)
    return np.where(np.isfinite(values), values, np.nan)


def kernels_figure(kernels: np.ndarray, title: str = "First convolution's kernels") -> go.Figure:
    """Grid of learned kernels (out, in, kH, kW) on a diverging scale: negative weights vs positive, the scale set
    by the finite weights (a value that is not finite is a gap, and the title says how many)."""
    tiles = finite(kernels.reshape(-1, *kernels.shape[-2:]))  # (out * in, kH, kW)
    bad = int(np.isnan(tiles).sum())
    bound = float(np.nanmax(np.abs(tiles))) if bad < tiles.size else 0.0
    if bad:
        title += f" ({bad:,} weights not finite: blank)"
    return _grid_figure(_mosaic(tiles, columns=8), title, colorscale=DIVERGING, zmin=-(bound or 1.0),
                        zmax=bound or 1.0, zmid=0, colorbar=dict(title="weight"))


def feature_maps_figure(maps: np.ndarray, title: str, columns: int = 8) -> go.Figure:
    """Grid of feature maps (C, H, W), each scaled to the range of its finite values so that weak channels stay
    visible (a value that is not finite is a gap)."""
    maps = finite(maps)
    scaled = np.zeros(maps.shape)
    for c, channel in enumerate(maps):
        seen = channel[np.isfinite(channel)]
        low, span = (float(seen.min()), float(seen.max() - seen.min())) if seen.size else (0.0, 0.0)
        scaled[c] = (channel - low) / span if span > 0 else np.where(np.isfinite(channel), 0.0, np.nan)
    return _grid_figure(_mosaic(scaled, columns), title, colorscale="gray", showscale=False)


def _png(image: np.ndarray) -> str:
    """A uint8 grey image as a PNG data URI (what the browser draws, pixel for pixel)."""
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(image, dtype=np.uint8)).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def gallery_figure(images: np.ndarray, captions: list[str], title: str = "", columns: int = 8) -> go.Figure:
    """Grayscale images (n, H, W) uint8 in a grid, each with its caption (lines joined by <br>) above it."""
    if len(images) == 0:
        return go.Figure().update_layout(title=title or "No images", height=120)
    n = len(images)
    columns = max(1, min(columns, n))
    rows = -(-n // columns)
    caption_px = 8 + 17 * max(c.count("<br>") + 1 for c in captions)
    title = wrapped(title)
    tile_px, top, bottom = 110, title_px(title), 10
    plot_px = rows * (tile_px + caption_px)
    # One layout dict, validated once: adding traces and axes one by one costs ten times more.
    traces, annotations = [], []
    layout: dict = dict(title=title, height=top + plot_px + bottom,
                        margin=dict(l=10, r=10, t=top, b=bottom))
    for i, (image, caption) in enumerate(zip(images, captions)):
        r, c = divmod(i, columns)
        k = "" if i == 0 else str(i + 1)  # plotly names the axes x, x2, x3, ...
        y1 = 1 - (r * (tile_px + caption_px) + caption_px) / plot_px
        traces.append(go.Image(source=_png(image), xaxis=f"x{k}", yaxis=f"y{k}", hoverinfo="skip"))
        layout[f"xaxis{k}"] = dict(domain=[c / columns + 0.005, (c + 1) / columns - 0.005], visible=False)
        layout[f"yaxis{k}"] = dict(domain=[max(0.0, y1 - tile_px / plot_px), y1], visible=False,
                                   scaleanchor=f"x{k}", constrain="domain")
        annotations.append(dict(text=caption, xref=f"x{k} domain", yref=f"y{k} domain", x=0.5, y=1.0,
                                yanchor="bottom", showarrow=False, font=dict(size=13)))
    return go.Figure(data=traces, layout=dict(layout, annotations=annotations))

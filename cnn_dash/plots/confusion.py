"""Figures for evaluation: confusion matrices, their difference, kernels, feature maps, image galleries."""
from __future__ import annotations

import numpy as np
import plotly.express as px
import plotly.graph_objects as go

# Colour-blind-safe scales: cividis is sequential and designed for colour-vision deficiency; RdBu is
# diverging red/blue, which stays distinguishable for red-green deficiency (no red-vs-green contrast).
SEQUENTIAL = "cividis"
DIVERGING = "RdBu"


def _matrix_axes(fig: go.Figure, classes: tuple[str, ...]) -> go.Figure:
    # Category axes keep digit names ("0".."9") as labels rather than numbers on a linear scale.
    fig.update_xaxes(type="category", side="bottom", tickangle=-45 if max(map(len, classes)) > 2 else 0)
    fig.update_yaxes(type="category")
    fig.update_layout(margin=dict(l=10, r=10, t=50, b=10))
    return fig


def confusion_figure(
    matrix: np.ndarray, classes: tuple[str, ...], title: str, percent: bool = False
) -> go.Figure:
    """Heatmap of a confusion matrix (rows true, columns predicted), the value written in every cell.

    `matrix` is the counts or, with `percent`, the row percentages (see metrics.row_percent).
    """
    fig = px.imshow(
        matrix,
        x=list(classes),
        y=list(classes),
        text_auto=".1f" if percent else "d",
        color_continuous_scale=SEQUENTIAL,
        labels=dict(x="Predicted", y="True", color="% of row" if percent else "Images"),
        title=title,
        aspect="equal",
    )
    return _matrix_axes(fig, classes)


def difference_figure(
    diff: np.ndarray, classes: tuple[str, ...], title: str, percent: bool = False
) -> go.Figure:
    """Heatmap of A − B on a diverging scale centred at 0, the signed value written in every cell.

    On the diagonal a positive cell means A gets more of that class right; off the diagonal a positive
    cell means A makes more of that mistake.
    """
    bound = float(np.abs(diff).max()) or 1.0
    fig = px.imshow(
        diff,
        x=list(classes),
        y=list(classes),
        color_continuous_scale=DIVERGING,
        range_color=(-bound, bound),
        color_continuous_midpoint=0,
        labels=dict(x="Predicted", y="True", color="Δ % of row" if percent else "Δ images"),
        title=title,
        aspect="equal",
    )
    # Signed values, but a plain 0 where the models agree: "+0" would draw the eye to nothing.
    fmt = "{:+.1f}" if percent else "{:+d}"
    text = [["0" if round(v, 1) == 0 else fmt.format(v) for v in row] for row in diff.tolist()]
    fig.update_traces(text=text, texttemplate="%{text}")
    return _matrix_axes(fig, classes)


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


def _grid_figure(grid: np.ndarray, title: str, width: int = 900, **imshow: object) -> go.Figure:
    fig = px.imshow(grid, title=title, aspect="equal", **imshow)
    fig.update_xaxes(showticklabels=False)
    fig.update_yaxes(showticklabels=False)
    # Height from the grid's proportions at about `width` pixels wide, so no band of white is left over.
    height = 70 + int(width * grid.shape[0] / grid.shape[1])
    return fig.update_layout(height=min(max(height, 220), 1200), margin=dict(l=10, r=10, t=50, b=10))


def kernels_figure(kernels: np.ndarray, title: str = "First convolution's kernels") -> go.Figure:
    """Grid of learned kernels (out, in, kH, kW) on a diverging scale: negative weights vs positive."""
    tiles = kernels.reshape(-1, *kernels.shape[-2:])  # (out * in, kH, kW)
    bound = float(np.abs(tiles).max()) or 1.0
    return _grid_figure(
        _mosaic(tiles, columns=8),
        title,
        color_continuous_scale=DIVERGING,
        range_color=(-bound, bound),
        color_continuous_midpoint=0,
        labels=dict(color="weight"),
    )


def feature_maps_figure(maps: np.ndarray, title: str, columns: int = 8) -> go.Figure:
    """Grid of feature maps (C, H, W), each scaled to its own range so that weak channels stay visible."""
    low = maps.min(axis=(1, 2), keepdims=True)
    span = maps.max(axis=(1, 2), keepdims=True) - low
    scaled = np.divide(maps - low, span, out=np.zeros(maps.shape), where=span > 0)
    fig = _grid_figure(
        _mosaic(scaled, columns), title, color_continuous_scale="gray", labels=dict(color="scaled")
    )
    return fig.update_layout(coloraxis_showscale=False)


def gallery_figure(images: np.ndarray, captions: list[str], title: str = "", columns: int = 8) -> go.Figure:
    """Grayscale images (n, H, W) uint8 in a grid, each with its caption (lines joined by <br>) above it."""
    if len(images) == 0:
        return go.Figure().update_layout(title=title or "No images")
    columns = max(1, min(columns, len(images)))
    rows = -(-len(images) // columns)
    caption_px = 8 + 14 * max(c.count("<br>") + 1 for c in captions)
    height = 60 + rows * (120 + caption_px)
    fig = px.imshow(
        np.asarray(images),
        facet_col=0,
        facet_col_wrap=columns,
        facet_row_spacing=caption_px / (height - 60) if rows > 1 else 0.0,
        facet_col_spacing=0.01,
        binary_string=True,
        title=title,
    )
    # Facet titles read "facet_col=<i>"; replace each by its image's caption.
    fig.for_each_annotation(lambda a: a.update(text=captions[int(a.text.split("=")[1])], font_size=11))
    fig.update_xaxes(showticklabels=False)
    fig.update_yaxes(showticklabels=False)
    return fig.update_layout(height=height, margin=dict(l=10, r=10, t=40 + caption_px, b=10))

"""Grids of dataset images with their labels."""
from __future__ import annotations

import plotly.express as px
import plotly.graph_objects as go
import torch


def image_grid(images: torch.Tensor, titles: list[str], columns: int = 10) -> go.Figure:
    """A grid of uint8 (N, 28, 28) images in grey, each titled (e.g. with its label)."""
    fig = px.imshow(images.numpy(), facet_col=0, facet_col_wrap=columns, binary_string=True,
                    facet_col_spacing=0.01, facet_row_spacing=0.06)
    # plotly labels the facets "facet_col=i" in the order of the images: replace them with the titles.
    for annotation in fig.layout.annotations:
        annotation.text = titles[int(annotation.text.split("=")[1])]
    fig.update_xaxes(visible=False).update_yaxes(visible=False)
    rows = -(-len(titles) // columns)
    fig.update_layout(height=130 * rows + 40, margin=dict(l=0, r=0, t=30, b=0))
    return fig

"""The data-efficiency chart: test accuracy against training images or training multiply-adds (log x), one line
per model."""
from __future__ import annotations

import math

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from cnn_dash.plots.layout import BELOW

ACC_STEP = 0.05  # the accuracy axis starts on a multiple of 5%


def sweep_figure(frame: pd.DataFrame, height: int = 380, x: str = "images") -> go.Figure:
    """Lines with markers from a sweep frame (cnn_dash.sweep.sweep_frame) against `x`: "images" (the training
    subset) or "training multiply-adds" (what each model spent on its run). Only finished models are drawn, so a
    point appears when its run ends; x spans the whole sweep from the start (on images, its sizes as ticks)."""
    done = frame[(frame["status"] == "finished") & frame["test_acc"].notna()].sort_values(x)
    fig = px.line(done, x=x, y="test_acc", color="model", markers=True, log_x=True,
                  category_orders={"model": list(dict.fromkeys(frame["model"]))},
                  color_discrete_sequence=px.colors.qualitative.Plotly,  # the training curves' colours per model
                  custom_data=["run", "epochs", "images"])
    along = ("%{x:,} training images" if x == "images"
             else "%{x:.3s} training multiply-adds on %{customdata[2]:,} images")
    fig.update_traces(hovertemplate=f"%{{fullData.name}}<br>{along}, %{{customdata[1]}} epochs: "
                                    f"%{{y:.2%}}<br>%{{customdata[0]}}<extra></extra>")
    planned = sorted(v for v in frame[x].unique() if v > 0)
    if planned:
        fig.update_xaxes(range=[math.log10(planned[0]) - 0.1, math.log10(planned[-1]) + 0.1])
        if x == "images":
            fig.update_xaxes(tickvals=planned, ticktext=[f"{n:,}" for n in planned])
    low = float(done["test_acc"].min()) if not done.empty else 0.0
    fig.update_xaxes(type="log", title_text=f"{'training images' if x == 'images' else x} (log scale)")
    fig.update_yaxes(title_text="test accuracy", tickformat=".0%",
                     range=[max(0.0, math.floor((low - 0.01) / ACC_STEP) * ACC_STEP), 1.01])
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=30, b=10), legend=BELOW,
                      legend_title_text="")
    return fig

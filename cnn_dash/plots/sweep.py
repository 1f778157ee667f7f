"""The data-efficiency chart: test accuracy against training images (log x), one line per model."""
from __future__ import annotations

import math

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from cnn_dash.plots.layout import BELOW

ACC_STEP = 0.05  # the accuracy axis starts on a multiple of 5%


def sweep_figure(frame: pd.DataFrame, height: int = 380) -> go.Figure:
    """Lines with markers from a sweep frame (cnn_dash.sweep.sweep_frame): only finished models are drawn, so a
    point appears when its run ends; the x ticks are the sweep's sizes, the whole sweep's range from the start."""
    done = frame[(frame["status"] == "finished") & frame["test_acc"].notna()].sort_values("images")
    fig = px.line(done, x="images", y="test_acc", color="model", markers=True, log_x=True,
                  category_orders={"model": list(dict.fromkeys(frame["model"]))},
                  color_discrete_sequence=px.colors.qualitative.Plotly,  # the training curves' colours per model
                  custom_data=["run", "epochs"])
    fig.update_traces(hovertemplate="%{fullData.name}<br>%{x:,} training images, %{customdata[1]} epochs: "
                                    "%{y:.2%}<br>%{customdata[0]}<extra></extra>")
    sizes = sorted(frame["images"].unique())
    if sizes:
        span = [math.log10(sizes[0]) - 0.1, math.log10(sizes[-1]) + 0.1]
        fig.update_xaxes(tickvals=sizes, ticktext=[f"{n:,}" for n in sizes], range=span)
    low = float(done["test_acc"].min()) if not done.empty else 0.0
    fig.update_xaxes(type="log", title_text="training images (log scale)")
    fig.update_yaxes(title_text="test accuracy", tickformat=".0%",
                     range=[max(0.0, math.floor((low - 0.01) / ACC_STEP) * ACC_STEP), 1.01])
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=30, b=10), legend=BELOW,
                      legend_title_text="")
    return fig

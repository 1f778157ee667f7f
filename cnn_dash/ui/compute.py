"""Under a finished run: its curves against training images, optimizer steps, training time or multiply-adds."""
from __future__ import annotations

import streamlit as st

from cnn_dash.compute import X_AXES, compute_frame, compute_sentence
from cnn_dash.plots.curves import curves_figure, curves_frame
from cnn_dash.runs import Run
from cnn_dash.shapes import net_cost


def compute_curves(run: Run) -> None:
    """One switch for the horizontal axis of the run's curves; the accuracies where every model got to."""
    if run.active or not run.history:
        return
    with st.expander("The curves against compute: images, steps, time, multiply-adds"):
        x = st.radio("Horizontal axis", list(X_AXES), index=list(X_AXES).index("training multiply-adds"),
                     horizontal=True, key=f"compute_x_{run.id}")
        images = min(run.settings.train_subset or len(run.dataset.train_labels), len(run.dataset.train_labels))
        frame = compute_frame(curves_frame({run.name: list(run.history)}), {run.name: images},
                              {(run.name, m.label): net_cost(m.net)[1] for m in run.models})
        st.plotly_chart(curves_figure(frame, x=x, height=320), width="stretch", key=f"compute_fig_{run.id}")
        st.caption(f"{x}: {X_AXES[x]}.")
        st.markdown(compute_sentence(frame, x, {m.label: m.named for m in run.models}))

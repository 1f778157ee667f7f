"""Evaluation page: move a test image with sliders and watch a CNN's feature maps move with it, an FC net's not."""
from __future__ import annotations

import streamlit as st

from cnn_dash.inference import model_input
from cnn_dash.equivariance import equivariance, equivariance_sentence
from cnn_dash.plots.equivariance import equivariance_figure
from cnn_dash.runs import Run


def equivariance_section(run: Run) -> None:
    """Sliders for a test image and its move; the figure and the sentence from the measured correlations."""
    models = run.trained_models()
    cnns = [m.label for m in run.models if m.net.is_cnn and m.label in models]
    fcs = [m.label for m in run.models if not m.net.is_cnn and m.label in models
           and any(layer.type == "Linear" for layer in m.net.layers[:2])]
    st.subheader("Move the input: equivariance")
    if not cnns or not fcs:
        st.info("This needs a CNN and an FC net (one whose first layer after Flatten is Linear) in the run.",
                icon=":material/info:")
        return
    left, right = st.columns(2)
    cnn = left.selectbox("CNN", cnns, key="eq_cnn")
    fc = right.selectbox("FC net", fcs, key="eq_fc")
    a, b, c = st.columns(3)
    index = a.number_input("Test image", 0, len(run.dataset.test_labels) - 1, 0, key="eq_image")
    dy = b.slider("Move down (pixels)", -6, 6, 2, key="eq_dy")
    dx = c.slider("Move right (pixels)", -6, 6, 2, key="eq_dx")
    e = equivariance(models[cnn], models[fc], run.dataset.test_images[int(index)].numpy(), dy, dx,
                     lambda batch: model_input(batch, run.settings))
    channel = st.slider("CNN channel", 0, e.cnn_maps.shape[1] - 1, 0, key="eq_channel")
    st.plotly_chart(equivariance_figure(e, channel), width="stretch", key="eq_fig")
    st.markdown(equivariance_sentence(e))

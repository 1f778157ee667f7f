"""Training: CNN and FC nets side by side on the same batches, live curves, runs kept for the other pages."""
import streamlit as st

from cnn_dash.ui import training as ui
from cnn_dash.ui.dataset import selected_dataset
from cnn_dash.ui.routing import through_router

through_router()

st.title("Train side by side")
st.caption("Every model starts from the same seed and sees the same batches in the same order, so the curves "
           "compare the architectures, not the luck of the draw. Training goes on while you visit other pages.")

registry = ui.session_registry()

dataset = selected_dataset()
if dataset is None:
    st.stop()
st.caption(f"Dataset (chosen in the sidebar): **{dataset.name}**, {dataset.size_text} from the {dataset.source}.")

models = ui.model_inputs()
settings = ui.settings_inputs(dataset.name, len(dataset.train_labels))
over_limit = ui.limits_note(settings, models)

ui.start_buttons(registry, settings, models, over_limit)
active = registry.active()
if active is not None:
    st.caption("One run per session trains (or waits) at a time: stop it to start another.")

st.divider()
if active is not None:
    ui.live_run(active.id)
elif registry.runs():
    ui.run_card(registry.runs()[-1], registry)
ui.runs_list(registry)

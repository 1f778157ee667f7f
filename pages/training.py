"""Training: CNN and FC nets side by side on the same batches, live curves, runs kept for the other pages."""
import streamlit as st

from cnn_dash.data import TITLES
from cnn_dash.ui import experiments, run_card, runs_list, sweep
from cnn_dash.ui import training as ui
from cnn_dash.ui import training_form as form
from cnn_dash.ui import tutorials as tut
from cnn_dash.ui.dataset import selected_dataset
from cnn_dash.ui.links import PageLink
from cnn_dash.ui.routing import through_router

through_router()

st.title("Train side by side")
link = PageLink(slot=False)  # the form's settings live in the URL; "Copy link" sits beside Train
registry = ui.session_registry()
dataset = selected_dataset()
if dataset is None:
    st.stop()
train_size = len(dataset.train_labels)

# On a projector the buttons and the live run come first, on screen without scrolling; the form below them.
buttons, live = st.container(horizontal=True), st.container()
busy = registry.active() is not None
with st.expander("Models and settings of the next run", expanded=False) if busy else st.container():
    st.caption(f"Every model starts from the same seed and sees the same batches in the same order, so the "
               f"curves compare the architectures, not the luck of the draw. Dataset (chosen in the sidebar): "
               f"**{TITLES[dataset.name]}**, {dataset.size_text} from the {dataset.source}.")
    # The tutorial's own models and settings (or its largest version within the limits), shown by the picker,
    # replace the form; a change of dataset is said first.
    tutorial = tut.tutorial_picker(key="tut_pick", link=link, dataset_name=dataset.name, train_size=train_size)
    if tutorial is not None:
        settings, models = tutorial.settings, list(tutorial.models)
    else:
        count = form.model_count(link)
        models = form.model_inputs(link, count)
        settings = form.settings_inputs(link, dataset.name, train_size, count)
    problem = form.check_form(settings, models, train_size)
    if problem is None:
        tut.estimate_note(settings, models, train_size, len(dataset.test_labels))
    ui.start_if_asked(registry, settings, models, problem)
    sweep.start_if_asked(registry, settings, models, problem, train_size)
    experiments.start_if_asked(registry, dataset.name, train_size)
    form.limits_note(settings, models, problem)

with buttons:
    ui.start_buttons(registry, models, problem, train_size)
    sweep.sweep_button(registry)
    experiments.buttons(registry, dataset.name, train_size)
    link.finish()

runs = registry.runs()
sweep_last = bool(runs) and runs[-1].sweep is not None  # the latest thing trained is a data-efficiency sweep
with live:
    active = registry.active()
    if problem is not None and active is None:  # why Train is disabled, under it: in view on a 720 px screen
        ui.blocked_note(problem)
    if active is not None:
        sweep.progress_line(active, registry)
        run_card.live_run(active.id)
    elif runs and not sweep_last:
        run_card.run_card(runs[-1], registry)
        experiments.result(runs[-1])
    if sweep_last:  # its chart is the result: on screen under the buttons, the runs themselves in the list below
        sweep.sweep_section(registry)
if not sweep_last:
    sweep.sweep_section(registry)  # an earlier sweep's chart, below the form
runs_list.runs_list(registry)

"""The Training page's experiments: a button each (beside Quick demo), and under a finished experiment run what it
shows — the sentences from cnn_dash.experiments, the models' costs, and the shift-robustness curve.

An experiment is an ordinary run of the session's RunRegistry, started as it is (the form is left alone), within
this server's limits (experiments.fitted says how it was shrunk, if it had to be).
"""
from __future__ import annotations

import streamlit as st

from cnn_dash import experiments, shift
from cnn_dash.experiments import SHIFT, SHIFT_IMAGES, Augmentation, Decomposition, Experiment
from cnn_dash.plots.shift import shift_figure
from cnn_dash.registry import RunRegistry
from cnn_dash.runs import Run
from cnn_dash.ui.training import start_run

START_KEY = "_experiment_start_requested"  # the key of the experiment a button asked for, read once
CURVES_KEY = "_experiment_shift_curves"  # run id -> (curves, seconds); no widget uses it
ICONS = {"decomposition": ":material/call_split:", "shifted_copies": ":material/open_with:",
         "race": ":material/sports_score:"}


def _ask(key: str) -> None:
    st.session_state[START_KEY] = key


def planned(registry: RunRegistry, key: str, dataset: str, train_size: int) -> Experiment:
    """The experiment as it would train here: on the sidebar's dataset, within the session's limits."""
    return experiments.fitted(experiments.EXPERIMENTS[key](dataset), registry.limits, train_size)


def buttons(registry: RunRegistry, dataset: str, train_size: int) -> None:
    """One button per experiment, folded into one "Experiments" button of the caller's row (so the row stays one
    line at 1280 px and the run's results stay on the first screen); each starts its run at once."""
    busy = registry.active() is not None
    with st.popover("Experiments", icon=":material/science:"):
        for key in experiments.EXPERIMENTS:
            _button(registry, key, dataset, train_size, busy)


def _button(registry: RunRegistry, key: str, dataset: str, train_size: int, busy: bool) -> None:
    exp = planned(registry, key, dataset, train_size)
    s = exp.settings
    images = f"{s.train_subset:,}" if s.train_subset else "all"
    st.button(exp.title, icon=ICONS[key], key=f"exp_{key}", disabled=busy, on_click=_ask, args=(key,),
              help=f"{exp.what} {images} training images, {s.epochs} epochs, batch {s.batch_size}."
                   + (" One run per session trains at a time: stop it to start another." if busy else ""))


def start_if_asked(registry: RunRegistry, dataset: str, train_size: int) -> None:
    """Start the experiment a button asked for (a limit is shown with st.error, never a traceback)."""
    key = st.session_state.pop(START_KEY, None)
    if key in experiments.EXPERIMENTS:
        exp = planned(registry, key, dataset, train_size)
        start_run(registry, exp.settings, exp.models)


def _curves(run: Run) -> list[shift.ShiftCurve]:
    cache = st.session_state.setdefault(CURVES_KEY, {})
    if run.id not in cache:
        with st.spinner(f"Shifting {min(SHIFT_IMAGES, len(run.dataset.test_labels)):,} test images by up to "
                        f"{SHIFT} pixels and classifying them again…"):
            cache[run.id] = shift.run_shift_curve(run, SHIFT, SHIFT_IMAGES)
    return cache[run.id][0]


def result(run: Run) -> None:
    """Under a finished (or stopped) experiment run: what it shows, in its own numbers."""
    exp = experiments.find_experiment(run.settings, run.models)
    if exp is None or run.active or not run.has_weights:
        return
    results = run.results
    accs = [results[m.label].test_acc if m.label in results else None for m in run.models]
    st.subheader(exp.title)
    st.caption(experiments.cost_line(run.models))
    if exp.key == "race":
        st.markdown(experiments.race_sentence(list(run.history), run.models))
        return
    if any(a is None for a in accs):
        st.info("A model of this run was never tested (stopped before its first evaluation): train it again to "
                "read the experiment.", icon=":material/info:")
        return
    if exp.key == "decomposition":
        st.markdown(experiments.decomposition_sentence(Decomposition(*accs)))
    else:
        st.markdown(experiments.augmentation_sentence(Augmentation(*accs)))
    curves = _curves(run)
    st.plotly_chart(shift_figure(curves), width="stretch", key=f"exp_shift_{run.id}")
    names = {m.label: m.named for m in run.models}
    st.markdown(experiments.shift_drop_sentence({names[c.label]: (c.at(0), c.at(SHIFT)) for c in curves}, SHIFT))

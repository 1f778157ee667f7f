"""Where and how big a digit is drawn, on the draw page: the line that says what the chosen run's models make of a
digit drawn off-centre or small, from their scores on moved and shrunk test digits (cnn_dash.placement, kept per
run), and, when its CNN does not hold where its FC net fails, a one-click pair built for it
(presets.placement_pair), trained as an ordinary run of the session: its progress, then the page's run switched to it
once it ends."""
from __future__ import annotations

import streamlit as st

from cnn_dash import hints, inference, placement, presets
from cnn_dash.records import Status
from cnn_dash.runs import Run
from cnn_dash.specs import ModelConfig, TrainSettings
from cnn_dash.ui.dataset import selected_dataset
from cnn_dash.ui.draw import thing
from cnn_dash.ui.training import estimated_time, session_registry, start_run

PLACEMENT_KEY = "_draw_placement"  # (run id, status) -> placement accuracies; no widget uses it
PAIR_ASKED_KEY = "_draw_pair_asked"  # "Train a pair built for this" was pressed, read once; no widget uses it
PAIR_KEY = "_draw_pair_run"  # the id of the pair run that button started, until it ends; no widget uses it
RUN_PICKER_KEY = "draw_run"  # the draw page's run selectbox


def invitation(run: Run | None) -> str:
    """The line that says why to draw, from the chosen run's own numbers: its models on test images moved
    off-centre and shrunk (placement.placement_accuracy, read by hints.placement_reading)."""
    if run is None:
        return f"Draw a {thing(None)} and see what every model of a finished run makes of it."
    if run.settings.permute_pixels:  # its models see shuffled pixels: a moved digit is not the lesson here
        return (f"Draw a {thing(run.settings.dataset)}: this run shuffled its pixels, and your input is shuffled the "
                "same way.")
    return hints.placement_reading(run.models, placement_scores(run))


def placement_scores(run: Run) -> dict[str, dict[str, float]]:
    """Label -> placement -> accuracy of the run's models on moved and shrunk test digits (kept for the run)."""
    cache: dict = st.session_state.setdefault(PLACEMENT_KEY, {})
    key = (run.id, run.status)
    if key not in cache:
        cache.clear()
        with st.spinner("Scoring every model on test images moved off-centre and shrunk…"):
            images, labels = run.dataset.test_images, run.dataset.test_labels
            cache[key] = placement.placement_accuracy(run.trained_models(), images, labels,
                                                      lambda batch: inference.model_input(batch, run.settings))
    return cache[key]


def cnn_holds(run: Run) -> bool:
    """True when the run's CNN reads moved or shrunk digits that its FC net fails on, in at least one placement."""
    if run.settings.permute_pixels:
        return False
    verdicts = hints.placement_verdicts(run.models, placement_scores(run))
    return bool(verdicts) and "holds" in verdicts.values()


def pair_in_training() -> Run | None:
    """The pair run "Train a pair built for this" started (started here when it was just pressed), while it waits or
    trains; once it has ended it becomes the page's chosen run. Call before the run picker."""
    registry = session_registry()
    if st.session_state.pop(PAIR_ASKED_KEY, None):
        started = start_run(registry, *_pair_plan())
        if started is not None:
            st.session_state[PAIR_KEY] = started.id
    run_id = st.session_state.get(PAIR_KEY)
    try:
        run = registry.get(run_id) if run_id else None
    except KeyError:  # deleted on the Training page
        run = None
    if run is not None and not run.active:
        st.session_state.pop(PAIR_KEY)
        if run.evaluable:  # the picker shows it from now on
            registry.last_viewed = run.id
            st.session_state[RUN_PICKER_KEY] = run.id
        return None
    return run


def _pair_plan() -> tuple[TrainSettings, tuple[ModelConfig, ...]]:
    """presets.placement_pair on the sidebar's dataset, on at most its training images (as the Quick demo)."""
    dataset = selected_dataset()
    if dataset is None:
        return presets.placement_pair()
    return presets.placement_pair(dataset.name, len(dataset.train_labels))


def _ask_pair() -> None:
    st.session_state[PAIR_ASKED_KEY] = True


def placement_pair_button(run: Run, key: str = "draw_pair") -> None:
    """"Train a pair built for this" when the chosen run's CNN does not hold where its FC net fails: the shift-tolerant
    CNN beside the Quick demo's FC net (presets.placement_pair), an ordinary run of the session's registry, trained
    on the same batches."""
    if cnn_holds(run):
        return
    settings, models = _pair_plan()
    registry = session_registry()
    st.button("Train a pair built for this", icon=":material/open_with:", key=key, on_click=_ask_pair,
              disabled=registry.active() is not None,
              help=f"Trains {models[0].net.name} (max-pooling, then the largest answer over all positions: built to "
                   f"read a digit wherever it is) beside the Quick demo's {models[1].net.name}, on the same batches "
                   f"({estimated_time(settings, models)} on this server, estimated). One run per session trains at "
                   "a time.")


def pair_progress(run: Run) -> None:
    """The pair's training, redrawn every second; the page reruns when it ends."""
    st.fragment(_pair_progress, run_every=1.0)(run.id)


def _pair_progress(run_id: str) -> None:
    try:
        run = session_registry().get(run_id)
    except KeyError:  # deleted on the Training page meanwhile
        st.rerun()
        return
    if not run.active:
        st.rerun()
        return
    fraction, eta = run.progress()
    left = f" · about {eta:.0f} s left" if eta is not None and fraction > 0 else ""
    status = "waiting for a free slot" if run.status == Status.QUEUED else f"{fraction:.0%} trained{left}"
    st.progress(min(max(fraction, 0.0), 1.0), text=f"{run.name}, {run.models[0].net.name} vs "
                                                   f"{run.models[1].net.name}: {status}")

"""Training page: the session's runs (its owner's registry), the store's notices, and starting a run (Train, Quick
demo). The form is in training_form, a run's live view and results in run_card, the list of runs in runs_list.

Runs live in a per-session `RunRegistry` under a key no widget uses; the scheduler trains them in its own
threads, so a rerun, a page switch or a Stop click never blocks on training.
"""
from __future__ import annotations

from contextlib import nullcontext

import streamlit as st

from cnn_dash.estimate import describe_seconds, estimate_run, is_measured, prime
from cnn_dash.library import library, owner_key
from cnn_dash.presets import quick_demo
from cnn_dash.registry import RunRegistry
from cnn_dash.runs import Run
from cnn_dash.scheduler import scheduler
from cnn_dash.specs import ModelConfig, TrainSettings
from cnn_dash.ui import owner
from cnn_dash.ui.dataset import selected_dataset

REGISTRY_KEY = "_training_runs"  # the session's RunRegistry (its owner's); no widget uses this key
NOTICES_KEY = "_store_notices_shown"  # the store's start-up notices were shown to this session
LETTERS = "ABCD"
START_KEY = "_train_start_requested"  # set by Train or Quick demo, read once by start_if_asked


def session_registry() -> RunRegistry:
    """The runs of this session's owner (its browser: cookie or handshake), shared with its other tabs and
    reloads; a registry a test put in the session state is used as it is."""
    state = st.session_state
    registry = state.get(REGISTRY_KEY)
    if registry is not None and registry.owner is None:
        return registry
    token = owner.owner_token()
    if registry is None or registry.owner != owner_key(token):
        registry = state[REGISTRY_KEY] = library().registry(token)
    registry.seen(owner.session_id(), owner.session_alive())
    return registry


def store_notices() -> None:
    """Say plainly when runs are not being saved, when the run database was replaced, and which of this
    browser's runs the store removed (size cap, age limit)."""
    store = library().store
    if store is not None and store.problem:
        st.warning(f"Runs are not being saved: {store.problem}. They are kept in this server's memory only and are "
                   f"lost when it restarts.", icon=":material/cloud_off:")
    if store is not None and store.notices and not st.session_state.get(NOTICES_KEY):
        st.session_state[NOTICES_KEY] = True  # once per session
        for notice in store.notices:
            st.warning(notice, icon=":material/warning:")
    removed = session_registry().evictions()
    if removed:
        st.info("Removed from the run store to make room: " + "; ".join(removed) + ".", icon=":material/delete:")


def start_run(registry: RunRegistry, settings: TrainSettings, models: list[ModelConfig] | tuple) -> Run | None:
    """Queue a run, or say why not (a limit, an invalid network, the data); never a traceback."""
    try:
        return registry.start(settings, tuple(models))
    except (ValueError, RuntimeError, OSError) as exc:  # LimitError, ShapeError, DataSourceError
        st.error(str(exc))
        return None


def _fill_quick_demo(train_size: int) -> None:
    """Put the quick demo's models and settings into the form, so the form shows what trains, and ask to start."""
    settings, models = quick_demo()
    state = st.session_state
    state["train_count"] = len(models)
    for i, m in enumerate(models):
        name = "Adam" if m.optimizer.name == "adam" else "SGD"
        state[f"train_model_{i}_preset"] = m.net.name
        state[f"train_opt_{i}_name"] = name
        state[f"train_opt_{i}_lr_{name}"] = m.optimizer.lr
    state["train_subset"] = min(settings.train_subset or train_size, train_size)
    state["train_batch"] = settings.batch_size
    state["train_epochs"] = settings.epochs
    state["train_seed"], state["train_evals"] = settings.seed, settings.evals_per_epoch
    state["train_decay"], state["train_permute"] = settings.lr_decay, settings.permute_pixels
    state["train_shift"] = settings.shift_pixels
    state[START_KEY] = True


def _ask_start() -> None:
    st.session_state[START_KEY] = True


def start_if_asked(registry: RunRegistry, settings: TrainSettings, models: list[ModelConfig] | None,
                   problem: str | None) -> None:
    """Start the run that Train or Quick demo asked for, before anything is drawn below the form: this same
    script run then shows the live view (no second run of the page per click)."""
    if st.session_state.pop(START_KEY, False) and models is not None and problem is None:
        start_run(registry, settings, models)


def start_buttons(registry: RunRegistry, models: list[ModelConfig] | None, problem: str | None,
                  train_size: int) -> None:
    """Train, and Quick demo (fills the form with the classroom preset and trains it), in the caller's row."""
    demo_settings, demo_models = quick_demo()
    # Its estimate timed now, in the background, once per process: a class pressing it together never waits for it.
    prime(demo_models, demo_settings.batch_size, scheduler().threads_per_run)
    busy = registry.active() is not None
    st.button("Train", type="primary", icon=":material/play_arrow:", key="train_start", on_click=_ask_start,
              disabled=busy or models is None or problem is not None,
              help=("One run per session trains at a time: stop it to start another." if busy
                    else problem or "Train these models side by side on the same batches."))
    st.button("Quick demo", icon=":material/bolt:", disabled=busy, key="train_quick_demo",
              on_click=_fill_quick_demo, args=(train_size,),
              help=f"Fills the form and trains: {' vs '.join(m.label for m in demo_models)}, "
                   f"{demo_settings.train_subset:,} training images, {demo_settings.epochs} epochs, batch "
                   f"{demo_settings.batch_size}, cosine decay. "
                   f"On MNIST the CNN passes 98.5% test accuracy in under 10 seconds on two CPU cores.")


def quick_demo_time() -> str:
    """The Quick demo's estimated time on this server and its data ("about 9 s"), as the Training page estimates it."""
    dataset = selected_dataset()
    return estimated_time(*quick_demo(dataset.name if dataset is not None else "MNIST"))


def estimated_time(settings: TrainSettings, models: tuple[ModelConfig, ...]) -> str:
    """A run's estimated time on this server and the sidebar's data ("about 9 s"), as the Training page estimates it."""
    dataset = selected_dataset()
    train_size, test_size = (len(dataset.train_labels), len(dataset.test_labels)) if dataset else (60_000, 10_000)
    threads = scheduler().threads_per_run
    timing = nullcontext() if is_measured(settings, models, threads) else st.spinner("Timing a few training steps…")
    with timing:
        seconds = estimate_run(settings, models, train_size, test_size, threads=threads).seconds
    return describe_seconds(seconds)


def blocked_note(problem: str) -> None:
    """Why Train is disabled, drawn right under the buttons (the form, where the value was typed, is further down)."""
    st.warning(f"**Train is off:** {problem}", icon=":material/block:")

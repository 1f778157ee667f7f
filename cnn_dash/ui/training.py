"""Training page widgets: the run form, the live view of a run, and the session's list of runs.

Runs live in a per-session `RunRegistry` under a key no widget uses; the scheduler trains them in its own
threads, so a rerun, a page switch or a Stop click never blocks on training.
"""
from __future__ import annotations

import math
import time
from typing import Callable

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from cnn_dash.data import TITLES
from cnn_dash.limits import LIMITS, check_run, describe, estimate_macs
from cnn_dash.plots.curves import curves_figure, curves_frame
from cnn_dash.records import Status
from cnn_dash.runs import Run
from cnn_dash.scheduler import RunRegistry
from cnn_dash.specs import ModelConfig, OptimizerSpec, TrainSettings
from cnn_dash.train import quick_demo
from cnn_dash.ui.model_picker import model_picker

REGISTRY_KEY = "_training_runs"  # the session's RunRegistry; no widget uses this key
LETTERS = "ABCD"
DEFAULT_NETS = ("ConvNet + ReLU (CNN notebook)", "FCNet (CNN notebook)", "LeNet-5", "MLP 784-128-10")
BATCH_SIZES = (16, 32, 64, 128, 256, 512, 1024)
RESULT_FORMATS = {"epoch": "{:.2f}", "train loss": "{:.4f}", "train acc": "{:.2%}", "test loss": "{:.4f}",
                  "test acc": "{:.2%}", "samples/s": "{:,.0f}", "elapsed (s)": "{:.1f}"}
CURVES_KEY = "_training_curves"  # run id -> (records drawn, when, figure): the figure cache of `curves`
CURVES_EVERY_S = 4.5  # a training run's curves are redrawn every third refresh; its numbers at every one
OVERLAY_SEEN_KEY = "_training_overlay_seen"  # run names the overlay has already offered
POLL_S = 1.5  # how often the live view reads a training run (each read is a fragment rerun on the server)
QUEUED_POLL_S = 5.0  # while a run waits only its queue position changes: a third of the reruns for every browser


def _session_alive() -> Callable[[], bool]:
    """A callback telling whether this browser session is still connected (always True outside a server)."""
    from streamlit.runtime import Runtime
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    if ctx is None or not Runtime.exists():
        return lambda: True
    runtime, session_id = Runtime.instance(), ctx.session_id
    return lambda: runtime.is_active_session(session_id)


def session_registry() -> RunRegistry:
    """This browser session's runs (created on first use)."""
    if REGISTRY_KEY not in st.session_state:
        st.session_state[REGISTRY_KEY] = RunRegistry(alive=_session_alive())
    return st.session_state[REGISTRY_KEY]


def optimizer_input(key: str) -> OptimizerSpec:
    """SGD (learning rate, momentum) or Adam (learning rate)."""
    name = st.radio("Optimizer", ("SGD", "Adam"), horizontal=True, key=f"{key}_name")
    lr = st.number_input("Learning rate", min_value=1e-5, max_value=LIMITS.max_lr,
                         value=0.01 if name == "SGD" else 0.001, step=0.001, format="%.5f", key=f"{key}_lr_{name}")
    if name == "Adam":
        return OptimizerSpec("adam", lr)
    momentum = st.number_input("Momentum", min_value=0.0, max_value=0.99, value=0.9, step=0.05, key=f"{key}_mom")
    return OptimizerSpec("sgd", lr, momentum)


def model_inputs() -> list[ModelConfig] | None:
    """2-4 models side by side, each a preset or custom stack with its optimizer; None if a stack is invalid."""
    count = st.radio("Models side by side", (2, 3, 4), horizontal=True, key="train_count")
    configs: list[ModelConfig | None] = []
    for i, column in enumerate(st.columns(count)):
        with column, st.container(border=True):
            net = model_picker(f"train_model_{i}", kind="cnn" if i % 2 == 0 else "fc", default=DEFAULT_NETS[i],
                               label=f"Model {LETTERS[i]}")
            optimizer = optimizer_input(f"train_opt_{i}")
            kind = "Adam" if optimizer.name == "adam" else "SGD"
            configs.append(None if net is None else ModelConfig(f"{LETTERS[i]} · {net.name} ({kind})", net, optimizer))
    return None if any(c is None for c in configs) else configs  # type: ignore[return-value]


def settings_inputs(dataset: str, train_size: int) -> TrainSettings:
    """Subset, batch size, epochs, seed, test evaluations and the pixel-shuffle option, within the limits."""
    top = st.columns(4)
    most = min(train_size, LIMITS.max_train_subset)
    subset = top[0].number_input("Training images", min_value=min(LIMITS.min_train_subset, most), max_value=most,
                                 value=min(most, 10_000), step=1_000, key="train_subset",
                                 help="A subset drawn by the seed; the whole test set is always used.")
    batch = top[1].selectbox("Batch size", BATCH_SIZES, index=BATCH_SIZES.index(64), key="train_batch")
    epochs = top[2].number_input("Epochs", min_value=1, max_value=LIMITS.max_epochs, value=2, key="train_epochs")
    seed = top[3].number_input("Seed", min_value=0, max_value=LIMITS.max_seed, value=0, key="train_seed",
                               help="One seed sets the subset, the initial weights and the batch order of "
                                    "every model: the same seed gives the same curves.")
    left, middle, right = st.columns(3)
    evals = left.number_input("Test evaluations per epoch", min_value=1, max_value=LIMITS.max_evals_per_epoch,
                              value=2, key="train_evals")
    permute = right.checkbox("Shuffle the pixels (one fixed permutation, the same for train and test)",
                             key="train_permute",
                             help="The inductive-bias experiment: an FC net does not care where a pixel is, "
                                  "a CNN does.")
    decay = middle.checkbox("Decay the learning rates to 0 (cosine)", key="train_decay",
                            help="Every model's learning rate follows half a cosine from its value to 0 over the "
                                 "run: steadier final accuracy in few epochs.")
    return TrainSettings(dataset, None if subset >= train_size else int(subset), int(batch), int(epochs),
                         int(seed), bool(permute), int(evals), bool(decay))


def limits_note(settings: TrainSettings, models: list[ModelConfig] | None) -> str | None:
    """Explain the limits and the run's cost; returns why the run is over a limit (shown), or None."""
    problem = None
    if models:
        try:
            check_run(settings, tuple(models))
        except ValueError as exc:  # LimitError or ShapeError, both written for the visitor
            problem = str(exc)
            st.warning(problem, icon=":material/block:")
    with st.expander("Limits of this shared server"):
        st.markdown("\n".join(f"- {line}" for line in describe()))
        if models and problem is None:
            st.caption(f"This run: about {estimate_macs(tuple(models), settings) / 1e9:,.1f} billion "
                       f"multiply-adds forward (training costs about three times that).")
    return problem


def start_run(registry: RunRegistry, settings: TrainSettings, models: list[ModelConfig] | tuple) -> Run | None:
    """Queue a run, or say why not (a limit, an invalid network, the data); never a traceback."""
    try:
        return registry.start(settings, tuple(models))
    except (ValueError, RuntimeError, OSError) as exc:  # LimitError, ShapeError, DataSourceError
        st.error(str(exc))
        return None


def start_buttons(registry: RunRegistry, settings: TrainSettings, models: list[ModelConfig] | None,
                  over_limit: str | None) -> None:
    """Train, and Quick demo (the classroom preset: a fast CNN beside an MLP on all of MNIST).

    A click is in session state from the start of the script run it causes, so the run starts here, before
    the buttons are drawn: this same run shows them disabled and the live view, with no second run of the
    page (st.rerun) per click."""
    demo_settings, demo_models = quick_demo()
    if st.session_state.get("train_start") and models is not None and over_limit is None:
        start_run(registry, settings, models)
    elif st.session_state.get("train_quick_demo"):
        start_run(registry, demo_settings, demo_models)
    busy = registry.active() is not None
    with st.container(horizontal=True):
        st.button("Train", type="primary", icon=":material/play_arrow:", key="train_start",
                  disabled=busy or models is None or over_limit is not None)
        st.button("Quick demo", icon=":material/bolt:", disabled=busy, key="train_quick_demo",
                  help=f"{demo_settings.epochs} epochs of all MNIST training images, batch "
                       f"{demo_settings.batch_size}: {' vs '.join(m.label for m in demo_models)}. On two CPU cores "
                       f"the CNN passes 98.5% test accuracy in under 20 seconds.")


def _stop(run_id: str) -> None:
    session_registry().stop(run_id)


def _delete(run_id: str) -> None:
    session_registry().delete(run_id)
    st.session_state.get(CURVES_KEY, {}).pop(run_id, None)


def results_frame(run: Run) -> pd.DataFrame:
    """One row per model (its label as the index): status, progress, latest losses and accuracies, speed."""
    rows = []
    last = {p.label: p for p in list(run.history)}
    results = run.results
    for m in run.models:
        p, r = last.get(m.label), results.get(m.label)
        status = r.status if r else "waiting"
        if r and r.diverged_at:
            status = f"diverged at step {r.diverged_at}"
        rows.append({
            "model": m.label, "optimizer": str(m.optimizer), "status": status,
            "step": f"{p.step:,} / {p.total_steps:,}" if p else "0", "epoch": round(p.epoch, 2) if p else 0.0,
            "train loss": r.train_loss if r else None, "train acc": r.train_acc if r else None,
            "test loss": r.test_loss if r else None, "test acc": r.test_acc if r else None,
            "samples/s": round(p.samples_per_s) if p else None, "elapsed (s)": round(p.elapsed_s, 1) if p else None,
        })
    return pd.DataFrame(rows).set_index("model")


def results_table(run: Run) -> None:
    """The per-model numbers as a plain HTML table of formatted text. An interactive st.dataframe above the
    live curves made the browser redraw both on every refresh (3.4 times the CPU of a plain table, measured in
    headless Chromium), and a pandas Styler took a quarter of the live view's server time."""
    frame = results_frame(run)
    shown = frame.astype(object)
    for column, template in RESULT_FORMATS.items():
        shown[column] = ["–" if pd.isna(value) else template.format(value) for value in frame[column]]
    st.table(shown)


def curves(run: Run) -> go.Figure:
    """The run's curves. Built again only when it has new records and, while it trains, at most every
    CURVES_EVERY_S: building one costs tens of ms on the server, and drawing a changed one costs the browser
    about 0.2 s of CPU, where an unchanged one costs nothing (measured in headless Chromium)."""
    history = list(run.history)
    cached = st.session_state.setdefault(CURVES_KEY, {})
    count, built_at, figure = cached.get(run.id, (None, -math.inf, None))
    if count != len(history) and (not run.active or time.monotonic() - built_at >= CURVES_EVERY_S):
        figure = curves_figure(curves_frame({run.name: history}))
        cached[run.id] = len(history), time.monotonic(), figure
    return figure


def run_summary(run: Run) -> str:
    """One line: dataset, images, batch, epochs, seed, pixel shuffle, lr decay."""
    s = run.settings
    images = f"{s.train_subset:,} images" if s.train_subset else "all images"
    epochs = f"{s.epochs} epoch" + ("s" if s.epochs != 1 else "")
    extras = (" · shuffled pixels" if s.permute_pixels else "") + (" · cosine lr decay" if s.lr_decay else "")
    name = TITLES.get(s.dataset, s.dataset)
    return f"{name} · {images} · batch {s.batch_size} · {epochs} · seed {s.seed}{extras}"


def run_card(run: Run, registry: RunRegistry) -> None:
    """A run's state: queue position or progress and ETA, per-model numbers, and its curves."""
    st.markdown(f"**{run.name}** — {run.status} · {run_summary(run)}")
    if run.status == "queued":
        position = registry.position(run.id)
        training, waiting = registry.scheduler.counts()
        st.info(f"Waiting for a free training slot: number {position or 1} in the queue "
                f"({training} run(s) training on this server, {waiting} waiting).", icon=":material/hourglass:")
    elif run.status == "running":
        fraction, eta = run.progress()
        eta_text = f" · about {eta:.0f} s left" if eta is not None and fraction > 0 else ""
        st.progress(min(max(fraction, 0.0), 1.0), text=f"{fraction:.0%}{eta_text}")
        started = {p.label for p in list(run.history)}
        if started and len(started) < len(run.models):
            st.caption("The cheaper models train first; the others then get all of this run's cores, which is "
                       "faster than side by side when one model costs far more than the rest.")
    if run.active:
        st.button("Stop" if run.status == "running" else "Cancel", icon=":material/stop_circle:",
                  key=f"train_stop_{run.id}", on_click=_stop, args=(run.id,),
                  help="Stops within about a second and keeps everything trained so far.")
    if run.status == "failed":
        st.error(f"The run failed: {run.error}")
    elif run.error:
        st.warning(run.error)
    for label, step in run.diverged.items():
        st.warning(f"{label} diverged at step {step}: its loss became NaN or infinite, so it stopped there "
                   f"(its last finite weights are kept). Try a smaller learning rate.", icon=":material/warning:")
    if run.history:
        results_table(run)
        st.plotly_chart(curves(run), width="stretch", key=f"train_curves_{run.id}")
    if run.source:
        st.caption(f"Images from the {run.source}.")


def live_run(run_id: str) -> None:
    """The active run, redrawn every POLL_S seconds (QUEUED_POLL_S while it waits) without rerunning the page."""
    queued = session_registry().get(run_id).status == "queued"
    st.fragment(_live_card, run_every=QUEUED_POLL_S if queued else POLL_S)(run_id, queued)


def _live_card(run_id: str, queued: bool) -> None:
    registry = session_registry()
    try:
        run = registry.get(run_id)
    except KeyError:  # deleted meanwhile
        st.rerun()
        return
    run_card(run, registry)
    if not run.active or queued != (run.status == "queued"):  # ended, or started: a full rerun
        st.rerun()


def runs_list(registry: RunRegistry) -> None:
    """Every run of the session: overlay curves, download CSV and weights, delete."""
    runs = [r for r in registry.runs() if r.history]
    if not runs:
        return
    st.subheader("Runs of this session")
    names = {r.name: r for r in runs}
    # New runs join the overlay, deleted ones leave it; the visitor's other choices stay.
    known = st.session_state.get(OVERLAY_SEEN_KEY, set())
    current = [n for n in st.session_state.get("train_overlay", []) if n in names]
    st.session_state["train_overlay"] = current + [n for n in names if n not in known and n not in current]
    st.session_state[OVERLAY_SEEN_KEY] = set(names)
    chosen = st.multiselect("Overlay the curves of", list(names), key="train_overlay") if len(names) > 1 else []
    if chosen:
        frame = curves_frame({name: list(names[name].history) for name in chosen})
        st.plotly_chart(curves_figure(frame), width="stretch", key="train_overlay_chart")
    for run in reversed(registry.runs()):
        with st.expander(f"{run.name} · {run.status} · {run_summary(run)}"):
            if run.history:
                results_table(run)
            cols = st.columns(2 + len(run.models))
            cols[0].download_button("Curves (CSV)", run.curves_csv, f"{run.name.replace(' ', '_')}_curves.csv",
                                    "text/csv", key=f"train_csv_{run.id}", on_click="ignore",
                                    disabled=not run.history)
            for i, (col, m) in enumerate(zip(cols[1:], run.models)):
                col.download_button(f"Weights {LETTERS[i]}", _weights(run, m.label),
                                    f"{run.name.replace(' ', '_')}_{LETTERS[i]}.pt", "application/octet-stream",
                                    key=f"train_w_{run.id}_{i}", on_click="ignore", disabled=not run.has_weights,
                                    help=f"state_dict of {m.label}: torch.load(file, weights_only=True)")
            cols[-1].button("Delete", icon=":material/delete:", key=f"train_del_{run.id}", on_click=_delete,
                            args=(run.id,))


def _weights(run: Run, label: str) -> Callable[[], bytes]:
    return lambda: run.weights_file(label)


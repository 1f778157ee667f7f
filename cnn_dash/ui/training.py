"""Training page widgets: the run form, the live view of a run, and the session's list of runs.

Runs live in a per-session `RunRegistry` under a key no widget uses; the scheduler trains them in its own
threads, so a rerun, a page switch or a Stop click never blocks on training.
"""
from __future__ import annotations

from contextlib import nullcontext
from dataclasses import replace
from typing import Callable

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from cnn_dash import hints
from cnn_dash.data import TITLES
from cnn_dash.estimate import describe_seconds, estimate_run, is_measured
from cnn_dash.library import library, owner_key
from cnn_dash.limits import check_run, default_limits, describe, estimate_macs
from cnn_dash.plots.curves import curves_figure, curves_frame, run_figure
from cnn_dash.presets import quick_demo
from cnn_dash.records import Status
from cnn_dash.runs import Run
from cnn_dash.scheduler import RunRegistry, scheduler
from cnn_dash.specs import ModelConfig, OptimizerSpec, TrainSettings
from cnn_dash.tutorials import find_tutorial
from cnn_dash.ui import owner, tutorials
from cnn_dash.ui.dataset import selected_dataset
from cnn_dash.ui.links import PageLink
from cnn_dash.ui.model_picker import model_picker

REGISTRY_KEY = "_training_runs"  # the session's RunRegistry (its owner's); no widget uses this key
NOTICES_KEY = "_store_notices_shown"  # the store's start-up notices were shown to this session
LETTERS = "ABCD"
# The defaults teach: each CNN (A, C) beats the FC net beside it (B, D) on both datasets from 1,000 images and
# one epoch up, with either optimizer's default learning rate (tests/test_defaults.py, over seeds).
DEFAULT_NETS = ("Small CNN (batch norm)", "FCNet (CNN notebook)", "Small CNN ×2 (batch norm)", "MLP 784-37-10")
DEFAULT_LR = {"SGD": 0.01, "Adam": 0.001}
DEFAULT_SUBSET = 10_000
START_KEY = "_train_start_requested"  # set by Train or Quick demo, read once by start_if_asked
BATCH_SIZES = (16, 32, 64, 128, 256, 512, 1024)
# 4 significant digits for losses: a blown-up loss reads 3.2e+15, not eighteen digits.
TRAIN_LOSS, TRAIN_ACC = "train loss (epoch so far)", "train acc (epoch so far)"  # over this epoch's images so far
RESULT_FORMATS = {"epoch": "{:.2f}", TRAIN_LOSS: "{:.4g}", TRAIN_ACC: "{:.2%}", "test loss": "{:.4g}",
                  "test acc": "{:.2%}", "samples/s": "{:,.0f}"}
CURVES_KEY = "_training_curves"  # run id -> (records drawn, figure): the figure cache of `curves`
CURVES_HEIGHT = 260  # px: with the status, progress and accuracies above it, inside a 720 px projector screen
POLL_S = 0.5  # how often the live view reads a training run and redraws its curves (a fragment rerun: a few ms)
QUEUED_POLL_S = 5.0  # while a run waits behind others only its queue position changes: a tenth of the reruns


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


def optimizer_input(link: PageLink, key: str) -> OptimizerSpec:
    """SGD (learning rate, momentum) or Adam (learning rate), kept in the page's link. No bounds on the boxes: a
    value out of range reaches the page and is explained (a bounded box would keep its old value and train on
    it silently); a link's value must be in range."""
    name = link.radio("Optimizer", ("SGD", "Adam"), horizontal=True, key=f"{key}_name")
    lr = link.float_input("Learning rate", 0.0, default_limits().max_lr, DEFAULT_LR[name], key=f"{key}_lr_{name}",
                          lo_open=True, step=0.001, format="%.5f")
    if name == "Adam":
        return OptimizerSpec("adam", lr)
    momentum = link.float_input("Momentum", 0.0, 1.0, 0.9, key=f"{key}_mom", hi_open=True, step=0.05)
    return OptimizerSpec("sgd", lr, momentum)


def model_inputs(link: PageLink) -> list[ModelConfig] | None:
    """2-4 models side by side, each a preset or custom stack with its optimizer; None if a stack is invalid."""
    count = link.radio("Models side by side", (2, 3, 4), horizontal=True, key="train_count")
    configs: list[ModelConfig | None] = []
    for i, column in enumerate(st.columns(count)):
        with column, st.container(border=True):
            net = model_picker(f"train_model_{i}", kind="cnn" if i % 2 == 0 else "fc", default=DEFAULT_NETS[i],
                               label=f"Model {LETTERS[i]}", link=link)
            optimizer = optimizer_input(link, f"train_opt_{i}")
            configs.append(None if net is None else ModelConfig.lettered(LETTERS[i], net, optimizer))
    return None if any(c is None for c in configs) else configs  # type: ignore[return-value]


def settings_inputs(link: PageLink, dataset: str, train_size: int) -> TrainSettings:
    """Subset, batch size, epochs, seed, test evaluations and the pixel-shuffle option, kept in the page's link.
    The boxes are unbounded (the core checks the values and the page explains them); a link's value must be
    within the limits."""
    lim = default_limits()
    top = st.columns(4)
    subset = link.number_input("Training images", lim.min_train_subset, min(train_size, lim.max_train_subset),
                               min(train_size, DEFAULT_SUBSET), key="train_subset", where=top[0], bounded=False,
                               step=1_000, help=f"A subset drawn by the seed, {lim.min_train_subset:,} to "
                                                f"{train_size:,}; the whole test set is always used.")
    batch = link.selectbox("Batch size", BATCH_SIZES, key="train_batch", index=BATCH_SIZES.index(64), where=top[1])
    epochs = link.number_input("Epochs", 1, lim.max_epochs, 2, key="train_epochs", where=top[2], bounded=False)
    seed = link.number_input("Seed", 0, lim.max_seed, 0, key="train_seed", where=top[3], bounded=False,
                             help="One seed sets the subset, the initial weights and the batch order of every "
                                  "model: the same seed gives the same curves.")
    left, middle, right = st.columns(3)
    evals = link.number_input("Test evaluations per epoch", 1, lim.max_evals_per_epoch, 2, key="train_evals",
                              where=left, bounded=False)
    permute = link.checkbox("Shuffle the pixels (one fixed permutation, the same for train and test)",
                            key="train_permute", where=right,
                            help="The inductive-bias experiment: an FC net does not care where a pixel is, "
                                 "a CNN does. Use the 'Small CNN (batch norm)', which still learns shuffled "
                                 "pixels: it ends level with the FC net instead of ahead.")
    decay = link.checkbox("Decay the learning rates to 0 (cosine)", key="train_decay", where=middle,
                          help="Every model's learning rate follows half a cosine from its value to 0 over the "
                               "run: steadier final accuracy in few epochs.")
    subset = int(subset)
    return TrainSettings(dataset, None if subset == train_size else subset, int(batch), int(epochs), int(seed),
                         bool(permute), int(evals), bool(decay))


def check_form(settings: TrainSettings, models: list[ModelConfig] | None, train_size: int) -> str | None:
    """Why this form cannot train (shown), or None: the core's limits, an invalid network, a subset larger than
    the dataset. Then the lesson's warnings (a batch larger than the subset, a CNN without activation)."""
    problem = None
    if settings.train_subset is not None and settings.train_subset > train_size:
        problem = f"This dataset has {train_size:,} training images: ask for at most that many."
    elif models:
        try:
            check_run(settings, tuple(models))
        except ValueError as exc:  # LimitError or ShapeError, both written for the visitor
            problem = str(exc)
    if problem:
        st.warning(problem, icon=":material/block:")
    for warning in hints.before_run(settings, models or [], train_size):
        st.warning(warning, icon=":material/lightbulb:")
    return problem


def limits_note(settings: TrainSettings, models: list[ModelConfig] | None, problem: str | None) -> None:
    """The limits profile in force, its caps, and the run's cost."""
    with st.expander(f"Limits of this server ({tutorials.active_profile().name} profile)"):
        tutorials.profile_note()
        st.markdown("\n".join(f"- {line}" for line in describe()))
        if models and problem is None:
            st.caption(f"This run: about {estimate_macs(tuple(models), settings) / 1e9:,.1f} billion "
                       f"multiply-adds forward (training costs about three times that).")


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
        rows.append({  # the accuracies first: on a phone the table scrolls sideways and they are in view
            "model": m.label, "status": str(status),
            "test acc": r.test_acc if r else None, TRAIN_ACC: r.train_acc if r else None,
            "test loss": r.test_loss if r else None, TRAIN_LOSS: r.train_loss if r else None,
            "step": f"{p.step:,} / {p.total_steps:,}" if p else "0", "epoch": round(p.epoch, 2) if p else 0.0,
            "samples/s": round(p.samples_per_s) if p else None,
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
    """The run's curves on axes that stay put from the first record to the last (run_figure), so the finished
    chart is the last live frame. Built again only when the run has new records: an unchanged figure costs the
    browser nothing; building and sending one costs a few ms (bench/bench_redraw.py)."""
    history = list(run.history)
    cached = st.session_state.setdefault(CURVES_KEY, {})
    count, figure = cached.get(run.id, (None, None))
    if count != len(history) or figure is None:
        figure = run_figure(curves_frame({run.name: history}), run.settings.epochs, height=CURVES_HEIGHT)
        cached[run.id] = len(history), figure
    return figure


def run_title(run: Run) -> str:
    """'Run 2 (A 97.1%, B 93.4%)': a run's name with every model's final test accuracy, for the overlay."""
    if run.active:
        return run.name  # a title that stays put while it trains: the overlay's choice keeps it
    results = run.results
    accs = [f"{m.short} {results[m.label].test_acc:.1%}" for m in run.models
            if m.label in results and results[m.label].test_acc is not None]
    return f"{run.name} ({', '.join(accs)})" if accs else run.name


def run_summary(run: Run) -> str:
    """One line: dataset, images, batch, epochs, seed, pixel shuffle, lr decay."""
    s = run.settings
    images = f"{s.train_subset:,} images" if s.train_subset else "all images"
    epochs = f"{s.epochs} epoch" + ("s" if s.epochs != 1 else "")
    extras = (" · shuffled pixels" if s.permute_pixels else "") + (" · cosine lr decay" if s.lr_decay else "")
    if s.shift_pixels:
        who = "" if s.shifted_models is None else f" for {', '.join(LETTERS[i] for i in s.shifted_models)}"
        extras += f" · random shifts ≤ {s.shift_pixels} px{who}"
    name = TITLES.get(s.dataset, s.dataset)
    return f"{name} · {images} · batch {s.batch_size} · {epochs} · seed {s.seed}{extras}"


def race_line(run: Run) -> str | None:
    """'Test accuracy after 12,800 training images: A · … 91.2% · B · … 88.0%': every model at the same point;
    before the first test, the accuracy on the training images so far, each counted as it was trained on."""
    history = list(run.history)
    named = {m.label: m.named for m in run.models}
    tested = {p.label: p for p in history if p.test_acc is not None}
    if tested:
        images = run.settings.train_subset or len(run.dataset.train_labels)
        seen = round(max(p.epoch for p in tested.values()) * images)
        parts = [f"{named.get(label, label)} **{p.test_acc:.1%}**" for label, p in tested.items()]
        return f"Test accuracy after {seen:,} training images: " + " · ".join(parts)
    trained = {p.label: p for p in history if p.train_acc is not None}
    if not trained:
        return None
    parts = [f"{named.get(label, label)} **{p.train_acc:.1%}**" for label, p in trained.items()]
    count = min(p.train_images for p in trained.values())
    return (f"Accuracy while training, each image counted as it was trained on, over the first {count:,} training "
            f"images: " + " · ".join(parts))


def _scores(run: Run) -> str:
    results = run.results
    return ", ".join(f"{m.short} {results[m.label].test_acc:.1%}" for m in run.models
                     if m.label in results and results[m.label].test_acc is not None)


def shuffle_comparison(run: Run, registry: RunRegistry) -> None:
    """The pixel-shuffle experiment's point, side by side: this run and the latest run of the same models and
    settings with the shuffle the other way (or how to get one)."""
    if not run.settings.permute_pixels:
        return
    twin = next((r for r in reversed(registry.trained()) if r.models == run.models
                 and r.settings == replace(run.settings, permute_pixels=False)), None)
    if twin is None:
        st.caption("Shuffled pixels: a convolution's windows no longer see neighbouring pixels. Train the same "
                   "models with the shuffle off to see how the CNN's lead changes.")
        return
    real, shuffled = (hints.cnn_lead(r.models, {label: res.test_acc for label, res in r.results.items()})
                      for r in (twin, run))
    line = f"**Real images** ({twin.name}): {_scores(twin)} — **shuffled pixels** ({run.name}): {_scores(run)}."
    if real is not None and shuffled is not None:
        line += f" Once the pixels are shuffled, {hints.shuffle_verdict(real, shuffled)}"
    st.markdown(line)


def run_card(run: Run, registry: RunRegistry) -> None:
    """A run's state: queue position or progress and ETA, every model's numbers, its curves, and a hint
    when the result contradicts the lesson."""
    st.markdown(f"**{run.name}** — {run.status} · {run_summary(run)}")
    if run.identical_note:
        st.caption(run.identical_note)
    if run.status == Status.QUEUED:
        position, eta = registry.position(run.id), registry.start_eta(run.id)
        training, waiting = registry.scheduler.counts()
        starts = f"; it starts in {describe_seconds(eta)}" if eta is not None else ""
        st.info(f"Waiting for a free training slot: number {position or 1} in the queue "
                f"({training} run(s) training on this server, {waiting} waiting){starts}.", icon=":material/hourglass:")
    if run.active:
        with st.container(horizontal=True, vertical_alignment="center"):
            if run.status == Status.RUNNING:
                fraction, eta = run.progress()
                eta_text = f" · about {eta:.0f} s left" if eta is not None and fraction > 0 else ""
                st.progress(min(max(fraction, 0.0), 1.0), text=f"{fraction:.0%} trained{eta_text}")
            st.button("Stop" if run.status == Status.RUNNING else "Cancel", icon=":material/stop_circle:",
                      key=f"train_stop_{run.id}", on_click=_stop, args=(run.id,),
                      help="Stops within about a second and keeps everything trained so far.")
    line = race_line(run)
    if line:
        st.markdown(line)
    if run.status == Status.INTERRUPTED:
        interrupted(run, registry)
    if run.status == Status.FAILED:
        st.error(f"The run failed: {run.error}")
    elif run.error:
        st.warning(run.error)
    for label, result in run.results.items():
        if result.status == Status.DIVERGED:
            st.warning(f"{label} diverged at step {result.diverged_at}: {result.note}, so it stopped there. "
                       f"Try a learning rate ten times smaller.", icon=":material/warning:")
        elif result.note:
            st.warning(f"{label}: {result.note}.", icon=":material/warning:")
    if not run.active and run.history:
        shuffle_comparison(run, registry)
        hint = hints.why_cnn_lost(run.settings, run.models, run.results, len(run.dataset.train_labels))
        if hint:
            st.info(f"**Why the FC net won this run.** {hint}", icon=":material/lightbulb:")
    # The curves before the table: on a 1280×720 projector both numbers and curves are in view. Drawn from the
    # moment the run starts, on its final axes, so the first records appear on the chart the run keeps.
    if run.history or run.status == Status.RUNNING:
        st.plotly_chart(curves(run), width="stretch", key=f"train_curves_{run.id}")
    if run.history:
        results_table(run)
    if not run.active and run.history:
        tutorial = find_tutorial(run.settings, run.models)
        if tutorial is not None:
            tutorials.tutorial_comparison(tutorial, run)
        if run.settings.epochs > 1:
            tutorials.epoch_table(run)
    if run.source:
        st.caption(f"Images from the {run.source}.")


def waiting(registry: RunRegistry, run: Run) -> bool:
    """True while the run waits in the queue behind others (a run given a free slot starts within ms)."""
    return run.status == Status.QUEUED and registry.position(run.id) is not None


def interrupted(run: Run, registry: RunRegistry, key: str = "train_again") -> None:
    """'Interrupted at step N' (the server stopped while it trained), with a button that trains it again."""
    with st.container(horizontal=True, vertical_alignment="center"):
        st.warning(f"Interrupted at step {run.interrupted_at:,}: the server stopped while this run trained. Its "
                   f"curves up to there are kept; train it again with the same settings and seed to finish it.",
                   icon=":material/restart_alt:")
        st.button("Train it again", icon=":material/replay:", key=f"{key}_{run.id}", on_click=_again,
                  args=(run.id,), disabled=registry.active() is not None,
                  help="Queues a new run with this run's models and settings (the same seed gives the same curves).")


def _again(run_id: str) -> None:
    registry = session_registry()
    run = registry.get(run_id)
    start_run(registry, run.settings, run.models)


def queued_poll_s(eta: float | None) -> float:
    """How often a waiting run's page checks its place: every QUEUED_POLL_S, more often as its start nears (a tenth
    of the time left, at least every second), so the start is seen within a tenth of the wait announced."""
    return QUEUED_POLL_S if eta is None else min(QUEUED_POLL_S, max(1.0, eta / 10))


def live_run(run_id: str) -> None:
    """The active run, redrawn every POLL_S seconds (queued_poll_s while it waits behind other runs) without
    rerunning the page."""
    registry = session_registry()
    queued = waiting(registry, registry.get(run_id))
    every = queued_poll_s(registry.start_eta(run_id)) if queued else POLL_S
    st.fragment(_live_card, run_every=every)(run_id, every if queued else None)


def _live_card(run_id: str, queued_every: float | None) -> None:
    registry = session_registry()
    try:
        run = registry.get(run_id)
    except KeyError:  # deleted meanwhile
        st.rerun()
        return
    run_card(run, registry)
    queued = waiting(registry, run)
    if not run.active or (queued_every is not None) != queued:  # ended, or its turn came: a full rerun
        st.rerun()
    if queued and queued_poll_s(registry.start_eta(run_id)) < queued_every / 1.5:  # its start nears: poll faster
        st.rerun()


def runs_list(registry: RunRegistry) -> None:
    """Every run of the session: overlay curves, download CSV and weights, delete."""
    runs = [r for r in registry.runs() if r.history]
    if not runs:
        return
    st.subheader("Your runs")
    names = {run_title(r): r for r in runs}
    chosen = st.multiselect("Overlay the curves of", list(names), key="train_overlay",
                            placeholder="Pick runs to compare their curves") if len(names) > 1 else []
    chosen = [name for name in chosen if name in names]
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
            if run.status == Status.INTERRUPTED:
                interrupted(run, registry, key="list_again")


def _weights(run: Run, label: str) -> Callable[[], bytes]:
    return lambda: run.weights_file(label)


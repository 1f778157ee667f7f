"""Training page: a run's card (its state, race line, curves, numbers and notes), live while it trains."""
from __future__ import annotations

import threading
import weakref
from dataclasses import replace

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from cnn_dash import hints
from cnn_dash.data import TITLES
from cnn_dash.estimate import describe_seconds
from cnn_dash.plots.curves import curves_frame, run_figure
from cnn_dash.records import Status
from cnn_dash.registry import RunRegistry
from cnn_dash.runs import Run
from cnn_dash.tutorials import find_tutorial
from cnn_dash.ui import compute, tutorials
from cnn_dash.ui.training import LETTERS, session_registry, start_run

# 4 significant digits for losses: a blown-up loss reads 3.2e+15, not eighteen digits.
TRAIN_LOSS, TRAIN_ACC = "train loss (epoch so far)", "train acc (epoch so far)"  # over this epoch's images so far
RESULT_FORMATS = {"epoch": "{:.2f}", TRAIN_LOSS: "{:.4g}", TRAIN_ACC: "{:.2%}", "test loss": "{:.4g}",
                  "test acc": "{:.2%}", "samples/s": "{:,.0f}"}
# Training -> {(run name, x axis): (records drawn, figure)}: one figure for all the viewers of a training (a class
# watching one race builds it once per new record, not 30 times), gone with the training.
_FIGURES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_FIGURES_LOCK = threading.Lock()
CURVES_HEIGHT = 240  # px: with the status, progress, accuracies and axis switch above it and the table below,
# inside a 720 px projector screen (tests/test_browser_layout.py)
POLL_S = 0.5  # how often the live view reads a training run and redraws its curves (a fragment rerun: a few ms)
LIVE_REDRAWS_PER_S = 15.0  # all the live views of one training together: a class of 30 on one race redraws every 2 s
QUEUED_POLL_S = 5.0  # while a run waits behind others only its queue position changes: a tenth of the reruns


def _stop(run_id: str) -> None:
    session_registry().stop(run_id)


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


def curves(run: Run, x: str = "epoch") -> go.Figure:
    """The run's curves against `x` (cnn_dash.compute.X_AXES) on axes that stay put from the first record to the
    last (run_figure), so the finished chart is the last live frame. Built again only when the run has new records
    or another axis, once for every viewer of its training: an unchanged figure costs the browser nothing; building
    and sending one costs a few ms (bench/bench_redraw.py). Shared: read it, never change it."""
    history = list(run.history)
    count = len(history)
    with _FIGURES_LOCK:
        drawn, figure = _FIGURES.setdefault(run.training, {}).get((run.name, x), (None, None))
    if drawn != count or figure is None:
        if x == "epoch":  # the records as they are: no compute columns to add on every redraw
            frame, end = curves_frame({run.name: history}), run.settings.epochs
        else:
            frame = compute.run_frame(run)
            end = compute.x_end(run, x, frame)
        figure = run_figure(frame, end, height=CURVES_HEIGHT, x=x)
        with _FIGURES_LOCK:
            _FIGURES.setdefault(run.training, {})[(run.name, x)] = count, figure
    return figure


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
    line, charted = race_line(run), bool(run.history) or run.status == Status.RUNNING
    x = "epoch"
    if line or charted:  # the axis switch beside the race line: a row of its own would push the table off a 720 px
        left, right = st.columns(2, vertical_alignment="center")  # screen; on a phone the columns stack
        if line:
            left.markdown(line)
        if charted:
            with right:
                x = compute.axis_switch()
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
    if charted:
        st.plotly_chart(curves(run, x), width="stretch", key=f"train_curves_{run.id}")
        if run.history:
            compute.axis_note(run, x)
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


def live_poll_s(viewers: int) -> float:
    """How often one viewer's live view redraws a training run: every POLL_S, less often when many watch the same
    training, so that together they redraw it at most LIVE_REDRAWS_PER_S times a second. Each redraw costs the
    server tens of ms (bench/bench_redraw.py); 30 phones at POLL_S would take the cores from the training itself."""
    return max(POLL_S, viewers / LIVE_REDRAWS_PER_S)


def _poll_s(registry: RunRegistry, run: Run) -> float:
    if waiting(registry, run):
        return queued_poll_s(registry.start_eta(run.id))
    return live_poll_s(len(run.training.watchers))


def live_run(run_id: str) -> None:
    """The active run, redrawn every `live_poll_s` (queued_poll_s while it waits behind other runs) without
    rerunning the page."""
    registry = session_registry()
    every = _poll_s(registry, registry.get(run_id))
    st.fragment(_live_card, run_every=every)(run_id, every)


def _live_card(run_id: str, every: float) -> None:
    registry = session_registry()
    try:
        run = registry.get(run_id)
    except KeyError:  # deleted meanwhile
        st.rerun()
        return
    run_card(run, registry)
    if not run.active:  # ended: a full rerun
        st.rerun()
    wanted = _poll_s(registry, run)
    if wanted < every / 1.5 or wanted > every * 1.5:  # its turn came, its start nears, or viewers came or went
        st.rerun()

"""The switch that puts a run's curves against epochs, training images, optimizer steps, training time or training
multiply-adds (cnn_dash.compute), live and after; the run card draws its chart on the axis chosen."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from cnn_dash.compute import X_AXES, compute_frame, compute_sentence, run_x_end
from cnn_dash.estimate import is_measured, step_time
from cnn_dash.plots.curves import curves_frame
from cnn_dash.runs import Run
from cnn_dash.shapes import net_cost

AXIS_KEY = "train_x"  # one switch for every run card of the session: the axis chosen stays when a run ends
SHORT = {"epoch": "epochs", "training images": "images", "optimizer steps": "steps",
         "training time (s)": "time", "training multiply-adds": "multiply-adds"}  # the switch's labels


def axis_switch() -> str:
    """The run chart's horizontal axis, one of X_AXES (epoch until the visitor picks another)."""
    x = st.segmented_control("Curves against", list(X_AXES), format_func=SHORT.get, default="epoch", required=True,
                             key=AXIS_KEY, label_visibility="collapsed", wrap=True,
                             help="Against what the models spent: a CNN may win per epoch only because it does "
                                  "more work per image. "
                                  + " ".join(f"**{SHORT[a]}**: {what}." for a, what in X_AXES.items()))
    return x or "epoch"  # None only for a moment if a test clears it


def images_per_epoch(run: Run) -> int:
    """The training images of one epoch: the subset, within the dataset."""
    return min(run.settings.train_subset or len(run.dataset.train_labels), len(run.dataset.train_labels))


def run_frame(run: Run) -> pd.DataFrame:
    """The run's records with a column for each axis of X_AXES."""
    return compute_frame(curves_frame({run.name: list(run.history)}), {run.name: images_per_epoch(run)},
                         {(run.name, m.label): net_cost(m.net)[1] for m in run.models})


def estimated_train_s(run: Run) -> float | None:
    """The slowest model's own training seconds as cnn_dash.estimate counts them, where this process has timed its
    steps (the scheduler did, to queue the run); else the run's estimated wall time; None without either."""
    s, threads = run.settings, run.threads
    if is_measured(s, run.models, threads):
        steps = -(-images_per_epoch(run) // s.batch_size) * s.epochs
        return max(steps * t.train_step_s + t.start_s
                   for t in (step_time(m.net, s.batch_size, m.optimizer, threads) for m in run.models))
    return run.training.expected_s or None


def x_end(run: Run, x: str, frame: pd.DataFrame) -> float:
    """Where the run's axis `x` ends (compute.run_x_end): the whole run from its first record."""
    reached = float(frame[x].max()) if x == "training time (s)" and frame[x].notna().any() else 0.0
    s = run.settings
    return run_x_end(x, s.epochs, images_per_epoch(run), s.batch_size, [net_cost(m.net)[1] for m in run.models],
                     estimated_train_s(run) if x == "training time (s)" else None, reached)


def axis_note(run: Run, x: str) -> None:
    """What the axis counts, and once the run has ended, every model's accuracy where all of them got to."""
    if x == "epoch":
        return
    line = f"{x}: {X_AXES[x]}."
    if x == "training time (s)":
        line += " The axis spans the run's estimated training time, and grows only if a model needs longer."
    if not run.active:
        line += " " + compute_sentence(run_frame(run), x, {m.label: m.named for m in run.models})
    st.caption(line)

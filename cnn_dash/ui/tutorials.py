"""Widgets for reproducing the seed tutorials: the tutorial picker, the limits in force, the run-time estimate,
the tutorial's numbers beside a run's, and any model's test accuracy at a chosen epoch.

Each function draws its widgets and returns values; the Training and Evaluation pages call them."""
from __future__ import annotations

import contextlib
from typing import Sequence

import pandas as pd
import streamlit as st

from cnn_dash import limits
from cnn_dash.limits import ActiveLimits, LimitError, check_run
from cnn_dash.records import Progress, evaluated_epochs, metric_at_epoch
from cnn_dash.runs import Run
from cnn_dash.shapes import ShapeError
from cnn_dash.specs import ModelConfig, TrainSettings
from cnn_dash.tutorials import TUTORIALS, Tutorial, largest_fitting, measured
from cnn_dash.ui.links import PageLink

NONE = "—"
METRIC_NAMES = {"test_acc": "test accuracy", "train_acc": "train accuracy over the epoch", "test_loss": "test loss",
                "train_loss": "train loss"}
LOCAL_HINT = ("On your own machine, start the dashboard with `CNN_DASH_LIMITS=local` (or `limits = \"local\"` in "
              "`.streamlit/secrets.toml`) to lift the shared server's caps.")


def active_profile() -> ActiveLimits:
    """The limits in force, with Streamlit secrets handed to the core (which never imports streamlit)."""
    try:
        limits.use_secrets(st.secrets)
    except Exception:  # noqa: BLE001 - no secrets file, or one that does not parse: no secrets
        limits.use_secrets(None)
    return limits.current()


def profile_text(active: ActiveLimits) -> str:
    """One line: the profile in force, what it is for, and the caps set on their own."""
    purpose = {"shared": "many visitors share this server", "local": "one user on their own machine"}
    line = (f"Limits: **{active.name}** profile ({purpose.get(active.name, 'custom')}): up to "
            f"{active.limits.max_epochs} epochs, {active.limits.max_run_macs / 1e9:,.0f} billion multiply-adds "
            f"per run.")
    if active.overrides:
        line += " Set on their own: " + "; ".join(active.overrides) + "."
    return line


def profile_note(active: ActiveLimits | None = None) -> ActiveLimits:
    """Show which limits profile is in force (and any setting that was ignored); returns it."""
    active = active or active_profile()
    st.caption(profile_text(active))
    for note in active.notes:
        st.warning(f"A limits setting was ignored: {note}")
    return active


def tutorial_picker(key: str = "tut_pick", link: PageLink | None = None, dataset_name: str | None = None,
                    train_size: int = 0) -> Tutorial | None:
    """A "Reproduce a tutorial" selectbox (kept in the page's `link`, if given); the chosen tutorial, or None.

    Up front: a change of dataset (when `dataset_name`, the sidebar's, is given), and, where the limits refuse the
    tutorial whole, the largest version they allow, which is what is returned (with the numbers the tutorial
    prints at that length). Then its text, numbers and note."""
    titles = {t.title: t for t in TUTORIALS.values()}
    choice = (link.selectbox if link is not None else st.selectbox)("Reproduce a tutorial", [NONE, *titles], key=key,
                          help="Fills in the exact models, optimizers, learning rates, batch size, epochs, "
                               "dataset and input scaling of one of the tutorials this dashboard grew from.")
    tutorial = titles.get(choice)
    if tutorial is None:
        return None
    if dataset_name is not None:
        data_note(tutorial, dataset_name, train_size)
    refusal = refusal_text(tutorial)
    short = largest_fitting(tutorial) if refusal else None
    if short is not None:
        whole, epochs = tutorial, short.settings.epochs
        st.warning(f"{refusal} This server can train its largest version that fits: **{epochs} epochs** instead "
                   f"of {whole.settings.epochs}, which is what Train runs. {LOCAL_HINT}")
        tutorial = short
    elif refusal:
        st.warning(f"{refusal} {LOCAL_HINT}")
    st.markdown(tutorial.summary)
    if short is not None and short.reported:
        st.caption(f"What to expect after {epochs} epochs, as the tutorial printed it: its mean training loss over "
                   f"epoch {epochs} (the run's train loss is over the epoch's last batches: close, not equal).")
    elif short is not None:
        st.caption(f"The tutorial prints no number after {epochs} epochs (its own are after {whole.settings.epochs}, "
                   "below for reference): this run shows how far the shorter training gets.")
    st.table(reported_frame(tutorial if tutorial.reported else whole))
    if tutorial.note:
        (st.warning if tutorial.key == "000" else st.info)(tutorial.note)
    return tutorial


def data_problems(tutorial: Tutorial, dataset_name: str, train_size: int) -> list[str]:
    """What about the data in use keeps a run from matching the tutorial (empty: nothing)."""
    from cnn_dash.data import TITLES
    from cnn_dash.limits import FULL_TRAIN_SET

    wanted = TITLES[tutorial.settings.dataset]
    problems = []
    if dataset_name != tutorial.settings.dataset:
        problems.append(f"This tutorial trains on {wanted}; the run will use it whatever the sidebar shows "
                        f"({TITLES[dataset_name]}).")
    elif train_size < FULL_TRAIN_SET:
        problems.append(f"Only {train_size:,} training images are loaded (the bundled sample), not the "
                        f"tutorial's {FULL_TRAIN_SET:,}: expect other numbers. Set CNN_DASH_DATA_DIR to the full "
                        f"datasets to reproduce them.")
    return problems


def data_note(tutorial: Tutorial, dataset_name: str, train_size: int) -> bool:
    """Say what about the data in use differs from the tutorial's; True when nothing does."""
    problems = data_problems(tutorial, dataset_name, train_size)
    for problem in problems:
        st.info(problem)
    return not problems


def refusal_text(tutorial: Tutorial, limits_: limits.Limits | None = None) -> str | None:
    """Why the limits in force refuse this tutorial's run, or None when it fits."""
    try:
        check_run(tutorial.settings, tutorial.models, limits_)
    except LimitError as exc:
        return f"The limits in force refuse this run: {exc}"
    return None


def reported_frame(tutorial: Tutorial) -> pd.DataFrame:
    """The tutorial's reported numbers: model, what, at which epoch, the value as the tutorial printed it."""
    return pd.DataFrame([{"model": r.label, "reported": METRIC_NAMES[r.metric], "at epoch": r.epoch,
                          "tutorial": _fmt(r.metric, r.value), "as printed": r.text} for r in tutorial.reported])


def _fmt(metric: str, value: float | None) -> str:
    if value is None:
        return "not reached"
    return f"{value:.1%}" if metric.endswith("acc") else f"{value:.3f}"


def comparison_frame(tutorial: Tutorial, history: Sequence[Progress]) -> pd.DataFrame:
    """The tutorial's numbers beside the run's at the same epochs (points for accuracies)."""
    rows = []
    for row in measured(tutorial, list(history)):
        metric, diff = row["metric"], row["difference"]
        rows.append({"model": row["model"], "metric": METRIC_NAMES[metric], "epoch": row["epoch"],
                     "tutorial": _fmt(metric, row["tutorial"]), "this run": _fmt(metric, row["this run"]),
                     "difference": "–" if diff is None else
                     (f"{100 * diff:+.1f} points" if metric.endswith("acc") else f"{diff:+.3f}")})
    return pd.DataFrame(rows)


def tutorial_comparison(tutorial: Tutorial, run: Run) -> pd.DataFrame:
    """Show "reported by the tutorial vs this run" for a run of `tutorial`; returns the table shown."""
    frame = comparison_frame(tutorial, list(run.history))
    st.markdown(f"**{tutorial.title}: the tutorial's numbers beside this run's**")
    st.table(frame)
    return frame


def estimate_note(settings: TrainSettings, models: Sequence[ModelConfig] | None, train_size: int,
                  test_size: int = 10_000) -> float | None:
    """A caption with the run's estimated time on this machine (from a few steps timed now); its seconds,
    or None when the models cannot be built (the page explains that elsewhere)."""
    from cnn_dash.estimate import describe_seconds, estimate_run, is_measured, prime, timing_under_way
    from cnn_dash.scheduler import scheduler

    if not models:
        return None
    threads = scheduler().threads_per_run
    measured = is_measured(settings, models, threads)
    if not measured and timing_under_way():  # never wait on a page run for another timing (a class at once)
        prime(models, settings.batch_size, threads)
        st.caption("Estimated time on this machine: a few training steps are being timed (shown when the page next "
                   "runs).")
        return None
    # A spinner only while steps are timed: each one starts a thread, and most reruns of this page reuse the times.
    timing = contextlib.nullcontext() if measured else st.spinner("Timing a few training steps on this machine…")
    try:
        with timing:
            estimate = estimate_run(settings, tuple(models), train_size, test_size, threads=threads)
    except (ShapeError, ValueError, RuntimeError):
        return None
    st.caption(f"Estimated time on this machine: {describe_seconds(estimate.seconds)} "
               f"({estimate.steps:,} steps per model, timed on random images; other runs on the server slow it).")
    return estimate.seconds


def epoch_frame(history: Sequence[Progress], labels: Sequence[str], epoch: int) -> pd.DataFrame:
    """Each model's test accuracy and loss at the end of `epoch` (None where it was not evaluated)."""
    history = list(history)
    return pd.DataFrame([{"model": label, "epoch": epoch,
                          "test acc": metric_at_epoch(history, label, epoch, "test_acc"),
                          "test loss": metric_at_epoch(history, label, epoch, "test_loss"),
                          "train acc (over the epoch)": metric_at_epoch(history, label, epoch, "train_acc")}
                         for label in labels]).set_index("model")


def epoch_table(run: Run, key: str | None = None) -> int | None:
    """Pick a whole epoch of the run and show every model's test accuracy there; returns the epoch (None when
    the run has no end-of-epoch evaluation yet)."""
    epochs = evaluated_epochs(list(run.history))
    if not epochs:
        return None
    epoch = st.selectbox("Test accuracy at epoch", epochs, index=len(epochs) - 1, key=key or f"tut_epoch_{run.id}",
                         help="Read any model at an earlier epoch, e.g. Adam at epoch 15 of a 25-epoch run.")
    frame = epoch_frame(run.history, [m.label for m in run.models], epoch)
    shown = frame.astype(object)
    formats = {"test acc": "{:.2%}", "test loss": "{:.4f}", "train acc (over the epoch)": "{:.2%}"}
    for column, template in formats.items():
        shown[column] = ["–" if pd.isna(v) else template.format(v) for v in frame[column]]
    st.table(shown)
    return epoch

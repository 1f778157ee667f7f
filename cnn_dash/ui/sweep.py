"""The Training page's data-efficiency sweep: its button, its line above the live run, and its chart.

The sweep's runs are ordinary runs of the session's RunRegistry (queued, stopped and limited like any run), so
the page's live view shows them one after another; this module adds only what concerns the sweep as a whole.
"""
from __future__ import annotations

from collections import Counter

import pandas as pd
import streamlit as st

from cnn_dash.compute import X_AXES
from cnn_dash.data import TITLES
from cnn_dash.limits import Limits
from cnn_dash.plots.sweep import sweep_figure
from cnn_dash.registry import RunRegistry
from cnn_dash.runs import Run
from cnn_dash.specs import ModelConfig, TrainSettings
from cnn_dash.sweep import (MIN_STEPS, SweepPlan, fc_level_or_ahead, images_to_match, plan_sweep, sweep_frame,
                            sweep_runs)

# The form is drawn below the buttons but runs before them: it leaves the button its plan (or why there is
# none) under a key no widget uses.
PLAN_KEY = "_sweep_plan"
START_KEY = "_sweep_start_requested"  # set by the button, read once by start_if_asked
SWEEP_AXES = {"images": "against training images", "training multiply-adds": "against training multiply-adds"}


def rule_text(limits: Limits) -> str:
    """How a sweep's runs differ from the form's run, in words."""
    return (f"Every size trains with the form's seed, batch size and optimizers, and each smaller subset is part "
            f"of every larger one. Small subsets get more epochs than the form's, enough for {MIN_STEPS} "
            f"optimizer steps, but at most {limits.max_epochs} (this server's limit) and within its "
            f"multiply-add limits.")


def start_if_asked(registry: RunRegistry, settings: TrainSettings, models: list[ModelConfig] | None,
                   problem: str | None, train_size: int) -> None:
    """Plan the sweep of the form's first CNN and first FC net for the button, and queue it if the button asked;
    a limit is shown with st.error, never a traceback."""
    plan, reason = None, problem or ("" if models else "Pick valid models first.")
    if not reason:
        try:
            plan = plan_sweep(settings, models, train_size, registry.limits)
        except ValueError as exc:  # SweepError, LimitError, ShapeError: written for the visitor
            reason = str(exc)
    st.session_state[PLAN_KEY] = plan, reason
    if st.session_state.pop(START_KEY, False) and plan is not None:
        try:
            registry.start_sweep(plan)
        except (ValueError, RuntimeError, OSError) as exc:  # LimitError, DataSourceError
            st.error(str(exc))


def _ask_start() -> None:
    st.session_state[START_KEY] = True


def _help(plan: SweepPlan, limits: Limits) -> str:
    cnn, fc = plan.models
    sizes = ", ".join(f"{n:,}" for n in plan.sizes)
    skipped = "".join(f" Left out: {note}" for note in plan.skipped)
    return (f"Trains {cnn.label} and {fc.label} on {sizes} training images: one run per size, queued together; "
            f"the chart below the live run fills in as they finish. {rule_text(limits)}{skipped}")


def sweep_button(registry: RunRegistry) -> None:
    """The 'Data-efficiency sweep' button (beside Train), disabled with the reason while it cannot start."""
    plan, reason = st.session_state.get(PLAN_KEY, (None, "Pick valid models first."))
    busy = registry.active() is not None
    if busy:
        reason = "One run or sweep per session trains at a time: stop it to start a sweep."
    st.button("Data-efficiency sweep", icon=":material/stacked_line_chart:", key="sweep_start", on_click=_ask_start,
              disabled=busy or plan is None, help=reason or _help(plan, registry.limits))


def progress_line(run: Run, registry: RunRegistry) -> None:
    """'Sweep 1: run 3 of 6 (1,000 images, 20 epochs) …' above the live view of a sweep's run."""
    if run.sweep is None:
        return
    tag = run.sweep
    done = sum(1 for r in registry.runs() if r.sweep is not None and r.sweep.id == tag.id and not r.active)
    st.markdown(f"**Sweep {tag.number}**: run {tag.index} of {tag.count} ({tag.images:,} images, "
                f"{run.settings.epochs} epochs) · {done} done. Stop ends the whole sweep; what has trained is kept.")


def sweep_title(runs: list[Run]) -> str:
    """'Sweep 2 · MNIST · 100–10,000 images': a sweep's number, dataset and sizes."""
    first, last = runs[0], runs[-1]
    dataset = TITLES.get(first.settings.dataset, first.settings.dataset)
    return f"Sweep {first.sweep.number} · {dataset} · {first.sweep.images:,}–{last.sweep.images:,} images"


def _what_to_see(frame: pd.DataFrame) -> str:
    lesson = ("What to look for: the CNN's line above the FC net's. Its small windows and shared weights build in "
              "what the FC net must learn from data, so the CNN needs fewer images for the same accuracy.")
    match = images_to_match(frame)
    if match is not None:
        acc, fc_images, cnn_images = match
        if cnn_images < fc_images:
            lesson += (f" Here the FC net's best, {acc:.1%} on {fc_images:,} images, the CNN reached with "
                       f"{cnn_images:,} ({fc_images / cnn_images:.0f}× fewer).")
    level = fc_level_or_ahead(frame)
    if level:
        where = ", ".join(f"{images:,}" for images in level)
        lesson += (f" On {where} images the FC net is level with the CNN (within a point) or ahead: with only a few "
                   f"examples of each class both nets mostly memorise them, and which one leads depends on the "
                   f"seed (try another). With more images the CNN's built-in assumptions pay off.")
    return lesson


def sweep_section(registry: RunRegistry) -> None:
    """The latest sweep's chart (or the one picked): test accuracy against training images, with what to see, or
    against training multiply-adds."""
    groups = sweep_runs(registry.runs())
    if not groups:
        return
    st.subheader("Data efficiency")
    titles = {sweep_title(runs): runs for runs in reversed(groups.values())}  # the latest first
    chosen = next(iter(titles))
    if len(titles) > 1:
        chosen = st.selectbox("Sweep", list(titles), key="sweep_pick")
    runs = titles.get(chosen, next(iter(titles.values())))
    frame = sweep_frame(runs)
    x = st.segmented_control("Accuracy against", list(SWEEP_AXES), format_func=SWEEP_AXES.get, default="images",
                             required=True, key="sweep_x", label_visibility="collapsed") or "images"
    st.plotly_chart(sweep_figure(frame, x=x), width="stretch", key="sweep_chart")
    st.caption(_what_to_see(frame) if x == "images" else
               f"Training multiply-adds: {X_AXES['training multiply-adds']}, over the run's epochs. A CNN's point "
               f"moves right by the extra work it does per image: compare the lines at equal compute.")
    counts = Counter(str(r.status) for r in runs)
    stopped = [r.sweep.images for r in runs if r.status != "finished" and not r.active]
    note = f" Not on the chart: {', '.join(f'{n:,}' for n in stopped)} images (stopped or failed)." if stopped else ""
    st.caption(f"{len(runs)} runs: " + ", ".join(f"{n} {status}" for status, n in counts.items()) + f".{note} "
               + rule_text(registry.limits))

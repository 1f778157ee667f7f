"""The Lesson's live actions, each built from what the dashboard already has: the shape calculator, the torchinfo
summaries, the Quick-demo race and the pixel shuffle as runs of the session's RunRegistry, the shift curve, the
data-efficiency sweep and the drawing canvas. An action's result is kept in the session, keyed by its step and the
dataset, so a step started twice shows the same result; its runs are ordinary runs of the session's registry, found
again by their settings (after a reload too) and kept for the other pages.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from cnn_dash import hints, inference, lesson, presets, reveals, shift
from cnn_dash.data import Dataset
from cnn_dash.plots.curves import curves_frame, run_figure
from cnn_dash.plots.drawing import probabilities_figure
from cnn_dash.plots.lesson import cost_figure, decomposition_figure, shuffle_figure
from cnn_dash.plots.params import params_per_layer_figure
from cnn_dash.plots.shift import shift_figure
from cnn_dash.plots.sweep import sweep_figure
from cnn_dash.plots.window import window_figure
from cnn_dash.records import Status
from cnn_dash.registry import RunRegistry
from cnn_dash.runs import Run
from cnn_dash.shapes import trace
from cnn_dash.specs import ModelConfig
from cnn_dash.summary import summarize
from cnn_dash.sweep import sweep_frame, sweep_runs
from cnn_dash.ui import draw
from cnn_dash.ui.run_card import curves as live_curves, race_line
from cnn_dash.ui.training import session_registry
from cnn_dash.windows import explain

RESULTS_KEY = "_lesson_results"  # (step key, dataset) -> Outcome; no widget uses it
ASKED_KEY = "_lesson_asked"  # (step key, dataset) whose action was started: its runs are started as slots free up
FIG_HEIGHT = 260  # px: beside the question on a 1280×720 projector
RUN_STEPS = {"race": ("race",), "shuffle": ("race", "shuffle"), "decompose": ("decompose",), "shift": ("race",),
             "draw": ("race",), "draw_pair": ("pair",),
             "sweep": ("sweep",)}  # the runs each step (or the drawing step's second button) needs, in order


@dataclass(frozen=True)
class Outcome:
    """What a step's action found: the reveal from its numbers, its charts, the seconds it took and its data."""

    reveal: reveals.Reveal
    figures: tuple[go.Figure, ...]
    seconds: float
    source: str
    runs: tuple[str, ...] = ()  # the ids of the runs it was read from


def _store(name: str) -> dict:
    return st.session_state.setdefault(name, {})


def outcome(step_key: str, dataset: str) -> Outcome | None:
    """The kept result of a step on a dataset, if its action has run."""
    return _store(RESULTS_KEY).get((step_key, dataset))


def _pair(models: tuple[ModelConfig, ...]) -> tuple[ModelConfig, ModelConfig]:
    return next(m for m in models if m.net.is_cnn), next(m for m in models if not m.net.is_cnn)


def _timed(step_key: str, dataset: Dataset, compute) -> Outcome:
    start = time.perf_counter()
    reveal, figures = compute()
    result = Outcome(reveal, tuple(figures), time.perf_counter() - start, dataset.source)
    _store(RESULTS_KEY)[(step_key, dataset.name)] = result
    return result


# ---- the instant actions ------------------------------------------------------------------------------------
def shape_action(dataset: Dataset) -> Outcome:
    """The CNN's first layer through the shape calculator, with its sliding window drawn."""
    def compute():
        cnn, _ = _pair(lesson.race_plan(dataset.name, len(dataset.train_labels))[1])
        first = trace(cnn.net)[0]
        args = first.layer.kwargs()
        reveal = reveals.shape_reveal(first.in_shape[-1], args["kernel_size"], args.get("stride", 1),
                                     args.get("padding", 0), first.out_shape)
        figure = window_figure(explain(first.layer, first.in_shape), (0, 0, 0))
        return reveal, [figure.update_layout(height=FIG_HEIGHT)]
    return _timed("shape", dataset, compute)


def _summaries(dataset: Dataset):
    cnn, fc = _pair(lesson.race_plan(dataset.name, len(dataset.train_labels))[1])
    return cnn, fc, summarize(cnn.net), summarize(fc.net)


def params_action(dataset: Dataset) -> Outcome:
    """The race's two nets summarised by torchinfo (as on Architectures): parameters per layer."""
    def compute():
        cnn, fc, a, b = _summaries(dataset)
        reveal = reveals.params_reveal(cnn.net.name, a.total_params, fc.net.name, b.total_params)
        figure = params_per_layer_figure(a, b, (cnn.net.name, fc.net.name))
        return reveal, [figure.update_layout(height=FIG_HEIGHT, title=None, margin=dict(l=10, r=10, t=30, b=10))]
    return _timed("params", dataset, compute)


def compute_action(dataset: Dataset) -> Outcome:
    """The race's two nets summarised by torchinfo: parameters against multiply-adds per image."""
    def compute():
        cnn, fc, a, b = _summaries(dataset)
        reveal = reveals.compute_reveal(cnn.net.name, a.total_params, a.total_mult_adds, fc.net.name, b.total_params,
                                       b.total_mult_adds)
        figure = cost_figure({"CNN": a.total_params, "FC net": b.total_params},
                             {"CNN": a.total_mult_adds, "FC net": b.total_mult_adds}, FIG_HEIGHT)
        return reveal, [figure]
    return _timed("compute", dataset, compute)


# ---- the runs -----------------------------------------------------------------------------------------------
def _usable(run: Run) -> bool:
    return run.active or run.status == Status.FINISHED


def _lesson_runs(registry: RunRegistry, key: str, dataset: Dataset) -> list[Run] | None:
    """The session's latest runs with this step's exact settings and models, queued, training or finished (a
    Quick demo started on the Training page counts): a step started twice, or after a reload, reuses them."""
    size = len(dataset.train_labels)
    if key == "sweep":
        plan = lesson.sweep_plan(dataset.name, size, registry.limits)
        for runs in reversed(list(sweep_runs(registry.runs()).values())):
            if [r.settings for r in runs] == list(plan.runs) and all(r.models == plan.models for r in runs) \
                    and all(_usable(r) for r in runs):
                return runs
        return None
    settings, models = _plan(registry, key, dataset)
    return next(([r] for r in reversed(registry.runs()) if r.sweep is None and r.settings == settings
                 and r.models == models and _usable(r)), None)


def _plan(registry: RunRegistry, key: str, dataset: Dataset):
    """The settings and models of one of the lesson's single runs ("race", "shuffle", "decompose", "pair")."""
    size = len(dataset.train_labels)
    if key == "decompose":
        return lesson.decomposition_plan(dataset.name, size, registry.limits)
    if key == "pair":
        return presets.placement_pair(dataset.name, size)
    return (lesson.shuffle_plan if key == "shuffle" else lesson.race_plan)(dataset.name, size)


def finished_pair(dataset: Dataset) -> Run | None:
    """The session's latest finished pair built for drawing off-centre (trained here or on the draw page)."""
    runs = _lesson_runs(session_registry(), "pair", dataset)
    return runs[0] if runs and runs[0].status == Status.FINISHED else None


def _start(registry: RunRegistry, key: str, dataset: Dataset) -> list[Run]:
    if key == "sweep":
        return registry.start_sweep(lesson.sweep_plan(dataset.name, len(dataset.train_labels), registry.limits))
    return [registry.start(*_plan(registry, key, dataset))]


def ask(step_key: str, dataset: str) -> None:
    """The step's button: its runs start now and as slots free up (button callback)."""
    _store(ASKED_KEY)[(step_key, dataset)] = set()  # the ids of the runs this press started


def asked(step_key: str, dataset: str) -> bool:
    return (step_key, dataset) in _store(ASKED_KEY)


def _ended_badly(step_key: str, dataset: str, registry: RunRegistry) -> str | None:
    """Why a run this press started ended without a result (failed, or stopped on the Training page); the press is
    forgotten, so the button can start it again."""
    for run in registry.runs():
        if run.id in _store(ASKED_KEY).get((step_key, dataset), ()) and not _usable(run):
            _store(ASKED_KEY).pop((step_key, dataset), None)
            return f"{run.name} {run.status}{': ' + run.error if run.error else ''}. Press the button to train it again."
    return None


@dataclass
class Needed:
    """Where a step's runs stand: those found or started so far, the one training now, the session's run that must
    end before the next can start, or why none can start (a message for the visitor)."""

    runs: dict[str, list[Run]]
    training: Run | None = None
    waiting_for: Run | None = None
    error: str | None = None

    @property
    def ready(self) -> bool:
        return self.training is None and self.waiting_for is None and self.error is None


def needed_runs(step_key: str, dataset: Dataset) -> Needed:
    """The step's runs, started one after another as the session's training slot frees up."""
    registry = session_registry()
    found: dict[str, list[Run]] = {}
    for key in RUN_STEPS[step_key]:
        runs = _lesson_runs(registry, key, dataset)
        if runs is None:
            why = _ended_badly(step_key, dataset.name, registry)
            if why:
                return Needed(found, error=why)
            active = registry.active()
            if active is not None:
                return Needed(found, waiting_for=active)
            try:
                runs = _start(registry, key, dataset)
            except (ValueError, RuntimeError, OSError) as exc:  # LimitError, SweepError, DataSourceError
                return Needed(found, error=str(exc))
            _store(ASKED_KEY).setdefault((step_key, dataset.name), set()).update(r.id for r in runs)
        found[key] = runs
        training = next((r for r in runs if r.active), None)
        if training is not None:
            return Needed(found, training=training)
    return Needed(found)


def live(step_key: str, dataset: Dataset) -> None:
    """The run training for this step: progress and accuracies, redrawn every second; the page reruns at its end."""
    st.fragment(_live, run_every=1.0)(step_key, dataset)


def _live(step_key: str, dataset: Dataset) -> None:
    needed = needed_runs(step_key, dataset)
    training = needed.training
    if needed.waiting_for is not None:
        st.info(f"{needed.waiting_for.name} of this session is still training: this step starts when it ends "
                f"(or stop it on the Training page).", icon=":material/hourglass:")
        return
    if training is None:
        st.rerun()
        return
    fraction, eta = training.progress()
    done = ""
    if training.sweep is not None:
        tag = training.sweep
        done = f"Sweep: {tag.images:,} images, run {tag.index} of {tag.count} · "
    left = f" · about {eta:.0f} s left" if eta is not None and fraction > 0 else ""
    status = "waiting for a free slot" if training.status == Status.QUEUED else f"{fraction:.0%} trained{left}"
    st.progress(min(max(fraction, 0.0), 1.0), text=f"{done}{training.name}: {status}")
    line = race_line(training)
    if line:
        st.markdown(line)
    if training.history and training.sweep is None:  # the Training page's live curves, on axes that stay put
        st.plotly_chart(live_curves(training), width="stretch", key="lesson_live_curves")
    elif training.sweep is not None:
        st.plotly_chart(sweep_figure(sweep_frame(needed.runs["sweep"]), height=FIG_HEIGHT - 60), width="stretch",
                        key="lesson_live_sweep")


def _seconds(runs: list[Run]) -> float:
    return sum((r.ended_at or 0) - (r.started_at or 0) for r in runs if r.started_at)


def run_outcome(step_key: str, dataset: Dataset, found: dict[str, list[Run]]) -> Outcome:
    """The reveal and charts of a step whose runs have all ended; kept for the session."""
    ids = tuple(r.id for runs in found.values() for r in runs)
    cached = outcome(step_key, dataset.name)
    if cached is not None and cached.runs == ids:
        return cached
    race = found.get("race", [None])[0]
    seconds = _seconds([r for runs in found.values() for r in runs])
    if step_key == "race":
        why = hints.why_cnn_lost(race.settings, race.models, race.results, len(dataset.train_labels))
        reveal = reveals.race_reveal(race.models, race.results, len(dataset.test_labels), why)
        figures = [run_figure(curves_frame({race.name: list(race.history)}), race.settings.epochs, FIG_HEIGHT)]
    elif step_key == "shuffle":
        real, shuffled = (reveals.cnn_lead(r.models, r.results) for r in (race, found["shuffle"][0]))
        reveal, figures = reveals.shuffle_reveal(real, shuffled), [shuffle_figure(real, shuffled, FIG_HEIGHT)]
    elif step_key == "decompose":
        run = found["decompose"][0]
        d = reveals.decomposition_of(run.models, run.results)
        reveal, figures = reveals.decomposition_reveal(d), [decomposition_figure(d.fc, d.local, d.cnn, FIG_HEIGHT)]
    elif step_key == "shift":
        with st.spinner(f"Moving {min(shift.SUBSET, len(dataset.test_labels)):,} test images by up to 4 pixels in "
                        f"four directions and classifying them again…"):
            curves, seconds = shift.run_shift_curve(race, 4)
        reveal, figures = reveals.shift_reveal(race.models, curves), [shift_figure(curves, FIG_HEIGHT)]
    else:  # sweep
        frame = sweep_frame(found["sweep"])
        reveal, figures = reveals.sweep_reveal(frame), [sweep_figure(frame, FIG_HEIGHT)]
    result = Outcome(reveal, tuple(figures), seconds, dataset.source, ids)
    _store(RESULTS_KEY)[(step_key, dataset.name)] = result
    return result


# ---- the drawing ---------------------------------------------------------------------------------------------
TRUTH_KEY = "_lesson_truth"  # dataset -> the class the teacher says was drawn


def _keep_truth(dataset: str) -> None:
    _store(TRUTH_KEY)[dataset] = st.session_state[f"lesson_truth_{dataset}"]


def drawing_input(dataset: Dataset, keep: bool = False) -> np.ndarray | None:
    """The canvas (or an upload) as the 28×28 input the nets see: centred and scaled as MNIST's digits were, or with
    `keep` where and how big it was drawn (the draw page's choice, draw.keep_as_drawn)."""
    grey = draw.input_picture(dataset.name)
    prepared = draw.prepare(grey, keep) if grey is not None else None
    return prepared.image if prepared is not None else None


def truth_input(dataset: Dataset) -> int | None:
    """The class the teacher says was drawn (kept across steps)."""
    classes = dataset.classes
    return st.selectbox("It is a…", range(len(classes)), format_func=classes.__getitem__,
                        index=_store(TRUTH_KEY).get(dataset.name), placeholder="say which",
                        key=f"lesson_truth_{dataset.name}", on_change=_keep_truth, args=(dataset.name,))


def draw_outcome(dataset: Dataset, race: Run, image: np.ndarray, truth: int, kept: bool = False) -> Outcome:
    """Both nets of the race on the drawing (`kept` where and how big it was drawn), scored against what the teacher
    says it is."""
    def compute():
        probs = inference.probabilities(race.trained_models(), image, race.settings)
        reveal = reveals.draw_reveal(race.models, probs, truth, race.classes, kept)
        figure = probabilities_figure(probs, race.classes)
        return reveal, [figure.update_layout(height=FIG_HEIGHT, legend=dict(font=dict(size=10)))]
    return _timed("draw", dataset, compute)

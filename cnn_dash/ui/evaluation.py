"""Evaluation page widgets: which run, which two models, cached evaluations, galleries, plain-words readings."""
from __future__ import annotations

import re
from typing import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st
from pandas.io.formats.style import Styler
from streamlit.errors import StreamlitPageNotFoundError

from cnn_dash import features, hints, inference, metrics, shift
from cnn_dash.library import library
from cnn_dash.plots import confusion as plots
from cnn_dash.plots.shift import shift_figure, shift_frame
from cnn_dash.runs import Run
from cnn_dash.specs import ModelConfig
from cnn_dash.ui.tables import table
from cnn_dash.ui.training import session_registry

CACHE_KEY = "_evaluation_cache"  # (run id, status) -> (Evaluation, originals); no widget uses it
CACHE_RUNS = 4  # evaluations kept per session, the most recent first
SHIFT_CACHE_KEY = "_shift_cache"  # (run id, status, max shift) -> (curves, seconds); no widget uses it


SHARE_PARAM = "run"  # /evaluation?run=<id>: one run, read-only, for anyone who has the link
NO_SUCH_RUN = "No such run. The link may be incomplete, or the run has been deleted."


def shared() -> bool:
    """True when the page was opened by a shared run's link."""
    return SHARE_PARAM in st.query_params


def shared_run() -> Run:
    """The run a shared link names; for an id that is malformed or unknown, "no such run" and nothing else."""
    values = st.query_params.get_all(SHARE_PARAM)
    run = library().find(values[0]) if len(values) == 1 else None
    if run is None:
        st.error(NO_SUCH_RUN, icon=":material/link_off:")
        st.stop()
    if not run.evaluable:
        st.info("This run has not finished training: there is nothing to evaluate yet.")
        st.stop()
    return run


def evaluable_runs() -> list[Run]:
    """The shared run alone when a link names one; else this browser's runs with weights to evaluate."""
    return [shared_run()] if shared() else session_registry().trained()


def share_url(run: Run) -> str:
    """The link that opens this run's evaluation for anyone: the app's address, /evaluation?run=<id>."""
    page = (st.context.url or "").split("?", 1)[0].replace("/~/+/", "/")  # Community Cloud's inner frame
    root = page.rsplit("/", 1)[0] if "://" in page else ""
    return f"{root}/evaluation?{SHARE_PARAM}={run.id}"


def share_button(run: Run, key: str = "share") -> None:
    """'Share this run': its link, to copy, and what the link gives."""
    with st.popover("Share this run", icon=":material/share:", key=key):
        st.caption("Anyone with this link sees this run's evaluation and can try its models, read-only. It opens "
                   "no other run of yours, and nobody can find the run without it.")
        st.code(share_url(run), language=None, wrap_lines=True)


def share_row(run: Run) -> None:
    """Under the run's name: 'Share this run' (own runs), and, for a shared run, its 'Try it yourself'."""
    with st.container(horizontal=True):
        if shared():
            try:
                st.page_link("pages/draw.py", label="Try this run's models yourself", icon=":material/draw:",
                             query_params={SHARE_PARAM: run.id})
            except StreamlitPageNotFoundError:  # the page opened on its own, outside the app's navigation
                pass
        else:
            share_button(run)


NO_RUN = ("No finished training run in this browser yet. Train a CNN and an FC net first; "
          "their confusion matrices appear here as soon as the run ends (or is stopped).")


def no_run_yet(message: str = NO_RUN, label: str = "Go to Training") -> None:
    """Say that there is nothing to evaluate yet and point to the training page."""
    st.info(message)
    try:
        st.page_link("pages/training.py", label=label, icon=":material/model_training:")
    except StreamlitPageNotFoundError:  # the page is opened on its own, outside the app's navigation
        st.caption("Open the Training page from the navigation.")


def describe(run: Run) -> str:
    """One line naming a run: name, dataset, models, status."""
    models = " vs ".join(m.label for m in run.models)
    shuffled = " · shuffled pixels" if run.settings.permute_pixels else ""
    return f"{run.name} · {run.settings.dataset}{shuffled} · {models} · {run.status}"


def run_picker(runs: list[Run], key: str = "eval_run") -> Run:
    """A selectbox over the evaluable runs, newest first (the one last viewed, after a reload); returns the
    chosen run. A shared run is named, read-only, with no choice."""
    if shared():
        st.caption(f"A shared run, read-only: {describe(runs[0])}")
        return runs[0]
    registry = session_registry()
    by_id = {r.id: r for r in reversed(runs)}
    ids = list(by_id)
    index = ids.index(registry.last_viewed) if registry.last_viewed in by_id else 0
    chosen = st.selectbox("Run", ids, index=index, format_func=lambda i: describe(by_id[i]), key=key)
    run = by_id.get(chosen, next(iter(by_id.values())))
    registry.last_viewed = run.id
    return run


def run_evaluation(run: Run) -> tuple[metrics.Evaluation, np.ndarray]:
    """The run's evaluation and its test images as a person sees them (never pixel-shuffled); computed once per
    run and kept in the session (the models themselves are the run's own: Run.trained_models)."""
    cache: dict = st.session_state.setdefault(CACHE_KEY, {})
    key = (run.id, run.status)
    if key not in cache:
        with st.spinner("Evaluating every model on the test set…"):
            images, labels = run.test_set()  # pixel-shuffled if the run was
            ev = metrics.evaluate(run.trained_models(), images, labels, run.stats, run.classes)
            # The shuffle moves pixels, not images: the dataset's own test images are in the same order.
            originals = np.asarray(run.dataset.test_images) if run.settings.permute_pixels else ev.images
            cache[key] = (ev, originals)
        for old in list(cache)[:-CACHE_RUNS]:
            del cache[old]
    return cache[key]


def verdict(evaluation: metrics.Evaluation, run: Run) -> tuple[str, str]:
    """(title, sentence) naming the model that wins on this run by its evaluated test accuracy (hints.verdict);
    when the FC net wins, why, by the Training page's own rules (hints.why_fc_won)."""
    accuracies = {r.label: r.report.accuracy for r in evaluation.results}
    models = [m for m in run.models if m.label in accuracies]
    title, sentence = hints.verdict(models, accuracies)
    lead = hints.cnn_lead(models, accuracies)
    if lead is not None and lead <= -hints.TIE_POINTS:
        sentence += " " + hints.why_fc_won(run.settings, run.models, run.results, len(run.dataset.train_labels))
    return title, sentence


CONFUSED_CLASSES = {  # where models usually part ways, per dataset
    "FashionMNIST": "Shirts, T-shirts, pullovers and coats are where models usually part ways.",
    "MNIST": "Digits written alike (4 and 9, 3 and 5, 7 and 1) are where models usually part ways.",
}


def short_names(models: Sequence[ModelConfig]) -> dict[str, str]:
    """Label -> short name for table columns: each model's letter ('A') when every model has its own, else the
    labels themselves."""
    letters = [m.letter for m in models]
    if all(letters) and len(set(letters)) == len(letters):
        return {m.label: m.letter for m in models}
    return {m.label: m.label for m in models}


def legend(models: Sequence[ModelConfig], names: dict[str, str], sep: str = ": ") -> str | None:
    """'**A**: Small CNN (Adam 0.008) · **B**: MLP (Adam 0.004)': what each short name stands for; None when the
    names are the labels themselves."""
    if all(names[m.label] == m.label for m in models):
        return None
    return " · ".join(f"**{names[m.label]}**{sep}{m.detail}" for m in models)


def pair_picker(evaluation: metrics.Evaluation) -> tuple[str, str]:
    """Two selectboxes choosing models A and B; A defaults to the first CNN, B to the first other net."""
    labels = [r.label for r in evaluation.results]
    cnns = [r.label for r in evaluation.results if r.is_cnn]
    a_default = cnns[0] if cnns else labels[0]
    others = [label for label in labels if label != a_default]
    b_default = next((r.label for r in evaluation.results if not r.is_cnn and r.label != a_default), others[0])
    left, right = st.columns(2)
    a = left.selectbox("Model A", labels, index=labels.index(a_default), key="eval_a")
    b = right.selectbox("Model B", labels, index=labels.index(b_default), key="eval_b")
    return a, b


def mcnemar_reading(test: metrics.McNemar, a: str, b: str) -> str:
    """McNemar's test in plain words, with the p-value and which variant gave it."""
    if test.b + test.c == 0:
        return f"{a} and {b} get exactly the same images right: there is no difference to test."
    method = ("exact binomial test, used when fewer than 25 images split the models" if test.exact
              else "chi-square with continuity correction")
    counts = (f"{a} gets **{test.b:,}** images right that {b} misses; {b} gets **{test.c:,}** right "
              f"that {a} misses. If both models were equally good, a split at least this uneven would "
              f"happen by chance with probability **p = {test.p_value:.3g}** (McNemar's test, {method}). ")
    if test.p_value < 0.05:
        better = a if test.b > test.c else b
        return counts + f"That is unlikely to be chance (p < 0.05): **{better} is better** on this test set."
    return counts + ("That could well be chance (p ≥ 0.05): this test set does not show that one model is "
                     "better than the other.")


def gallery(
    evaluation: metrics.Evaluation,
    images: np.ndarray,
    indices: np.ndarray,
    shown: list[str],
    names: dict[str, str],
    limit: int,
    title: str = "",
) -> None:
    """Plot the images at `indices` (up to `limit`), captioned with the truth and each shown model's answer
    under its short name."""
    st.caption(f"{len(indices):,} images" + (f"; the first {limit} shown." if len(indices) > limit else "."))
    if len(indices) == 0:
        return
    indices = indices[:limit]
    classes = evaluation.classes
    captions = []
    for i in indices.tolist():
        lines = [f"#{i}", f"true: {classes[evaluation.labels[i]]}"]  # short lines: a phone's tile is 60 px
        for label in shown:
            p = evaluation.result(label).predictions
            lines.append(f"{names[label]}: {classes[p.preds[i]]} {p.confidence[i]:.0%}")
        captions.append("<br>".join(lines))
    fig = plots.gallery_figure(images[indices], captions, title, columns=6)
    st.plotly_chart(fig, width="stretch", key="gallery")


def galleries(evaluation: metrics.Evaluation, images: np.ndarray, a: str, b: str, names: dict[str, str]) -> None:
    """Misclassified images, those fixed or broken by model A, or one matrix cell: one gallery at a time."""
    ev, classes = evaluation, evaluation.classes
    labels = [r.label for r in ev.results]
    limit = st.slider("Images per gallery", 6, 48, 18, step=6, key="eval_limit")
    views = ("Misclassified", f"Fixed by {names[a]}", f"Broken by {names[a]}", "A matrix cell")
    # Options are indices so that the choice survives a change of model A (only the labels change).
    view = st.radio("Show", range(len(views)), format_func=views.__getitem__, horizontal=True, key="eval_gallery")
    preds = {label: ev.result(label).predictions.preds for label in labels}
    if view == 0:
        model = st.selectbox("Model", labels, key="eval_wrong_model")
        wrong = np.flatnonzero(preds[model] != ev.labels)
        gallery(ev, images, by_confidence(ev, wrong, model), [model], names, limit,
                f"{model}'s mistakes, most confident first")
    elif view in (1, 2):
        right, wrong = (a, b) if view == 1 else (b, a)
        st.caption(f"{right} is right and {wrong} is wrong; {wrong}'s most confident mistakes first.")
        indices = metrics.only_right(ev.labels, preds[right], preds[wrong])
        gallery(ev, images, by_confidence(ev, indices, wrong), [a, b], names, limit)
    else:
        left, middle, right_col = st.columns(3)
        model = left.selectbox("Model", labels, key="eval_cell_model")
        true_class = middle.selectbox("True class", range(len(classes)), format_func=classes.__getitem__,
                                      index=min(6, len(classes) - 1), key="eval_cell_true")
        pred_class = right_col.selectbox("Predicted class", range(len(classes)), format_func=classes.__getitem__,
                                         key="eval_cell_pred")
        indices = metrics.cell_indices(ev.labels, preds[model], true_class, pred_class)
        gallery(ev, images, indices, [model], names, limit,
                f"True {classes[true_class]}, predicted {classes[pred_class]}")


def marked_best(table: pd.DataFrame, names: list[str]) -> Styler:
    """A comparison table with the best model per class and metric named in a column and highlighted."""
    shown = table.copy()
    for metric in metrics.METRICS:
        shown[f"best {metric}"] = metrics.best_per_class(table, metric, names)
    style = shown.style.format("{:.3f}", subset=[c for c in table.columns if c != "support"])
    for metric in metrics.METRICS:
        style = style.highlight_max(subset=[metrics.column(metric, n) for n in names], axis=1,
                                    props="font-weight: bold; background-color: #fde725")
    return style


def by_confidence(evaluation: metrics.Evaluation, indices: np.ndarray, label: str) -> np.ndarray:
    """The indices ordered by the model's confidence, most confident first (confident mistakes teach most)."""
    confidence = evaluation.result(label).predictions.confidence[indices]
    return indices[np.argsort(-confidence, kind="stable")]


def inside_cnn(run: Run, label: str, originals: np.ndarray,
               index: int) -> tuple[np.ndarray, list[features.FeatureMaps]]:
    """Model `label`'s first-convolution kernels and every convolution's feature maps for test image `index`
    (`originals`: the test images as a person sees them)."""
    model = run.trained_models()[label]
    return features.first_conv_kernels(model), inference.feature_maps(model, originals[index], run.settings)


def input_figure(evaluation: metrics.Evaluation, originals: np.ndarray, index: int) -> go.Figure:
    """Test image `index` as the CNN sees it; with the original beside it when the pixels were shuffled."""
    if originals is evaluation.images:
        return plots.gallery_figure(evaluation.images[index : index + 1], [f"#{index}"])
    pair = np.stack([originals[index], evaluation.images[index]])
    return plots.gallery_figure(pair, [f"#{index}", "shuffled: what the CNN sees"], columns=2)


def csv_download(label: str, frame: pd.DataFrame, file_name: str, key: str) -> None:
    """A download button for a table as CSV that does not rerun the page; `file_name` is made file-safe."""
    safe = re.sub(r"[^A-Za-z0-9.-]+", "_", file_name).strip("_")  # "Run 1 A · x (%)" -> "Run_1_A_x"
    st.download_button(label, frame.to_csv().encode(), file_name=f"{safe}.csv", mime="text/csv",
                       key=key, on_click="ignore", icon=":material/download:")


def shift_section(run: Run) -> None:
    """Shift robustness: every model's test accuracy on test images moved by 0…k pixels, as curves on one chart."""
    st.subheader("Shift robustness")
    st.caption(hints.shift_mechanism(run.models))
    max_shift = st.slider("Largest shift (pixels)", 1, 8, 4, key="eval_max_shift")
    cache: dict = st.session_state.setdefault(SHIFT_CACHE_KEY, {})
    key = (run.id, run.status, max_shift)
    if key not in cache:
        with st.spinner(f"Shifting {min(shift.SUBSET, len(run.dataset.test_labels)):,} test images by up to "
                        f"{max_shift} pixels and classifying them again…"):
            cache[key] = shift.run_shift_curve(run, max_shift)
        for old in list(cache)[:-CACHE_RUNS]:
            del cache[old]
    curves, seconds = cache[key]
    st.plotly_chart(shift_figure(curves), width="stretch", key="shift_chart")
    if run.settings.permute_pixels:
        st.caption("The run shuffled its pixels: each image is shifted first, then shuffled the same way as in "
                   "training.")
    shown = min(shift.SUBSET, len(run.dataset.test_labels))
    per_class = shown // len(run.classes)
    at = min(3, max_shift)
    reading = hints.shift_reading(run.models, {c.label: c.at(0) for c in curves}, {c.label: c.at(at) for c in curves},
                                  at)
    st.caption(f"{reading} (Computed in {seconds:.1f} s on {shown:,} test images: {per_class} of each class, the "
               "same ones every time, so that the curve takes seconds, not a minute.)")
    frame = shift_frame(curves)
    with st.expander("Accuracy per direction"):
        table(frame.style.format({c: "{:.1%}" for c in frame.columns[2:]}), hide_index=True)
    csv_download("Shift robustness (CSV)", frame.set_index(["model", "shift (px)"]), f"{run.name} shift",
                 "dl_shift")

"""Evaluation: confusion matrices, per-class scores, where two models disagree, and inside the CNN."""
import pandas as pd
import streamlit as st

from cnn_dash import metrics
from cnn_dash.plots import confusion as plots
from cnn_dash.tutorials import find_tutorial
from cnn_dash.ui import evaluation as ui
from cnn_dash.ui import tutorials
from cnn_dash.ui.equivariance import equivariance_section
from cnn_dash.ui.routing import through_router

through_router()

heading = st.empty()  # filled with who wins once a run is chosen
heading.title("Evaluation: what each model gets wrong")

runs = ui.evaluable_runs()
if not runs:
    ui.no_run_yet()
    st.stop()

run = ui.run_picker(runs)
ui.share_row(run)
ev, originals = ui.run_evaluation(run)
classes = ev.classes
labels = [r.label for r in ev.results]
title, sentence = ui.verdict(ev, run)
heading.title(f"Evaluation: {title}")
st.markdown(f"**{sentence}**")
evaluated = [m for m in run.models if m.label in labels]
names = ui.short_names(evaluated)  # "A" for "A · LeNet-5 (SGD)": table columns and captions stay readable
st.caption(f"{len(ev.labels):,} test images from the {run.source}; every model evaluated in {ev.seconds:.2f} s.")
if run.status == "stopped":
    st.info("This run was stopped before the end: its models are evaluated with the weights they had then.")
for label, step in run.diverged.items():
    st.warning(f"{label} diverged at step {step}: it is evaluated with its last finite weights.")

st.subheader("Scores")
summary = metrics.summary_table(ev)
# 'A', 'B': on a phone the long labels would push the numbers off
ui.table(summary.rename(index=names).style.format({"accuracy": "{:.2%}", "balanced accuracy": "{:.2%}",
                                                   "macro F1": "{:.3f}"}))
if (legend := ui.legend(evaluated, names)) is not None:
    st.caption(legend)
ui.csv_download("Scores (CSV)", summary, f"{run.name} scores", "dl_scores")
with st.expander("Test accuracy at an earlier epoch, and the tutorial's numbers"):
    tutorials.epoch_table(run, key="eval_epoch")  # e.g. Adam at epoch 15 of seed 003's 25-epoch run
    tutorial = find_tutorial(run.settings, run.models)
    if tutorial is not None:
        tutorials.tutorial_comparison(tutorial, run)

# ---- Confusion matrices ------------------------------------------------------------------------------
st.subheader("Confusion matrices")
st.caption("Rows are the true classes, columns the predicted ones: the diagonal holds the right answers (blue-grey), "
           "every other cell one kind of mistake, on a scale of its own: pale orange for a few, dark red for the "
           "most frequent, blank for none.")
percent = st.toggle("Row-normalised (% of each true class)", key="eval_percent")
values = {r.label: metrics.row_percent(r.matrix) if percent else r.matrix for r in ev.results}
unit = "row percent" if percent else "counts"
for row_start in range(0, len(labels), 2):
    for col, label in zip(st.columns(2), labels[row_start : row_start + 2]):
        with col:
            st.plotly_chart(plots.confusion_figure(values[label], classes, label, percent), width="stretch",
                            key=f"matrix_{label}")
            frame = pd.DataFrame(values[label], index=classes, columns=classes).rename_axis("true \\ predicted")
            ui.csv_download(f"{names[label]} matrix (CSV, {unit})", frame, f"{run.name} {names[label]} {unit}",
                            f"dl_matrix_{label}")

if len(labels) < 2:
    st.stop()

st.subheader("Comparing two models")
a, b = ui.pair_picker(ev)
if a == b:
    st.info("Choose two different models to compare them.")
    st.stop()

diff = plots.advantage(values[a], values[b])
na, nb = names[a], names[b]  # short names (the pickers above name them in full): a phone's chart title fits
st.plotly_chart(plots.difference_figure(diff, classes, f"Where {na} does better than {nb}", percent, na, nb),
                width="stretch", key="diff")
st.caption(f"Blue: {na} does better in that cell; red: {nb} does. On the diagonal the number is {na}'s right "
           f"answers minus {nb}'s; off the diagonal it is {nb}'s mistakes minus {na}'s (fewer mistakes is better). "
           f"So a positive number always favours {na}, a negative one {nb}; a blank cell, neither.")
frame = pd.DataFrame(diff, index=classes, columns=classes).rename_axis("true \\ predicted")
ui.csv_download(f"Advantage of {names[a]} over {names[b]} (CSV, {unit})", frame,
                f"{run.name} {names[a]} advantage over {names[b]} {unit}", "dl_diff")

# ---- Per-class scores ---------------------------------------------------------------------------------
st.subheader("Per class")
if (legend := ui.legend(evaluated, names, " = ")) is not None:
    st.caption(legend)
table = metrics.comparison_table(ev, names)
ui.table(ui.marked_best(table, list(names.values())))
st.caption("The best value of each metric per class is highlighted (bold, yellow) and named in the "
           "'best' columns. " + ui.CONFUSED_CLASSES.get(run.settings.dataset, ""))
ui.csv_download("Per-class table (CSV)", table, f"{run.name} per class", "dl_per_class")

# ---- Disagreement -------------------------------------------------------------------------------------
st.subheader(f"Where {a} and {b} disagree")
d = metrics.disagreement(ev.labels, ev.result(a).predictions.preds, ev.result(b).predictions.preds)
agree = pd.DataFrame([[d.both, d.only_a], [d.only_b, d.neither]],  # short names: the table fits a phone
                     index=[f"{na} right", f"{na} wrong"], columns=[f"{nb} right", f"{nb} wrong"])
ui.table(agree)
st.markdown(ui.mcnemar_reading(metrics.mcnemar(d.only_a, d.only_b), a, b))
ui.csv_download("Agreement table (CSV)", agree, f"{run.name} agreement", "dl_agree")

# ---- Shift robustness --------------------------------------------------------------------------------
ui.shift_section(run)
equivariance_section(run)

# ---- Galleries ---------------------------------------------------------------------------------------
st.subheader("Galleries")
ui.galleries(ev, originals, a, b, names)

# ---- Inside the CNN ----------------------------------------------------------------------------------
cnns = [r.label for r in ev.results if r.is_cnn]
st.subheader("Inside the CNN")
if not cnns:
    st.info("This run has no convolutional model: there are no kernels or feature maps to show.")
    st.stop()
left, right = st.columns(2)
model = left.selectbox("CNN", cnns, key="eval_cnn")
index = int(right.number_input("Test image #", 0, len(ev.labels) - 1, 0, key="eval_image"))
kernels, maps = ui.inside_cnn(run, model, originals, index)
p = ev.result(model).predictions
st.caption(f"Image #{index}: true {classes[ev.labels[index]]}, {model} says {classes[p.preds[index]]} "
           f"({p.confidence[index]:.0%}).")
img_col, kernel_col = st.columns([1, 3])
img_col.plotly_chart(ui.input_figure(ev, originals, index), width="stretch", key="inside_image")
kernel_col.plotly_chart(plots.kernels_figure(kernels), width="stretch", key="kernels")
st.caption("Each kernel is a small grid of weights slid over the image: blue weights reward bright pixels, "
           "red ones penalise them. A feature map is the result of sliding one kernel over the layer's "
           "input: bright where the pattern the kernel encodes is present.")
for fm in maps:
    st.plotly_chart(plots.feature_maps_figure(fm.maps, f"{fm.label}: {fm.maps.shape[0]} maps of "
                                              f"{fm.maps.shape[1]}×{fm.maps.shape[2]}"),
                    width="stretch", key=f"maps_{fm.name}")

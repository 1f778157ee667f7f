"""The Lesson's core: every step is well formed, every reveal picks the answer its numbers give and states those
numbers, and the handout is one self-contained HTML page. Oracles: torch for shapes and parameter counts, the
sweep's own images_to_match for the sweep."""
from __future__ import annotations

import re
import subprocess
import sys

import pandas as pd
import plotly.graph_objects as go
import pytest
import torch
from torch import nn

from cnn_dash import lesson, reveals
from cnn_dash.handout import Entry, handout_html
from cnn_dash.experiments import Decomposition, decomposition
from cnn_dash.lesson import STEPS
from cnn_dash.reveals import Reveal
from cnn_dash.presets import PRESETS, quick_demo
from cnn_dash.records import ModelResult, Status
from cnn_dash.shapes import trace
from cnn_dash.sweep import images_to_match

CNN, FC = quick_demo()[1]


def result(label: str, acc: float) -> ModelResult:
    return ModelResult(label, Status.FINISHED, 100, 0.1, 0.9, 0.2, acc, None, 1.0, 1000.0)


def results(cnn: float, fc: float) -> dict[str, ModelResult]:
    return {CNN.label: result(CNN.label, cnn), FC.label: result(FC.label, fc)}


def test_the_core_imports_neither_torch_nor_streamlit():
    code = "import sys, cnn_dash.lesson, cnn_dash.handout; print('torch' in sys.modules, 'streamlit' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_every_step_has_one_idea_a_question_and_two_to_four_answers():
    assert 8 <= len(STEPS) <= 10 and len(set(lesson.STEP_KEYS)) == len(STEPS)
    for step in STEPS:
        assert len(re.findall(r"[.!?](\s|$)", step.idea)) <= 2, step.idea  # at most two sentences
        assert step.question.endswith("?") and 2 <= len(step.answers) <= 4
        assert step.notes.say and step.notes.misconception and step.notes.follow_up


def test_the_shape_reveal_matches_torch():
    first = trace(CNN.net)[0]
    args = first.layer.kwargs()
    conv = nn.Conv2d(1, args["out_channels"], args["kernel_size"], args["stride"], args["padding"])
    c, h, w = conv(torch.zeros(1, 1, 28, 28)).shape[1:]
    reveal = reveals.shape_reveal(28, args["kernel_size"], args["stride"], args["padding"], first.out_shape)
    assert lesson.step("shape").answers[reveal.answer] == f"{h}×{w}"
    assert f"{c}×{h}×{w}" in reveal.finding and f"= {h} per side" in reveal.finding
    assert reveals.shape_reveal(28, 3, 1, 0, (4, 26, 26)).answer == -1  # none of the listed sizes


def params(net) -> int:
    from cnn_dash.build import build_model
    return sum(p.numel() for p in build_model(net).parameters())


def test_the_parameter_reveal_matches_torch_counts():
    cnn, fc = params(CNN.net), params(FC.net)
    reveal = reveals.params_reveal("the CNN", cnn, "the FC net", fc)
    assert fc > 1.5 * cnn and reveal.answer == 2  # the race's FC net has 9x the CNN's parameters
    assert f"{cnn:,}" in reveal.finding and f"{fc:,}" in reveal.finding and f"{fc / cnn:.1f}×" in reveal.finding
    same = params(PRESETS["FCNet (CNN notebook)"])
    assert reveals.params_reveal("a", cnn, "b", same).answer == 1  # 11,322 vs 12,730: about the same
    assert reveals.params_reveal("a", 3 * same, "b", same).answer == 0


@pytest.mark.parametrize("cnn_macs, fc_macs, answer", [(206_250, 101_770, 0), (100_000, 120_000, 1), (1, 10, 2)])
def test_the_compute_reveal_compares_multiply_adds(cnn_macs, fc_macs, answer):
    reveal = reveals.compute_reveal("C", 11_322, cnn_macs, "F", 101_770, fc_macs)
    assert reveal.answer == answer and f"{cnn_macs:,}" in reveal.finding and f"{fc_macs:,}" in reveal.finding
    assert f"{cnn_macs / 11_322:.0f} per parameter against {fc_macs / 101_770:.0f}" in reveal.finding


@pytest.mark.parametrize("cnn, fc, answer, words", [(0.954, 0.922, 0, "the CNN leads by 3.2 points"),
                                                     (0.90, 0.93, 1, "the FC net leads by 3.0 points"),
                                                     (0.951, 0.948, 2, "level")])
def test_the_race_reveal_names_the_winner_from_the_accuracies(cnn, fc, answer, words):
    reveal = reveals.race_reveal((CNN, FC), results(cnn, fc), 2000, why_not="a hint")
    assert reveal.answer == answer and words in reveal.finding
    assert f"CNN {cnn:.1%}, FC net {fc:.1%}" in reveal.finding and "2,000 images" in reveal.finding
    assert (reveal.takeaway == "a hint") == (answer != 0)


@pytest.mark.parametrize("real, shuffled, answer", [((0.95, 0.92), (0.945, 0.918), 0), ((0.95, 0.92), (0.93, 0.92), 1),
                                                    ((0.95, 0.92), (0.92, 0.92), 2), ((0.90, 0.92), (0.88, 0.92), 2)])
def test_the_shuffle_reveal_reads_how_the_lead_changed(real, shuffled, answer):
    reveal = reveals.shuffle_reveal(real, shuffled)
    assert reveal.answer == answer
    lead, new = 100 * (real[0] - real[1]), 100 * (shuffled[0] - shuffled[1])
    assert f"lead {lead:+.1f} points" in reveal.finding and f"lead {new:+.1f})" in reveal.finding


class FakeCurve:
    def __init__(self, label: str, accs: tuple[float, ...]):
        self.label, self.accs = label, accs

    def at(self, shift: int) -> float:
        return self.accs[shift]


@pytest.mark.parametrize("cnn, fc, answer", [((0.95, 0.9, 0.8, 0.53), (0.92, 0.8, 0.6, 0.35), 1),
                                             ((0.95, 0.9, 0.8, 0.50), (0.92, 0.9, 0.8, 0.80), 0),
                                             ((0.95, 0.9, 0.8, 0.50), (0.92, 0.9, 0.8, 0.48), 2)])
def test_the_shift_reveal_compares_the_drops_at_three_pixels(cnn, fc, answer):
    curves = [FakeCurve(FC.label, fc), FakeCurve(CNN.label, cnn)]
    reveal = reveals.shift_reveal((CNN, FC), curves)
    assert reveal.answer == answer
    assert f"from {cnn[0]:.1%} to {cnn[3]:.1%} ({-100 * (cnn[0] - cnn[3]):+.1f} points)" in reveal.finding
    assert f"from {fc[0]:.1%} to {fc[3]:.1%}" in reveal.finding


def sweep(rows: list[tuple[int, float, float]]) -> pd.DataFrame:
    return pd.DataFrame([(n, label, kind, acc, 2, "run", "finished") for n, cnn, fc in rows
                         for label, kind, acc in ((CNN.label, "CNN", cnn), (FC.label, "FC", fc))],
                        columns=["images", "model", "kind", "test_acc", "epochs", "run", "status"])


@pytest.mark.parametrize("rows, answer", [([(100, .71, .72), (300, .88, .85), (1000, .93, .88), (3000, .95, .91)], 0),
                                          ([(100, .70, .72), (1000, .93, .92), (3000, .95, .94)], 1),
                                          ([(100, .70, .72), (1000, .80, .92)], 2)])
def test_the_sweep_reveal_uses_the_images_the_cnn_needed(rows, answer):
    frame = sweep(rows)
    reveal = reveals.sweep_reveal(frame)
    assert reveal.answer == answer
    match = images_to_match(frame)
    if match is None:
        assert f"{frame[frame['kind'] == 'FC']['test_acc'].max():.1%}" in reveal.finding
    else:
        acc, fc_images, cnn_images = match
        assert f"{acc:.1%}, on {fc_images:,} images" in reveal.finding and f"with {cnn_images:,}" in reveal.finding


@pytest.mark.parametrize("fc, local, cnn, answer", [(0.90, 0.95, 0.96, 0), (0.90, 0.91, 0.96, 1),
                                                    (0.90, 0.93, 0.96, 2), (0.90, 0.88, 0.96, 1),
                                                    (0.90, 0.97, 0.96, 0), (0.95, 0.97, 0.952, 3),
                                                    (0.95, 0.90, 0.93, 3)])
def test_the_decomposition_reveal_splits_the_lead_from_the_three_accuracies(fc, local, cnn, answer):
    d = Decomposition(fc, local, cnn)
    reveal = reveals.decomposition_reveal(d)
    assert reveal.answer == answer
    assert f"CNN {cnn:.1%}, locally connected {local:.1%}, FC net {fc:.1%}" in reveal.finding
    if answer == 3 and cnn < fc:
        assert f"the FC net leads by {100 * (fc - cnn):.1f} points" in reveal.finding
    elif answer == 3:
        assert f"level within half a point ({100 * (cnn - fc):+.1f})" in reveal.finding
    else:
        assert f"{100 * (cnn - fc):.1f}-point lead, small windows give {100 * (local - fc):+.1f} points and shared " \
               f"weights {100 * (cnn - local):+.1f}." in reveal.finding
        share = (local - fc) / (cnn - fc)
        assert (share >= reveals.MOSTLY) == (answer == 0) and (share <= 1 - reveals.MOSTLY) == (answer == 1)


def test_the_decomposition_is_read_from_each_kind_of_net_of_the_experiment():
    models = decomposition().models  # whatever order and optimizers the experiment's preset uses
    accs = {m.label: acc for m, acc in zip(models, (0.81, 0.82, 0.83))}
    d = reveals.decomposition_of(models, {label: result(label, acc) for label, acc in accs.items()})
    by_kind = {("cnn" if m.net.is_cnn else "local" if m.net.is_local else "fc"): accs[m.label] for m in models}
    assert (d.fc, d.local, d.cnn) == (by_kind["fc"], by_kind["local"], by_kind["cnn"])
    with pytest.raises(ValueError):
        reveals.decomposition_of(models, {})


@pytest.mark.parametrize("cnn_says, fc_says, answer", [(7, 7, 0), (7, 1, 1), (1, 7, 2), (1, 2, 3)])
def test_the_drawing_reveal_scores_both_nets_against_what_was_drawn(cnn_says, fc_says, answer):
    def probs(best: int) -> list[float]:
        return [0.9 if i == best else 0.1 / 9 for i in range(10)]

    classes = tuple(str(d) for d in range(10))
    reveal = reveals.draw_reveal((CNN, FC), {CNN.label: probs(cnn_says), FC.label: probs(fc_says)}, 7, classes)
    assert reveal.answer == answer
    assert f"The CNN says {cnn_says} (90% sure), the FC net {fc_says} (90% sure)" in reveal.finding
    kept = reveals.draw_reveal((CNN, FC), {CNN.label: probs(cnn_says), FC.label: probs(fc_says)}, 7, classes, True)
    assert kept.answer == answer and kept.finding == reveal.finding and "as drawn" in kept.takeaway
    assert "centred drawing" not in kept.takeaway  # a drawing kept as drawn is not said to be centred


def test_the_handout_is_one_offline_page_with_every_chart():
    figures = (go.Figure(go.Bar(x=[1], y=[2])), go.Figure(go.Scatter(x=[1], y=[2])))
    entries = [Entry(STEPS[0], Reveal(2, "Found <b>14</b>.", "Take this."), guess=1, source="2.0 s", figures=figures),
               Entry(STEPS[1], None, guess=0),
               Entry(STEPS[2], Reveal(0, "More.", "Reuse."), figures=(go.Figure(),))]
    page = handout_html(entries, "What we found today", "MNIST")
    assert page.count("Plotly.newPlot") == 3 and page.count("<script src=") == 0  # nothing fetched from a network
    assert page.count("plotly.js v") == 1  # the library inlined once, with the first chart
    assert "Found &lt;b&gt;14&lt;/b&gt;." in page  # every text escaped
    assert "The class guessed: 24×24 — not this time." in page and "Not run in this lesson." in page
    assert "<li class=right>14×14</li>" in page

"""The Lesson's answers: each step's `*_reveal` picks the right answer among the step's `answers` (cnn_dash.lesson)
and writes the finding from the numbers of the step's own run. Torch-free: plain numbers in, sentences out;
tests/test_lesson.py checks every sentence against them.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Callable, Protocol

import pandas as pd

from cnn_dash.experiments import Decomposition
from cnn_dash.lesson import SHIFT, step
from cnn_dash.records import ModelResult
from cnn_dash.specs import ModelConfig
from cnn_dash.sweep import images_to_match

LEVEL = 0.005  # accuracies within half a point are level: the test set's noise is about that large
SAME_RATIO = 1.5  # counts within 1.5x of each other are "about the same"
SHIFT_LEVEL = 0.02  # drops within 2 points of each other are "about the same"
KEPT = 0.75  # a shuffled lead at least this share of the real one "stays as large"
MOSTLY = 0.6  # one part of the CNN's lead is "mostly" where it comes from when it is at least this share of it


@dataclass(frozen=True)
class Reveal:
    """The answer a run gave: the index into its step's answers, the finding with the run's numbers, the takeaway."""

    answer: int
    finding: str
    takeaway: str


def _times(a: float, b: float) -> str:
    return f"{a / b:.1f}×" if b else "∞×"


def _three_way(a: float, b: float) -> int:
    """0 when a is over SAME_RATIO times b, 2 when b is over SAME_RATIO times a, else 1 (about the same)."""
    if a > SAME_RATIO * b:
        return 0
    return 2 if b > SAME_RATIO * a else 1


def shape_reveal(in_size: int, kernel: int, stride: int, padding: int, out_shape: Sequence[int]) -> Reveal:
    """The shape step, from the shape calculator's output (C, H, W) of the layer."""
    channels, h, w = out_shape
    answers = step("shape").answers
    answer = answers.index(f"{h}×{w}") if f"{h}×{w}" in answers else -1
    return Reveal(answer, f"The output is {channels}×{h}×{w}: ({in_size} + 2·{padding} − {kernel}) // {stride} + 1 = "
                          f"{h} per side: one value every {stride} pixels, each seeing a {kernel}×{kernel} patch.",
                  "Output size = (input + 2·padding − kernel) // stride + 1: no guessing, and no hard-coded "
                  "in_features for the first Linear layer.")


def params_reveal(cnn: str, cnn_params: int, fc: str, fc_params: int) -> Reveal:
    """The parameter step, from both nets' parameter counts."""
    answer = _three_way(cnn_params, fc_params)
    if answer == 2:
        ratio = f"the FC net has {_times(fc_params, cnn_params)} as many"
        takeaway = "Fewer parameters is not a handicap: the CNN spends its few weights where they count."
    elif answer == 0:
        ratio = f"the CNN has {_times(cnn_params, fc_params)} as many"
        takeaway = "Here the CNN is the larger net: keep that in mind when you compare their accuracies."
    else:
        ratio = f"about the same ({_times(cnn_params, fc_params)})"
        takeaway = "Same budget: any difference in accuracy comes from how the parameters are used."
    return Reveal(answer, f"{cnn} has {cnn_params:,} parameters, {fc} {fc_params:,}: {ratio}.", takeaway)


def compute_reveal(cnn: str, cnn_params: int, cnn_macs: int, fc: str, fc_params: int, fc_macs: int) -> Reveal:
    """The compute step, from both nets' parameters and multiply-adds per image."""
    answer = _three_way(cnn_macs, fc_macs)
    per = f"{cnn_macs / cnn_params:.0f} per parameter against {fc_macs / fc_params:.0f}"
    finding = (f"For one image {cnn} does {cnn_macs:,} multiply-adds, {fc} {fc_macs:,} "
               f"({_times(cnn_macs, fc_macs)}): {per}.")
    takeaway = ("A CNN buys accuracy with reuse, not with size: few weights, each used many times." if answer == 0
                else "Reuse is what a convolution does: count both parameters and multiply-adds before you compare.")
    return Reveal(answer, finding, takeaway)


def _best(models: Sequence[ModelConfig], results: Mapping[str, ModelResult], cnn: bool) -> tuple[str, float] | None:
    """(label, test accuracy) of the best tested model of one kind."""
    scored = [(m.label, results[m.label].test_acc) for m in models
              if m.net.is_cnn == cnn and m.label in results and results[m.label].test_acc is not None]
    return max(scored, key=lambda pair: pair[1]) if scored else None


def cnn_lead(models: Sequence[ModelConfig], results: Mapping[str, ModelResult]) -> tuple[float, float]:
    """(best CNN's, best FC net's) test accuracy of a run; ValueError when a kind has no tested model."""
    cnn, fc = _best(models, results, True), _best(models, results, False)
    if cnn is None or fc is None:
        raise ValueError("the run has no tested CNN or no tested FC net")
    return cnn[1], fc[1]


def race_reveal(models: Sequence[ModelConfig], results: Mapping[str, ModelResult], test_images: int,
                why_not: str | None = None) -> Reveal:
    """The race, from the run's final test accuracies; `why_not` (hints.why_cnn_lost) when the FC net won."""
    cnn, fc = cnn_lead(models, results)
    lead = cnn - fc
    answer = 2 if abs(lead) < LEVEL else 0 if lead > 0 else 1
    leader = ("level" if answer == 2 else f"the CNN leads by {100 * lead:.1f} points" if answer == 0
              else f"the FC net leads by {-100 * lead:.1f} points")
    finding = f"Test accuracy on {test_images:,} images: CNN {cnn:.1%}, FC net {fc:.1%}: {leader}."
    takeaway = ("Built-in assumptions (nearby pixels belong together; a stroke means the same anywhere) beat "
                "raw size." if answer == 0 else why_not or "On this run the CNN did not pull ahead: train longer "
                "on the Training page and compare.")
    return Reveal(answer, finding, takeaway)


def shuffle_reveal(real: tuple[float, float], shuffled: tuple[float, float]) -> Reveal:
    """The shuffle step, from (CNN, FC net) test accuracy on real and on shuffled pixels."""
    real_lead, lead = real[0] - real[1], shuffled[0] - shuffled[1]
    if lead <= LEVEL:
        answer = 2
    else:
        answer = 0 if real_lead <= LEVEL or lead >= KEPT * real_lead else 1
    finding = (f"Real images: CNN {real[0]:.1%}, FC net {real[1]:.1%} (lead {100 * real_lead:+.1f} points). "
               f"Shuffled: CNN {shuffled[0]:.1%}, FC net {shuffled[1]:.1%} (lead {100 * lead:+.1f}).")
    fc_change = 100 * (shuffled[1] - real[1])
    if real_lead <= LEVEL:
        takeaway = "The CNN did not lead on real images in this run, so the shuffle had no lead to take away."
    elif answer == 0:
        takeaway = "On this run the shuffle did not cost the CNN its lead: the nets learned other cues than neighbours."
    else:
        takeaway = (f"The FC net does not care where a pixel is ({fc_change:+.1f} points); the CNN's edge came "
                    f"from neighbouring pixels, and shuffling took {'most of it' if answer == 1 else 'all of it'}.")
    return Reveal(answer, finding, takeaway)


class Curve(Protocol):
    """A shift curve (cnn_dash.shift.ShiftCurve) as this module reads it."""

    label: str

    def at(self, shift: int) -> float: ...


def shift_reveal(models: Sequence[ModelConfig], curves: Sequence[Curve], shift: int = SHIFT) -> Reveal:
    """The shift step, from the first CNN's and the first FC net's accuracy at 0 and `shift` pixels."""
    kinds = {m.label: m.net.is_cnn for m in models}
    cnn = next(c for c in curves if kinds.get(c.label))
    fc = next(c for c in curves if kinds.get(c.label) is False)
    cnn_drop, fc_drop = cnn.at(0) - cnn.at(shift), fc.at(0) - fc.at(shift)
    answer = 2 if abs(cnn_drop - fc_drop) < SHIFT_LEVEL else 0 if cnn_drop > fc_drop else 1
    finding = (f"Moved {shift} pixels, the CNN falls from {cnn.at(0):.1%} to {cnn.at(shift):.1%} "
               f"({-100 * cnn_drop:+.1f} points), the FC net from {fc.at(0):.1%} to {fc.at(shift):.1%} "
               f"({-100 * fc_drop:+.1f}).")
    takeaway = ("An FC net has one weight per pixel position, so a moved digit is a new input; the CNN's shared "
                "kernels find the same strokes anywhere." if answer == 1 else
                "On this run both nets suffer alike: shared kernels alone do not make a net shift-proof; pooling "
                "and training on moved copies help more.")
    return Reveal(answer, finding, takeaway)


def sweep_reveal(frame: pd.DataFrame) -> Reveal:
    """The sweep step, from a finished sweep's frame (cnn_dash.sweep.sweep_frame)."""
    match = images_to_match(frame)
    done = frame[(frame["status"] == "finished") & frame["test_acc"].notna() & (frame["kind"] == "FC")]
    if match is None:
        best = done["test_acc"].max() if not done.empty else float("nan")
        return Reveal(2, f"The CNN never reached the FC net's best ({best:.1%}) on these sizes.",
                      "On this sweep the FC net kept up; with so few images both nets mostly memorise, and the seed "
                      "decides more than the architecture.")
    acc, fc_images, cnn_images = match
    answer = 0 if fc_images >= 2 * cnn_images else 1
    finding = (f"The FC net's best was {acc:.1%}, on {fc_images:,} images; the CNN did as well with "
               f"{cnn_images:,} ({fc_images / cnn_images:.0f}× fewer).")
    takeaway = ("What a CNN builds in, an FC net must learn from examples: the CNN needs fewer of them."
                if answer == 0 else "On this sweep the CNN needed about as many images: its edge shows at the "
                                    "larger sizes.")
    return Reveal(answer, finding, takeaway)


def draw_reveal(models: Sequence[ModelConfig], probabilities: Mapping[str, Sequence[float]], truth: int,
                classes: Sequence[str], kept: bool = False) -> Reveal:
    """The drawing step, from every model's class probabilities and the class the teacher says was drawn (`kept`:
    where and how big it was drawn, not centred and scaled); the first CNN and the first FC net are scored."""
    cnn = next(m.label for m in models if m.net.is_cnn)
    fc = next(m.label for m in models if not m.net.is_cnn)
    said = {label: max(range(len(p)), key=lambda i: p[i]) for label, p in probabilities.items()}
    right = (said[cnn] == truth, said[fc] == truth)
    answer = {(True, True): 0, (True, False): 1, (False, True): 2, (False, False): 3}[right]
    finding = (f"It is a {classes[truth]}. The CNN says {classes[said[cnn]]} "
               f"({probabilities[cnn][said[cnn]]:.0%} sure), the FC net {classes[said[fc]]} "
               f"({probabilities[fc][said[fc]]:.0%} sure).")
    if kept:  # each takeaway says the drawing was kept as drawn (the handout reads it without the screen)
        takeaway = {0: "Both read it as drawn: draw it smaller or further off-centre and ask again.",
                    1: "Kept as drawn, the CNN read it and the FC net did not: the FC net's weights belong to pixel "
                       "positions.",
                    2: "Kept as drawn, the FC net read it and the CNN did not: one drawing is one sample.",
                    3: "Neither read it as drawn: both learned from MNIST's centred, 20-pixel digits."}[answer]
        return Reveal(answer, finding, takeaway)
    takeaway = {0: "On a clean, centred drawing both nets are right: their differences show on moved, shrunk or "
                   "shuffled inputs.",
                1: "The CNN's kernels found strokes the FC net's fixed pixel weights did not expect.",
                2: "This time the FC net read it and the CNN did not: one drawing is one sample, not a test set.",
                3: "Neither read it: both learned from MNIST's writers, and a drawing unlike theirs fools both."}[answer]
    return Reveal(answer, finding, takeaway)


def decomposition_of(models: Sequence[ModelConfig], results: Mapping[str, ModelResult]) -> Decomposition:
    """The test accuracies of a locality-vs-sharing run's FC net, locally connected net and CNN; ValueError when one
    of the three was not tested."""
    def acc(kind: Callable[[ModelConfig], bool]) -> float:
        found = [results[m.label].test_acc for m in models if kind(m) and m.label in results]
        if not found or found[0] is None:
            raise ValueError("the run has no tested FC net, locally connected net or CNN")
        return found[0]

    return Decomposition(acc(lambda m: not m.net.is_cnn and not m.net.is_local), acc(lambda m: m.net.is_local),
                         acc(lambda m: m.net.is_cnn))


def decomposition_reveal(d: Decomposition) -> Reveal:
    """The locality-vs-sharing step, from the three nets' test accuracies (the Training page's sentence,
    experiments.decomposition_sentence, says the same at length); the answer is the part worth at least MOSTLY of
    the lead, or no lead to split within the test set's noise (LEVEL)."""
    accs = f"CNN {d.cnn:.1%}, locally connected {d.local:.1%}, FC net {d.fc:.1%}"
    if d.lead <= -LEVEL:
        return Reveal(3, f"{accs}: the FC net leads by {-100 * d.lead:.1f} points, so the CNN has no lead to split.",
                      "On this run the CNN did not pull ahead: train on more images on the Training page and try "
                      "again.")
    if d.lead < LEVEL:
        return Reveal(3, f"{accs}: level within half a point ({100 * d.lead:+.1f}), the test set's noise.",
                      "Nothing to split on this run: train on more images on the Training page and try again.")
    share = d.locality / d.lead
    answer = 0 if share >= MOSTLY else 1 if share <= 1 - MOSTLY else 2
    finding = (f"{accs}. Of the CNN's {100 * d.lead:.1f}-point lead, small windows give {100 * d.locality:+.1f} "
               f"points and shared weights {100 * d.sharing:+.1f}.")
    takeaway = {0: "Small windows do most of the work; sharing one kernel then needs a fraction of the parameters.",
                1: "Small windows alone are not enough: one kernel learning from every position lifts the CNN.",
                2: "Both assumptions pull their weight: small windows, and one kernel for every position."}[answer]
    return Reveal(answer, finding, takeaway)

"""Every sentence the Training and Evaluation pages print about a run, checked against that run's numbers: runs
of each kind (the CNN wins, the FC net wins, a tie, shuffled pixels beside real ones, a diverged model, a stopped
run, a CNN without pooling) built from progress records directly, without training."""
from __future__ import annotations

import re
from dataclasses import replace
from types import SimpleNamespace as NS

import pytest
from streamlit.testing.v1 import AppTest

from cnn_dash import hints
from cnn_dash.presets import PRESETS
from cnn_dash.records import Progress, Status
from cnn_dash.runs import Run
from cnn_dash.specs import ModelConfig, OptimizerSpec, TrainSettings
from cnn_dash.ui.evaluation import verdict

SGD = OptimizerSpec("sgd", 0.01, 0.9)
CNN = ModelConfig.lettered("A", PRESETS["ConvNet + ReLU (CNN notebook)"], SGD)  # pools
FC = ModelConfig.lettered("B", PRESETS["FCNet (CNN notebook)"], SGD)
FLAT_CNN = ModelConfig.lettered("A", PRESETS["Small CNN (batch norm)"], OptimizerSpec("adam", 0.001))
SETTINGS = TrainSettings("MNIST", 2000, 64, 2, 0, source="bundled")  # 32 steps per epoch, 64 in all
STEPS = 64


def records(label: str, test_acc: float | None, status: Status = Status.FINISHED, steps: int = STEPS,
            note: str = "") -> list[Progress]:
    """One model's history: a record every 8 steps, the test set evaluated at each epoch's end and at its last."""
    out = []
    for step in range(8, steps + 1, 8):
        last = step == steps
        tested = step % 32 == 0 or last
        acc = test_acc if last else (test_acc or 0.5) * step / steps
        out.append(Progress(label, step, STEPS, step / 32, 0.5, 0.8, 1000.0, step / 10,
                            *((0.3, acc) if tested and acc is not None else (None, None)),
                            note=note if last else "", status=status if last else Status.TRAINING,
                            train_images=64 * (step - 32 * ((step - 1) // 32))))
    return out


def run_of(accs: dict[ModelConfig, float | None], settings: TrainSettings = SETTINGS, status: Status = Status.FINISHED,
           statuses: dict[ModelConfig, Status] | None = None, steps: int = STEPS, notes: dict | None = None) -> Run:
    run = Run(settings, tuple(accs), name="Run 1")
    for m, acc in accs.items():
        model_status = (statuses or {}).get(m, Status.STOPPED if status == Status.STOPPED else Status.FINISHED)
        run.training.history += records(m.label, acc, model_status, steps, (notes or {}).get(m, ""))
    run.training.status = status  # a Run shows its Training (issue 24): numbers are set there
    return run


class Sessions:
    """What run_card asks of a session's registry: its trained runs (for the shuffle's twin)."""

    def __init__(self, *runs: Run):
        self._runs = list(runs)

    def trained(self) -> list[Run]:
        return self._runs


def card_text(run: Run, *others: Run) -> str:
    """Every text the Training page's card of `run` prints, with the session's other runs beside it."""
    def page(run, registry):
        from cnn_dash.ui.run_card import run_card

        run_card(run, registry)

    at = AppTest.from_function(page, args=(run, Sessions(*others, run)), default_timeout=60).run()
    assert not at.exception, at.exception
    return "\n".join(e.value for kind in ("markdown", "caption", "info", "warning", "error") for e in getattr(at, kind))


def evaluation_sentence(run: Run) -> str:
    """The Evaluation page's verdict on `run`, its models scored at their last test accuracies."""
    ev = NS(results=tuple(NS(label=m.label, report=NS(accuracy=run.results[m.label].test_acc))
                          for m in run.models if run.results[m.label].test_acc is not None))
    return " ".join(verdict(ev, run))


def numbers(text: str) -> list[float]:
    return [float(x) for x in re.findall(r"(\d+\.\d+)%", text)]


def test_the_cnn_wins():
    run = run_of({CNN: 0.971, FC: 0.934})
    text = card_text(run)
    assert f"Test accuracy after 4,000 training images: {CNN.named} **97.1%** · {FC.named} **93.4%**" in text
    assert "Why the FC net won" not in text and "nan" not in text.lower()
    assert evaluation_sentence(run) == (f"on this run the CNN wins On this run the CNN wins: {CNN.label} 97.10% vs "
                                        f"{FC.label} 93.40% test accuracy.")


def test_the_fc_net_wins_and_both_pages_give_the_same_reason():
    run = run_of({CNN: 0.90, FC: 0.934})
    reason = hints.why_cnn_lost(run.settings, run.models, run.results, len(run.dataset.train_labels))
    assert reason.startswith("Too few steps for SGD at this rate: 64 steps of lr 0.01")  # 2 × 32 steps, as run
    assert f"**Why the FC net won this run.** {reason}" in card_text(run)
    sentence = evaluation_sentence(run)
    assert sentence.startswith(f"on this run the FC net wins On this run the FC net wins: {FC.label} 93.40% vs "
                               f"{CNN.label} 90.00% test accuracy.")
    assert sentence.endswith(reason)


def test_a_tie_is_a_tie_on_both_pages():
    run = run_of({CNN: 0.9300, FC: 0.9305})  # 0.05 points apart
    assert "Why the FC net won" not in card_text(run)
    assert evaluation_sentence(run).startswith("on this run the CNN and the FC net tie")
    assert not hints.cnn_lost(run.models, run.results)


def test_the_shuffle_says_how_the_lead_changed():
    real = run_of({CNN: 0.97, FC: 0.91})
    shuffled = run_of({CNN: 0.923, FC: 0.903}, replace(SETTINGS, permute_pixels=True))
    text = card_text(shuffled, real)
    assert "Once the pixels are shuffled, the CNN's lead shrank from 6.0 to 2.0 points." in text
    line = next(line for line in text.splitlines() if "**Real images**" in line)
    assert numbers(line) == [97.0, 91.0, 92.3, 90.3]  # the scores the verdict is computed from
    assert "advantage is gone" not in text
    assert hints.shuffle_verdict(6.0, 0.04) == "the CNN's lead of 6.0 points is gone: the two are level (within " \
                                                "0.1 points)."
    assert hints.shuffle_verdict(6.0, -1.5) == ("the CNN's lead of 6.0 points turned into the FC net's lead of "
                                                "1.5 points.")
    assert hints.shuffle_verdict(2.0, 3.0) == "the CNN's lead grew from 2.0 to 3.0 points."
    assert "did not lead" in hints.shuffle_verdict(-1.0, -2.0)


def test_a_diverged_cnn_is_named_with_its_step_and_the_same_reason_on_both_pages():
    run = run_of({CNN: 0.2, FC: 0.91})
    note = "its loss became NaN or infinite"
    run.training.history = [p for p in run.history if p.label == FC.label or p.step < 16] + [
        Progress(CNN.label, 16, STEPS, 0.5, 2.1, 0.3, 1000.0, 1.6, note=note, status=Status.DIVERGED)]
    assert run.results[CNN.label].diverged_at == 17
    text = card_text(run)
    assert f"{CNN.label} diverged at step 17: {note}, so it stopped there." in text
    reason = f"{CNN.label} diverged ({note}): its learning rate 0.01 is too large; try 0.001."
    assert f"**Why the FC net won this run.** {reason}" in text
    assert "nan%" not in text.lower() and f"{CNN.named} **" not in text  # the diverged model has no test accuracy
    # The Evaluation page scores the CNN's last finite weights: the FC net still wins, for the same reason.
    ev = NS(results=(NS(label=CNN.label, report=NS(accuracy=0.113)), NS(label=FC.label, report=NS(accuracy=0.91))))
    title, sentence = verdict(ev, run)
    assert title == "on this run the FC net wins" and sentence.endswith(reason)


def test_a_stopped_run_says_it_was_stopped_early():
    run = run_of({CNN: 0.60, FC: 0.80}, status=Status.STOPPED, steps=24)
    reason = "The run was stopped after 24 of its 64 steps per model: too early for the CNN to pull ahead."
    assert reason in card_text(run)
    assert reason in evaluation_sentence(run)


@pytest.mark.parametrize("cnn, pooled", [(CNN, True), (FLAT_CNN, False)])
def test_pooling_is_named_only_for_a_cnn_that_pools(cnn, pooled):
    text = hints.shift_mechanism((cnn, FC))
    assert ("pooling" in text) == pooled and (cnn.label in text) == pooled
    reading = hints.shift_reading((cnn, FC), {cnn.label: 0.98, FC.label: 0.97}, {cnn.label: 0.80, FC.label: 0.45}, 3)
    assert reading == (f"Moved by 3 px: {cnn.label} (CNN) 80.0%, -18.0 points · {FC.label} (FC net) 45.0%, "
                       f"-52.0 points. {cnn.label} lost 18.0 points, {FC.label} 52.0: here the CNN copes better with "
                       "a moved image.")
    worse = hints.shift_reading((cnn, FC), {cnn.label: 0.98, FC.label: 0.97}, {cnn.label: 0.40, FC.label: 0.45}, 3)
    assert worse.endswith("here the FC net copes better with a moved image.")


def test_before_the_first_test_the_race_line_says_over_which_training_images():
    from cnn_dash.ui.run_card import race_line

    run = run_of({CNN: 0.97, FC: 0.93})
    run.training.history = [p for p in run.history if p.step == 8]  # one record each, before any test
    run.training.status = Status.RUNNING
    (cnn, fc) = run.history
    assert race_line(run) == (f"Accuracy while training, each image counted as it was trained on, over the first "
                              f"{cnn.train_images:,} training images: {CNN.named} **{cnn.train_acc:.1%}** · "
                              f"{FC.named} **{fc.train_acc:.1%}**")
    assert cnn.train_images == 8 * 64

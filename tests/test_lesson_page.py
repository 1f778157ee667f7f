"""The Lesson page in AppTest: every step walked with Next, every action run, and every revealed answer checked
against the numbers of its own run (recomputed here from the runs in the session's registry); the step in the URL;
a step started twice reuses its result.

AppTest waits neither for the scheduler's threads nor for fragment timers: the walk polls the runs, then reruns.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from cnn_dash import drawing, experiments, inference, lesson, presets, reveals, shift
from cnn_dash.data import load_dataset
from cnn_dash.registry import RunRegistry
from cnn_dash.sweep import images_to_match, sweep_frame
from cnn_dash.ui.training import REGISTRY_KEY
from tests.conftest import APP, wait_for_run
from tests.test_draw_page import png_of

PAGE = "pages/lesson.py"


SUBSET = 2_000  # the race's training images here (the page's: all 10,000 of the sample); bench_lesson times those


@pytest.fixture
def sched(scheduler, monkeypatch):
    """The test's one-slot scheduler (conftest) as the process's, on the bundled sample, with a shorter race and a
    sweep up to 1,000 images: every reveal is checked against whatever its run gives."""
    monkeypatch.delenv("CNN_DASH_DATA_DIR", raising=False)
    monkeypatch.setattr("cnn_dash.scheduler._scheduler", scheduler)
    plan = lesson.race_plan
    monkeypatch.setattr(lesson, "race_plan", lambda dataset, size: (
        replace(plan(dataset, size)[0], train_subset=SUBSET), plan(dataset, size)[1]))
    monkeypatch.setattr(lesson, "SWEEP_MAX_IMAGES", 1_000)
    monkeypatch.setattr(lesson, "DECOMPOSE_MAX_IMAGES", SUBSET)
    return scheduler


def open_lesson(sched, step: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state[REGISTRY_KEY] = RunRegistry(sched)
    at.run()
    if step is not None:
        at.query_params["step"] = step
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    return at


def finish(at: AppTest) -> AppTest:
    """Rerun until no run of the session is queued or training (a step may start its runs one after another)."""
    registry = at.session_state[REGISTRY_KEY]
    for _ in range(10):
        at.run()
        if registry.active() is None:
            at.run()
            break
        wait_for_run(registry.active(), timeout=600)  # generous: a loaded 2-core machine
    assert not at.exception, at.exception
    return at


def step_in_url(at: AppTest) -> str:
    value = at.query_params["step"]
    return value[-1] if isinstance(value, list) else value


def heading(at: AppTest) -> str:
    return next(m.value for m in at.markdown if m.value.startswith("# "))


def revealed(at: AppTest) -> str:
    (box,) = at.success
    return box.value


def marked(at: AppTest) -> str:
    """The answer the page marks as this run's."""
    return next(line for m in at.markdown for line in m.value.split("  \n") if "this run's answer" in line)


def answer_is(at: AppTest, step: lesson.Step, index: int) -> None:
    assert marked(at).startswith(f"**{'ABCD'[index]}** · {step.answers[index]}")


def test_the_lesson_walks_every_step_and_each_answer_matches_its_run(sched):
    at = open_lesson(sched)
    registry = at.session_state[REGISTRY_KEY]
    assert step_in_url(at) == "1"
    for number, step in enumerate(lesson.STEPS, start=1):
        assert heading(at) == f"# {step.title}" and f"**Step {number} of {len(lesson.STEPS) + 1}**" in \
            [m.value for m in at.markdown]
        assert step.question in " ".join(m.value for m in at.markdown) and not at.success  # asked before it runs
        at.segmented_control(key=f"lesson_guess_{step.key}").set_value(0).run()
        if step.key != "draw":
            at.button(key=f"lesson_go_{step.key}").click().run()
        finish(at)
        check = CHECKS[step.key]
        check(at, registry)
        assert "this run's answer" in marked(at) and "The class guessed A" in " ".join(c.value for c in at.caption)
        at.button(key="lesson_next").click().run()
    assert heading(at) == "# What we found today"
    summary = " ".join(m.value for m in at.markdown)
    assert summary.count("answer ") == len(lesson.STEPS) and "not run yet" not in summary
    assert at.button(key="lesson_next").disabled and step_in_url(at) == str(len(lesson.STEPS) + 1)
    count = len(registry.runs())
    for _ in lesson.STEPS:  # back to the race: its result again, and no new run
        at.button(key="lesson_prev").click().run()
    for _ in range(3):
        at.button(key="lesson_next").click().run()
    assert heading(at) == "# The race: same images, same order" and at.success
    assert not [b for b in at.button if b.key == "lesson_go_race"] and len(registry.runs()) == count


def check_shape(at, registry):
    answer_is(at, lesson.step("shape"), 2)  # 14×14, as torch says (tests/test_lesson.py)
    assert "8×14×14" in revealed(at)


def check_params(at, registry):
    answer_is(at, lesson.step("params"), 2)
    assert "11,322" in revealed(at) and "101,770" in revealed(at)


def check_compute(at, registry):
    answer_is(at, lesson.step("compute"), 0)
    assert "206,250" in revealed(at) and "101,770" in revealed(at)


def race_numbers(registry) -> tuple[float, float]:
    race = next(r for r in registry.runs() if not r.settings.permute_pixels and r.sweep is None)
    return reveals.cnn_lead(race.models, race.results)


def check_race(at, registry):
    cnn, fc = race_numbers(registry)
    assert f"CNN {cnn:.1%}, FC net {fc:.1%}" in revealed(at)
    answer_is(at, lesson.step("race"), 2 if abs(cnn - fc) < reveals.LEVEL else 0 if cnn > fc else 1)


def check_shuffle(at, registry):
    shuffled = next(r for r in registry.runs() if r.settings.permute_pixels)
    cnn, fc = reveals.cnn_lead(shuffled.models, shuffled.results)
    real = race_numbers(registry)
    assert f"Shuffled: CNN {cnn:.1%}, FC net {fc:.1%}" in revealed(at)
    lead, real_lead = cnn - fc, real[0] - real[1]
    answer = 2 if lead <= reveals.LEVEL else 0 if real_lead <= reveals.LEVEL or lead >= reveals.KEPT * real_lead else 1
    answer_is(at, lesson.step("shuffle"), answer)


def check_decompose(at, registry):
    run = next(r for r in registry.runs() if experiments.find_experiment(r.settings, r.models))
    assert experiments.find_experiment(run.settings, run.models).key == "decomposition"  # the experiment itself
    assert run.settings.train_subset == SUBSET
    accs = {("cnn" if m.net.is_cnn else "local" if m.net.is_local else "fc"): run.results[m.label].test_acc
            for m in run.models}
    d = experiments.Decomposition(accs["fc"], accs["local"], accs["cnn"])
    assert f"CNN {d.cnn:.1%}, locally connected {d.local:.1%}, FC net {d.fc:.1%}" in revealed(at)
    share = d.locality / d.lead if d.lead >= reveals.LEVEL else None
    answer_is(at, lesson.step("decompose"), 3 if share is None else 0 if share >= reveals.MOSTLY
              else 1 if share <= 1 - reveals.MOSTLY else 2)


def check_shift(at, registry):
    race = next(r for r in registry.runs() if not r.settings.permute_pixels and r.sweep is None)
    curves, _ = shift.run_shift_curve(race, 4)  # the same 2,000 images every time: the same numbers
    kinds = {m.label: m.net.is_cnn for m in race.models}
    cnn = next(c for c in curves if kinds[c.label])
    fc = next(c for c in curves if not kinds[c.label])
    assert f"the CNN falls from {cnn.at(0):.1%} to {cnn.at(3):.1%}" in revealed(at)
    assert f"the FC net from {fc.at(0):.1%} to {fc.at(3):.1%}" in revealed(at)
    drops = cnn.at(0) - cnn.at(3), fc.at(0) - fc.at(3)
    answer_is(at, lesson.step("shift"), 2 if abs(drops[0] - drops[1]) < reveals.SHIFT_LEVEL
              else 0 if drops[0] > drops[1] else 1)


def check_sweep(at, registry):
    runs = [r for r in registry.runs() if r.sweep is not None]
    assert [r.sweep.images for r in runs] == [100, 300, 1_000]
    match = images_to_match(sweep_frame(runs))
    if match is None:
        answer_is(at, lesson.step("sweep"), 2)
    else:
        acc, fc_images, cnn_images = match
        assert f"{acc:.1%}, on {fc_images:,} images" in revealed(at) and f"with {cnn_images:,}" in revealed(at)
        answer_is(at, lesson.step("sweep"), 0 if fc_images >= 2 * cnn_images else 1)


def draw_and_check(at, registry):
    """The canvas cannot be drawn on in AppTest: a test image is uploaded instead, and the class named."""
    assert not at.success  # nothing drawn yet
    digit = load_dataset("MNIST", source="bundled").test_images[7].numpy()
    picture = png_of(255 - np.kron(digit, np.ones((5, 5), dtype=np.uint8)))
    at.radio(key="draw_source_MNIST").set_value("Upload a picture").run()
    at.get("file_uploader")[0].set_value(("digit.png", picture, "image/png")).run()
    truth = int(load_dataset("MNIST", source="bundled").test_labels[7])
    at.selectbox(key="lesson_truth_MNIST").set_value(truth).run()
    race = next(r for r in registry.runs() if not r.settings.permute_pixels and r.sweep is None)
    image = drawing.to_mnist(drawing.decode_upload(picture)).image
    probs = inference.probabilities(race.trained_models(), image, race.settings)
    said = {label: int(np.argmax(p)) for label, p in probs.items()}
    cnn, fc = (m.label for m in race.models)
    assert f"The CNN says {said[cnn]} ({probs[cnn][said[cnn]]:.0%} sure)" in revealed(at)
    right = (said[cnn] == truth, said[fc] == truth)
    answer_is(at, lesson.step("draw"), {(True, True): 0, (True, False): 1, (False, True): 2, (False, False): 3}[right])


CHECKS = {"shape": check_shape, "params": check_params, "compute": check_compute, "race": check_race,
          "shuffle": check_shuffle, "decompose": check_decompose, "shift": check_shift, "sweep": check_sweep,
          "draw": draw_and_check}


def test_a_link_opens_its_step_and_a_bad_one_says_why(sched):
    at = open_lesson(sched, step="5")
    assert heading(at) == f"# {lesson.step('shuffle').title}"
    at.button(key="lesson_next").click().run()
    assert heading(at) == f"# {lesson.step('decompose').title}" and step_in_url(at) == "6"
    bad = open_lesson(sched, step="99")
    assert heading(bad) == f"# {lesson.STEPS[0].title}"
    assert "`step='99'` cannot be used" in bad.warning[0].value
    assert f"from 1 to {len(lesson.STEPS) + 1}" in bad.warning[0].value


def test_a_stopped_run_is_explained_and_the_button_trains_it_again(sched):
    at = open_lesson(sched, step="4")
    at.button(key="lesson_go_race").click().run()
    registry = at.session_state[REGISTRY_KEY]
    (run,) = registry.runs()
    registry.stop(run.id)  # as the Training page's Stop would
    wait_for_run(run, timeout=600)
    at.run()
    assert not at.exception and not at.success
    assert f"{run.name} stopped" in at.error[0].value and "Press the button" in at.error[0].value
    at.run()
    at.button(key="lesson_go_race").click().run()  # a new press trains a new run
    assert len(registry.runs()) == 2 and registry.runs()[-1].active
    registry.stop(registry.runs()[-1].id)


def test_the_drawing_step_keeps_a_drawing_as_drawn_and_trains_the_pair_built_for_it(sched, monkeypatch):
    """Ticked, the drawing is kept where and how big it was drawn; "Train a pair built for this" trains the
    shift-tolerant CNN beside the race's FC net, and the answer is that pair's, on the drawing as drawn."""
    pair_plan = presets.placement_pair
    monkeypatch.setattr(presets, "placement_pair", lambda dataset="MNIST", size=None: (
        replace(pair_plan(dataset, size)[0], train_subset=SUBSET), pair_plan(dataset, size)[1]))
    at = finish(open_lesson(sched, step=str(lesson.STEP_KEYS.index("draw") + 1)))  # the race trains first
    registry = at.session_state[REGISTRY_KEY]
    at.checkbox(key="draw_keep").check().run()
    at.button(key="lesson_pair").click().run()
    finish(at)
    pair = registry.runs()[-1]
    assert pair.models == pair_plan()[1] and pair.settings.train_subset == SUBSET
    canvas = np.full((140, 140), 255, dtype=np.uint8)
    digit = load_dataset("MNIST", source="bundled").test_images[7].numpy()
    canvas[10:66, 70:126] = 255 - np.kron(digit, np.ones((2, 2), dtype=np.uint8))  # small, top right
    picture = png_of(canvas)
    at.radio(key="draw_source_MNIST").set_value("Upload a picture").run()
    at.get("file_uploader")[0].set_value(("digit.png", picture, "image/png")).run()
    truth = int(load_dataset("MNIST", source="bundled").test_labels[7])
    at.selectbox(key="lesson_truth_MNIST").set_value(truth).run()
    image = drawing.as_drawn(drawing.decode_upload(picture)).image
    probs = inference.probabilities(pair.trained_models(), image, pair.settings)
    cnn, fc = (m.label for m in pair.models)
    said = {label: int(np.argmax(p)) for label, p in probs.items()}
    assert f"The CNN says {said[cnn]} ({probs[cnn][said[cnn]]:.0%} sure), the FC net {said[fc]}" in revealed(at)
    assert "as drawn" in revealed(at).split("Takeaway:")[1]
    assert f"Answering: {pair.models[0].net.name} vs {pair.models[1].net.name}." in [c.value for c in at.caption]

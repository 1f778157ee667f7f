"""Curves against compute: each axis from the records and the shape arithmetic, and the sentence at equal compute."""
from __future__ import annotations

import pytest

from cnn_dash.compute import BACKWARD_FACTOR, GROW, X_AXES, compute_frame, compute_sentence, run_x_end
from cnn_dash.plots.curves import curves_figure, curves_frame
from cnn_dash.records import Progress


def _p(label, step, acc, speed=100.0):
    return Progress(label, step, 8, step / 4, 0.5, 0.8, speed, step * 0.5, 0.4 if acc else None, acc)


HISTORY = [_p("A · CNN (Adam 0.001)", 2, None, 50.0), _p("B · FC (Adam 0.001)", 2, None, 400.0),
           _p("A · CNN (Adam 0.001)", 4, 0.95, 50.0), _p("B · FC (Adam 0.001)", 4, 0.90, 400.0),
           _p("A · CNN (Adam 0.001)", 8, 0.98, 50.0), _p("B · FC (Adam 0.001)", 8, 0.93, 400.0)]
NAMES = {"A · CNN (Adam 0.001)": "A · CNN", "B · FC (Adam 0.001)": "B · FC"}  # each label's ModelConfig.named
MACS = {("Run 1", "A · CNN (Adam 0.001)"): 200_000, ("Run 1", "B · FC (Adam 0.001)"): 10_000}


def test_every_axis_from_the_records_and_the_forward_cost():
    frame = compute_frame(curves_frame({"Run 1": HISTORY}), {"Run 1": 1_000}, MACS)
    cnn = frame[frame["model"].str.startswith("A")]
    assert list(cnn["training images"]) == [500, 1_000, 2_000]  # epoch 0.5, 1, 2 of 1,000 images
    assert list(cnn["optimizer steps"]) == [2, 4, 8]
    assert list(cnn["training time (s)"]) == pytest.approx([10.0, 20.0, 40.0])  # images / own images per second
    assert list(cnn["training multiply-adds"]) == [n * BACKWARD_FACTOR * 200_000 for n in (500, 1_000, 2_000)]
    for x in X_AXES:
        titles = [a.text for a in curves_figure(frame, x=x).layout.annotations]
        assert any(t.endswith(f"by {x}") for t in titles) and titles[0].startswith("Loss"), titles  # names its x


def test_at_equal_compute_the_sentence_reads_each_model_where_all_got():
    frame = compute_frame(curves_frame({"Run 1": HISTORY}), {"Run 1": 1_000}, MACS)
    # by epoch both reached epoch 2; by multiply-adds the FC net only got to 2,000 × 3 × 10,000 = 6e7, where
    # the CNN had not been tested yet: it is left out rather than read at a point it never reached
    assert compute_sentence(frame, "epoch", NAMES) == ("Test accuracy at epoch = 2 (as far as every model got): "
                                                "A · CNN 98.0% · B · FC 93.0%")
    assert compute_sentence(frame, "training multiply-adds", NAMES) == (
        "Test accuracy at training multiply-adds = 6e+07 (as far as every model got): B · FC 93.0%")


def test_a_runs_axis_ends_where_the_whole_run_ends_before_its_first_record():
    # 3 epochs of 1,000 images in batches of 64: 16 steps an epoch (the last batch short); the costlier model's MACs
    def end(x: str) -> float:
        return run_x_end(x, 3, 1_000, 64, [200_000, 10_000])

    assert end("epoch") == 3
    assert end("training images") == 3_000
    assert end("optimizer steps") == 48
    assert end("training multiply-adds") == 3_000 * BACKWARD_FACTOR * 200_000
    with pytest.raises(ValueError, match="unknown axis"):
        end("loss")


def test_the_time_axis_spans_the_estimate_and_grows_by_steps_only_when_overrun():
    def end(reached: float) -> float:
        return run_x_end("training time (s)", 3, 1_000, 64, [1], estimated_s=20.0, reached=reached)

    assert [end(r) for r in (0.0, 5.0, 20.0)] == [20.0, 20.0, 20.0]  # inside the estimate: it stays put
    assert end(20.5) == 20.0 * GROW and end(30.0) == 20.0 * GROW  # overrun: one step, which holds a while
    assert end(31.0) == 20.0 * GROW ** 2
    # no estimate (a run restored from the store): the axis fits the curves
    assert run_x_end("training time (s)", 3, 1_000, 64, [1], estimated_s=None, reached=12.5) == 12.5

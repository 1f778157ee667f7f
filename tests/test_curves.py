"""The training-curves figure reads right: plain log-axis labels, a clipped blown-up loss, a zoomed accuracy axis."""
from __future__ import annotations

import math

from cnn_dash.plots.curves import LOSS_CAP, curves_figure, curves_frame, log_ticks
from cnn_dash.records import Progress


def p(label, step, loss, acc, test=None, status="training"):
    return Progress(label, step, 10, step / 2, loss, acc, 100.0, step * 0.1, *(test or (None, None)), status=status)


def history(losses, accs, tests):
    """Two models with the given train losses and accuracies; test results at the steps in `tests`."""
    out = []
    for step, (loss, acc) in enumerate(zip(losses, accs), start=1):
        for label, shift in (("CNN", 0.0), ("FC", 0.03)):
            out.append(p(label, step, loss, acc - shift, tests.get(step)))
    return out


def loss_axis(fig):
    return fig.layout.yaxis


def test_log_axis_is_labelled_with_plain_decimals():
    losses = [2.5, 1.8, 1.2, 0.8, 0.5, 0.3]
    fig = curves_figure(curves_frame({"Run 1": history(losses, [0.5, 0.7, 0.8, 0.9, 0.92, 0.95],
                                                       {3: (1.0, 0.85), 6: (0.35, 0.94)})}))
    axis = loss_axis(fig)
    assert axis.type == "log"
    assert {"0.5", "1", "2"} <= set(axis.ticktext), axis.ticktext
    assert all(len(t) <= 6 for t in axis.ticktext)
    low, high = axis.range
    assert low < math.log10(0.3) and high > math.log10(2.5)  # the data fit
    assert log_ticks(0.3, 2.5) == [0.2, 0.5, 1.0, 2.0]


def test_an_exploded_loss_is_clipped_with_short_labels_and_the_hover_says_so():
    losses = [2.3, 1.5, 40.0, 1e9, 1e15]
    fig = curves_figure(curves_frame({"Run 1": history(losses, [0.3, 0.5, 0.1, 0.1, 0.1], {2: (1.4, 0.5)})}))
    axis = loss_axis(fig)
    assert all(len(t) <= 6 for t in axis.ticktext), axis.ticktext
    assert 10 ** axis.range[1] <= LOSS_CAP * 2.3 * 1.5  # the top is near 20× the first loss, not 1e15
    train = next(t for t in fig.data if t.name == "CNN (train)" and t.xaxis == "x")
    assert max(train.y) <= LOSS_CAP * 2.3
    assert any("off the chart" in text for text in train.text)
    assert all(len(text.split(" ")[0]) <= 9 for text in train.text)  # 4 significant digits: 1.000e+15


def test_accuracy_axis_zooms_to_where_the_models_differ_and_full_range_shows_0_to_100():
    accs = [0.2, 0.6, 0.9, 0.95, 0.97, 0.98]
    frame = curves_frame({"Run 1": history([2, 1, 0.5, 0.3, 0.2, 0.1], accs, {3: (0.4, 0.91), 6: (0.1, 0.975)})})
    zoomed = curves_figure(frame).layout.yaxis2.range
    # from the first evaluation (step 3) the lowest accuracy is FC's train 0.87: a bit below, on a 5% step
    assert math.isclose(zoomed[0], 0.85) and zoomed[1] >= 1.0
    assert tuple(curves_figure(frame, full_range=True).layout.yaxis2.range) == (0.0, 1.02)
    untested = curves_frame({"Run 1": history([2, 1], [0.2, 0.4], {})})
    assert curves_figure(untested).layout.yaxis2.range[0] == 0.0  # nothing evaluated yet: the whole range

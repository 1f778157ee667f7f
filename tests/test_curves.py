"""The training-curves figure reads right: plain log-axis labels, a clipped blown-up loss, a zoomed accuracy axis."""
from __future__ import annotations

import math

from cnn_dash.plots.curves import LOSS_CAP, curves_figure, curves_frame, log_ticks, run_figure
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


def test_a_short_chart_labels_its_loss_axis_by_decades_only():
    """A run's 260 px chart (Training) has room for 4 loss labels: 0.01, 0.1, 1, 10 (the 1-2-5 labels crowded it
    on a phone); a tall one keeps 1, 2, 5 in every decade."""
    frame = curves_frame({"Run 1": history([2.3, 1.2, 0.6], [0.3, 0.6, 0.8], {3: (0.7, 0.8)})})
    assert list(loss_axis(run_figure(frame, 1, height=260)).ticktext) == ["0.01", "0.1", "1", "10"]
    tall = loss_axis(run_figure(frame, 1, height=600)).ticktext
    assert {"0.02", "0.05", "0.2", "0.5", "2", "5"} <= set(tall)
    assert log_ticks(0.01, 10, most=3) == [0.01, 1.0]  # even the decades thinned when they do not fit


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


def test_a_runs_chart_keeps_its_axes_from_the_first_record_to_the_last():
    """Live frames and the finished chart share x (every epoch of the run) and y: nothing jumps at the end."""
    from cnn_dash.plots.curves import FULL_ACC_RANGE, RUN_LOSS_RANGE, run_figure

    records = history([2.3, 1.5, 0.9, 0.5, 0.3, 0.2], [0.2, 0.5, 0.7, 0.85, 0.9, 0.95], {3: (0.8, 0.8), 6: (0.3, 0.93)})
    frames = [run_figure(curves_frame({"Run 1": records[:n]}), x_end=3) for n in (0, 2, 6, len(records))]
    for fig in frames:
        assert tuple(fig.layout.xaxis.range) == tuple(fig.layout.xaxis2.range) == (0.0, 3.0)
        assert tuple(fig.layout.yaxis2.range) == FULL_ACC_RANGE
        assert tuple(fig.layout.yaxis.range) == tuple(frames[-1].layout.yaxis.range)
    low, high = fig.layout.yaxis.range
    assert low < math.log10(RUN_LOSS_RANGE[0]) and high > math.log10(RUN_LOSS_RANGE[1])
    # the finished chart is the last live frame: the same train traces, point for point
    live, final = frames[-2], frames[-1]
    for trace in live.data:
        if trace.name.endswith("(train)"):
            done = next(t for t in final.data if t.name == trace.name and t.xaxis == trace.xaxis)
            assert list(done.x[:len(trace.x)]) == list(trace.x)


def test_a_long_run_is_thinned_to_few_points_and_keeps_its_last_one():
    from cnn_dash.plots.curves import MAX_POINTS, run_figure

    steps = 5000
    records = [p("CNN", s, 2.0 / s ** 0.3, min(0.99, s / steps + 0.1)) for s in range(1, steps + 1)]
    fig = run_figure(curves_frame({"Run 1": records}), x_end=steps / 2)
    for trace in fig.data:
        assert len(trace.x) <= MAX_POINTS
        assert trace.x[-1] == steps / 2  # the live edge of the curve is always drawn


def test_a_run_that_diverged_at_its_first_step_reads_right():
    """No negative epoch axis, no text printed on the chart (two crosses would overprint), nothing 'nan'."""
    from cnn_dash.plots.curves import run_figure

    records = [p("CNN", 0, None, None, status="diverged"), p("FC", 0, None, None, status="diverged")]
    frame = curves_frame({"Run 1": records})
    for fig in (run_figure(frame, x_end=2), curves_figure(frame)):
        assert fig.layout.xaxis.range[0] == 0 and fig.layout.xaxis2.range[0] == 0
        assert all(t.mode == "markers" for t in fig.data)  # the crosses, their names in the hover only
        assert "nan" not in fig.to_json().lower().replace("nanosecond", "")

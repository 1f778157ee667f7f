"""The difference matrix plots A's advantage: one colour for "A better" on and off the diagonal."""
from __future__ import annotations

import numpy as np

from cnn_dash.plots.confusion import DIVERGING, advantage, confusion_figure, difference_figure


def test_advantage_against_a_hand_made_pair():
    cnn = np.array([[50, 2, 0],
                    [5, 40, 1],
                    [0, 0, 30]])
    fc = np.array([[45, 6, 1],
                   [3, 42, 1],
                   [0, 2, 28]])
    # diagonal: CNN right − FC right; off it: FC mistakes − CNN mistakes (fewer mistakes is better)
    expected = np.array([[5, 4, 1],
                         [-2, -2, 0],
                         [0, 2, 2]])
    np.testing.assert_array_equal(advantage(cnn, fc), expected)
    np.testing.assert_array_equal(advantage(fc, cnn), -expected)  # symmetric: swapping swaps the sign
    fig = difference_figure(advantage(cnn, fc), ("0", "1", "2"), "CNN vs FC", a="CNN", b="FC")
    heat = fig.data[0]
    assert heat.zmid == 0 and heat.zmin == -5 and heat.zmax == 5
    # RdBu runs red (low) to blue (high): positive, CNN better, is blue everywhere
    assert heat.colorscale[0][1].lower() != heat.colorscale[-1][1].lower()
    assert list(heat.colorbar.ticktext) == ["FC better", "0", "CNN better"] and list(heat.colorbar.tickvals) == [-5, 0, 5]
    # the numbers where the models differ (a minus where B is better), blank where they agree
    assert [list(r) for r in heat.text] == [["5", "4", "1"], ["-2", "-2", ""], ["", "2", "2"]]
    assert DIVERGING == "RdBu"


def test_mistakes_have_a_scale_of_their_own():
    """The diagonal (right answers) is one trace, the mistakes another on their own scale: 3 mistakes beside 190
    right answers reach the scale's darkest colour, and a cell without mistakes is left blank."""
    matrix = np.array([[190, 3, 0], [1, 180, 2], [0, 0, 1135]])
    right, wrong = confusion_figure(matrix, ("0", "1", "2"), "CNN").data
    assert wrong.zmin == 0 and wrong.zmax == 3  # the largest mistake, not the largest right answer
    assert np.isnan(np.asarray(wrong.z, dtype=float)).tolist() == np.eye(3, dtype=bool).tolist()
    assert [list(r) for r in right.text] == [["190", "", ""], ["", "180", ""], ["", "", "1135"]]
    assert [list(r) for r in wrong.text] == [["", "3", ""], ["1", "", "2"], ["", "", ""]]
    percent = confusion_figure(100 * matrix / matrix.sum(1, keepdims=True), ("0", "1", "2"), "CNN", percent=True)
    assert [list(r) for r in percent.data[0].text][0][0] == "98"  # 98.4%: at most 4 characters per cell
    assert [list(r) for r in percent.data[1].text][0][1] == "1.6"

"""Metrics against scikit-learn on real model outputs; McNemar against hand-computed values."""
from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest
import sklearn.metrics as skm
import torch
from torch import nn

from cnn_dash import metrics
from cnn_dash.data import load_dataset, normalize


def tiny_cnn() -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # (8, 14, 14)
        nn.Conv2d(8, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # (8, 7, 7)
        nn.Flatten(), nn.Linear(8 * 7 * 7, 10),
    )


def tiny_fc() -> nn.Sequential:
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 16), nn.ReLU(), nn.Linear(16, 10))


def train_tiny_pair(name: str = "FashionMNIST", steps: int = 60) -> tuple[nn.Module, nn.Module]:
    """A CNN and an FC net trained briefly on the bundled sample: real, imperfect models."""
    data = load_dataset(name, source="bundled")
    torch.manual_seed(0)
    models = (tiny_cnn(), tiny_fc())
    opts = [torch.optim.Adam(m.parameters(), lr=3e-3) for m in models]
    order = torch.randperm(len(data.train_labels))
    for step in range(steps):
        idx = order[step * 100 : (step + 1) * 100]
        x, y = normalize(data.train_images[idx], data), data.train_labels[idx]
        for model, opt in zip(models, opts):
            opt.zero_grad()
            nn.functional.cross_entropy(model(x), y).backward()
            opt.step()
    return tuple(m.eval() for m in models)


@pytest.fixture(scope="module")
def outputs():
    data = load_dataset("FashionMNIST", source="bundled")
    cnn, fc = train_tiny_pair()
    preds = [metrics.predict(m, data.test_images, data, batch_size=512) for m in (cnn, fc)]
    return data.test_labels.numpy(), preds, (cnn, fc), data


def test_predict_matches_a_plain_forward_pass(outputs):
    labels, preds, models, data = outputs
    with torch.no_grad():
        logits = models[0](normalize(data.test_images, data))
    p = preds[0]
    assert p.probs.shape == (len(labels), 10) and p.preds.shape == (len(labels),)
    np.testing.assert_allclose(p.probs, torch.softmax(logits, 1).numpy(), atol=1e-5)
    # predict() runs a channels-last copy: rounding may differ, so a near-tie may break the other way.
    top2 = logits.topk(2, dim=1).values
    clear = (top2[:, 0] - top2[:, 1] > 1e-4).numpy()
    np.testing.assert_array_equal(p.preds[clear], logits.argmax(1).numpy()[clear])
    assert clear.mean() > 0.99
    np.testing.assert_allclose(p.confidence, p.probs[np.arange(len(labels)), p.preds])
    # A (mean, std) pair gives the same answers as the dataset itself, whatever the batch size.
    again = metrics.predict(models[0], data.test_images, (data.mean, data.std), batch_size=2000)
    np.testing.assert_array_equal(again.preds[clear], p.preds[clear])
    # The caller's model is left as it was (predict works on a channels-last copy).
    assert models[0][0].weight.is_contiguous()


def test_models_are_real_and_imperfect(outputs):
    labels, preds, _, _ = outputs
    for p in preds:
        acc = (p.preds == labels).mean()
        assert 0.4 < acc < 0.99  # trained, yet with errors in the off-diagonal cells
    assert (preds[0].preds != preds[1].preds).any()


def test_confusion_matrix_matches_sklearn(outputs):
    labels, preds, _, _ = outputs
    for p in preds:
        ours = metrics.confusion_matrix(labels, p.preds, 10)
        np.testing.assert_array_equal(ours, skm.confusion_matrix(labels, p.preds, labels=range(10)))
    # torch tensors are accepted as well as numpy arrays
    ours = metrics.confusion_matrix(torch.from_numpy(labels), torch.from_numpy(preds[0].preds), 10)
    np.testing.assert_array_equal(ours, skm.confusion_matrix(labels, preds[0].preds, labels=range(10)))


def assert_report_matches_sklearn(y_true, y_pred, n_classes=10):
    ours = metrics.per_class_report(y_true, y_pred, n_classes)
    ref = skm.classification_report(
        y_true, y_pred, labels=list(range(n_classes)), output_dict=True, zero_division=0
    )
    for c in range(n_classes):
        row = ref[str(c)]
        assert ours.precision[c] == pytest.approx(row["precision"])
        assert ours.recall[c] == pytest.approx(row["recall"])
        assert ours.f1[c] == pytest.approx(row["f1-score"])
        assert ours.support[c] == row["support"]
    for ours_avg, key in ((ours.macro, "macro avg"), (ours.weighted, "weighted avg")):
        assert ours_avg == pytest.approx(
            (ref[key]["precision"], ref[key]["recall"], ref[key]["f1-score"])
        )
    assert ours.accuracy == pytest.approx(skm.accuracy_score(y_true, y_pred))
    assert ours.balanced_accuracy == pytest.approx(skm.balanced_accuracy_score(y_true, y_pred))


def test_per_class_report_matches_sklearn(outputs):
    labels, preds, _, _ = outputs
    for p in preds:
        assert_report_matches_sklearn(labels, p.preds)


def test_zero_division_counts_as_zero_like_sklearn(outputs):
    labels, preds, _, _ = outputs
    # Never predict classes 3 and 4 (precision 0/0) and drop class 5 from the truth (recall 0/0).
    y_pred = np.where(np.isin(preds[1].preds, (3, 4)), 0, preds[1].preds)
    keep = labels != 5
    with np.errstate(all="raise"):
        metrics.per_class_report(labels[keep], y_pred[keep], 10)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # sklearn warns about the empty classes in balanced accuracy
        assert_report_matches_sklearn(labels[keep], y_pred[keep])


def test_report_table_has_one_row_per_class_and_averages(outputs):
    labels, preds, _, data = outputs
    report = metrics.per_class_report(labels, preds[0].preds, 10)
    table = metrics.report_table(report, data.classes)
    assert list(table.index) == [*data.classes, "macro avg", "weighted avg"]
    assert list(table.columns) == ["precision", "recall", "f1", "support"]
    assert table.loc["Shirt", "recall"] == pytest.approx(report.recall[6])
    assert table.loc["weighted avg", "support"] == len(labels)


def test_row_percent_rows_sum_to_100(outputs):
    labels, preds, _, _ = outputs
    pct = metrics.row_percent(metrics.confusion_matrix(labels, preds[0].preds, 10))
    np.testing.assert_allclose(pct.sum(axis=1), 100.0)
    assert metrics.row_percent(np.zeros((3, 3), dtype=int)).sum() == 0


def test_disagreement_partitions_the_test_set(outputs):
    labels, preds, _, _ = outputs
    a, b = preds[0].preds, preds[1].preds
    d = metrics.disagreement(labels, a, b)
    assert d.both + d.only_a + d.only_b + d.neither == len(labels)
    assert d.both + d.only_a == (a == labels).sum()
    assert d.both + d.only_b == (b == labels).sum()
    fixed = metrics.only_right(labels, a, b)
    broken = metrics.only_right(labels, b, a)
    assert len(fixed) == d.only_a and len(broken) == d.only_b
    assert (a[fixed] == labels[fixed]).all() and (b[fixed] != labels[fixed]).all()


def test_cell_indices_select_one_cell(outputs):
    labels, preds, _, _ = outputs
    m = metrics.confusion_matrix(labels, preds[0].preds, 10)
    idx = metrics.cell_indices(labels, preds[0].preds, 6, 0)  # shirts taken for T-shirts
    assert len(idx) == m[6, 0]
    assert (labels[idx] == 6).all() and (preds[0].preds[idx] == 0).all()


def test_evaluate_and_its_tables(outputs):
    labels, preds, (cnn, fc), data = outputs
    ev = metrics.evaluate({"A · CNN": cnn, "B · FC": fc}, data.test_images, data.test_labels, data, data.classes)
    assert [r.is_cnn for r in ev.results] == [True, False]
    for r, p in zip(ev.results, preds):
        np.testing.assert_array_equal(r.matrix, skm.confusion_matrix(labels, p.preds, labels=range(10)))
    summary = metrics.summary_table(ev)
    assert summary.loc["B · FC", "accuracy"] == pytest.approx(skm.accuracy_score(labels, preds[1].preds))
    assert summary.loc["A · CNN", "errors"] == (preds[0].preds != labels).sum()
    table = metrics.comparison_table(ev, {"A · CNN": "A", "B · FC": "B"})
    assert list(table.columns) == ["precision (A)", "precision (B)", "recall (A)", "recall (B)", "f1 (A)", "f1 (B)",
                                   "support"]
    best = metrics.best_per_class(table, "recall", ["A", "B"])
    for cls in data.classes:
        a, b = table.loc[cls, "recall (A)"], table.loc[cls, "recall (B)"]
        assert best[cls] == ("A = B" if a == b else "A" if a > b else "B")
    tie = table.assign(**{"f1 (B)": table["f1 (A)"]})
    assert set(metrics.best_per_class(tie, "f1", ["A", "B"])) == {"A = B"}


def test_disagreement_hand_made_case():
    y = [0, 1, 2, 3, 4, 5]
    a = [0, 1, 2, 0, 0, 0]  # right on 0, 1, 2
    b = [0, 0, 0, 3, 0, 1]  # right on 0, 3
    assert metrics.disagreement(y, a, b) == metrics.Disagreement(both=1, only_a=2, only_b=1, neither=2)


def test_mcnemar_hand_computed():
    # b = 10, c = 25: chi2 = (|10 - 25| - 1)^2 / 35 = 196 / 35 = 5.6; p = P(chi2_1 > 5.6) = 0.017960...
    t = metrics.mcnemar(10, 25)
    assert t.statistic == pytest.approx(5.6)
    assert t.p_chi2 == pytest.approx(0.0179606, rel=1e-4)  # erfc(sqrt(2.8)), from tables: 0.01796
    assert not t.exact and t.p_value == t.p_chi2
    # b = 1, c = 6: exact two-sided p = 2 * (C(7,0) + C(7,1)) / 2^7 = 2 * 8 / 128 = 0.125
    t = metrics.mcnemar(1, 6)
    assert t.p_exact == pytest.approx(0.125)
    assert t.statistic == pytest.approx(16 / 7)
    assert t.exact and t.p_value == t.p_exact
    # b = c: the exact p is capped at 1; nothing to compare at all gives p = 1.
    assert metrics.mcnemar(4, 4).p_exact == 1.0
    assert metrics.mcnemar(0, 0).p_value == 1.0


def test_mcnemar_agrees_with_scipy_on_large_counts():
    from scipy import stats  # scipy is a dependency of scikit-learn: an outside oracle for tests only

    for b, c in ((10, 25), (120, 180), (3000, 3100), (0, 40)):
        t = metrics.mcnemar(b, c)
        assert t.p_exact == pytest.approx(stats.binomtest(b, b + c, 0.5).pvalue, rel=1e-9)
        assert t.p_chi2 == pytest.approx(stats.chi2.sf(t.statistic, 1), rel=1e-9)


def test_core_does_not_import_streamlit():
    code = "import sys, cnn_dash.metrics, cnn_dash.features, cnn_dash.plots.confusion; " \
           "assert 'streamlit' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_mcnemar_exact_is_a_probability():
    for n in (1, 7, 24, 500):
        for b in range(0, n + 1, max(1, n // 7)):
            p = metrics.mcnemar(b, n - b).p_exact
            assert 0 < p <= 1 and not math.isnan(p)

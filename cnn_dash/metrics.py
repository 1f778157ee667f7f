"""Evaluation of trained models: predictions, confusion matrices, per-class reports, McNemar's test."""
from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from cnn_dash.data import Dataset, Stats, normalize

ArrayLike = Any  # a numpy array, a torch tensor or a sequence of ints


@dataclass(frozen=True)
class Predictions:
    """One model's answers on a set of images: class probabilities and the predicted class."""

    probs: np.ndarray  # (N, n_classes) float32, softmax of the logits
    preds: np.ndarray  # (N,) int64, argmax of the logits

    @property
    def confidence(self) -> np.ndarray:
        """The probability the model gave its own prediction, (N,)."""
        return self.probs.max(axis=1)


EVAL_BATCH = 500  # test images per forward pass


@torch.inference_mode()
def batched_logits(model: nn.Module, images: torch.Tensor, stats: Stats | Dataset,
                   batch_size: int = EVAL_BATCH, stop: threading.Event | None = None) -> torch.Tensor | None:
    """Logits (N, classes) of `model` in eval mode on uint8 images (N, H, W), in batches; None if `stop` is
    set part-way. The model's train/eval mode is restored afterwards."""
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    chunks = []
    try:
        for start in range(0, len(images), batch_size):
            if stop is not None and stop.is_set():
                return None
            x = normalize(images[start:start + batch_size], stats).to(device)  # (B, 1, H, W)
            chunks.append(model(x).float().cpu())  # (B, classes)
    finally:
        model.train(was_training)
    return torch.cat(chunks) if chunks else torch.empty(0, 0)


def predict(model: nn.Module, images: torch.Tensor, stats: Stats | Dataset,
            batch_size: int = EVAL_BATCH) -> Predictions:
    """Class probabilities and predictions of `model` on uint8 images (N, H, W), with the training's `stats`.
    A run's models come placed (inference.placed: channels-last for a CNN on a CPU, up to twice as fast)."""
    logits = batched_logits(model, images, stats, batch_size)
    # A diverged model's last finite weights can still overflow its logits: ±inf and NaN become the largest finite
    # numbers and 0, so every probability, confidence and prediction is a number (never "nan%").
    logits = torch.nan_to_num(logits.float())
    return Predictions(probs=torch.softmax(logits, dim=1).numpy(), preds=logits.argmax(dim=1).numpy())


def _ints(a: ArrayLike) -> torch.Tensor:
    return torch.as_tensor(np.asarray(a), dtype=torch.int64).flatten()


def confusion_matrix(y_true: ArrayLike, y_pred: ArrayLike, n_classes: int) -> np.ndarray:
    """Counts (n_classes, n_classes): row = true class, column = predicted class, as scikit-learn."""
    t, p = _ints(y_true), _ints(y_pred)
    flat = torch.bincount(t * n_classes + p, minlength=n_classes * n_classes)
    return flat.reshape(n_classes, n_classes).numpy()


def row_percent(matrix: np.ndarray) -> np.ndarray:
    """Each row as a percentage of its total (the recall view); empty rows stay 0."""
    totals = matrix.sum(axis=1, keepdims=True)
    return np.divide(100.0 * matrix, totals, out=np.zeros(matrix.shape), where=totals > 0)


def _safe_div(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    # scikit-learn's default zero_division: a metric with an empty denominator counts as 0.
    num, den = np.asarray(num, dtype=float), np.asarray(den, dtype=float)
    return np.divide(num, den, out=np.zeros(np.broadcast(num, den).shape), where=den > 0)


@dataclass(frozen=True)
class ClassReport:
    """Per-class precision, recall, F1 and support, and the summary scores of one model."""

    precision: np.ndarray
    recall: np.ndarray
    f1: np.ndarray
    support: np.ndarray
    accuracy: float
    balanced_accuracy: float  # mean recall over the classes that occur in y_true
    macro: tuple[float, float, float]  # (precision, recall, f1), unweighted mean over classes
    weighted: tuple[float, float, float]  # the same, weighted by support


def report_from_matrix(matrix: np.ndarray) -> ClassReport:
    """The per-class report read off a confusion matrix (rows true, columns predicted)."""
    tp = np.diag(matrix).astype(float)
    support = matrix.sum(axis=1)
    predicted = matrix.sum(axis=0)
    precision = _safe_div(tp, predicted)
    recall = _safe_div(tp, support)
    f1 = _safe_div(2 * tp, support + predicted)  # = 2PR / (P + R), defined where P + R = 0 too
    total = support.sum()
    present = support > 0

    def averages(weights: np.ndarray) -> tuple[float, float, float]:
        w = weights / weights.sum() if weights.sum() > 0 else weights * 0.0
        return tuple(float(np.dot(w, m)) for m in (precision, recall, f1))

    return ClassReport(
        precision=precision,
        recall=recall,
        f1=f1,
        support=support,
        accuracy=float(tp.sum() / total) if total else 0.0,
        balanced_accuracy=float(recall[present].mean()) if present.any() else 0.0,
        macro=averages(np.ones(len(tp))),
        weighted=averages(support.astype(float)),
    )


def per_class_report(y_true: ArrayLike, y_pred: ArrayLike, n_classes: int) -> ClassReport:
    """Precision, recall, F1 and support per class, with accuracy, balanced accuracy and averages."""
    return report_from_matrix(confusion_matrix(y_true, y_pred, n_classes))


def report_table(report: ClassReport, classes: tuple[str, ...]) -> pd.DataFrame:
    """The report as a table: one row per class, then macro and weighted averages."""
    columns = {"precision": report.precision, "recall": report.recall, "f1": report.f1, "support": report.support}
    rows = pd.DataFrame(columns, index=list(classes))
    total = int(report.support.sum())
    rows.loc["macro avg"] = [*report.macro, total]
    rows.loc["weighted avg"] = [*report.weighted, total]
    rows["support"] = rows["support"].astype(int)
    return rows


@dataclass(frozen=True)
class Disagreement:
    """How two models' answers on the same images compare with the truth."""

    both: int  # both right
    only_a: int  # A right, B wrong
    only_b: int  # B right, A wrong
    neither: int  # both wrong (possibly with different wrong answers)


def disagreement(y_true: ArrayLike, pred_a: ArrayLike, pred_b: ArrayLike) -> Disagreement:
    """Count the images each of two models gets right that the other gets wrong."""
    t = np.asarray(y_true)
    a, b = np.asarray(pred_a) == t, np.asarray(pred_b) == t
    return Disagreement(int((a & b).sum()), int((a & ~b).sum()), int((~a & b).sum()), int((~a & ~b).sum()))


def only_right(y_true: ArrayLike, right: ArrayLike, wrong: ArrayLike) -> np.ndarray:
    """Indices of the images that model `right` classifies correctly and model `wrong` does not."""
    t = np.asarray(y_true)
    return np.flatnonzero((np.asarray(right) == t) & (np.asarray(wrong) != t))


def cell_indices(y_true: ArrayLike, y_pred: ArrayLike, true_class: int, pred_class: int) -> np.ndarray:
    """Indices of the images in one confusion-matrix cell."""
    return np.flatnonzero((np.asarray(y_true) == true_class) & (np.asarray(y_pred) == pred_class))


# McNemar's test: exact below this many discordant pairs, chi-square (continuity corrected) from it on,
# the usual textbook rule (the chi-square approximation is poor for small b + c).
EXACT_BELOW = 25


@dataclass(frozen=True)
class McNemar:
    """McNemar's test on the discordant pairs b (only A right) and c (only B right)."""

    b: int
    c: int
    statistic: float  # chi-square with continuity correction: (|b - c| - 1)^2 / (b + c)
    p_chi2: float  # its p-value, chi-square with 1 degree of freedom
    p_exact: float  # two-sided exact binomial p-value, b ~ Binomial(b + c, 1/2)

    @property
    def exact(self) -> bool:
        """True when `p_value` is the exact binomial one (few discordant pairs)."""
        return self.b + self.c < EXACT_BELOW

    @property
    def p_value(self) -> float:
        """The exact p-value when b + c < 25, the chi-square one otherwise."""
        return self.p_exact if self.exact else self.p_chi2


def _binom_half_cdf(k: int, n: int) -> float:
    """P(X <= k) for X ~ Binomial(n, 1/2), summed in log space so that n in the thousands is fine."""
    logs = [math.lgamma(n + 1) - math.lgamma(i + 1) - math.lgamma(n - i + 1) for i in range(k + 1)]
    top = max(logs)
    return math.exp(top - n * math.log(2)) * sum(math.exp(x - top) for x in logs)


def mcnemar(b: int, c: int) -> McNemar:
    """McNemar's test for two classifiers on the same images; b and c are the discordant counts."""
    n = b + c
    if n == 0:
        return McNemar(b, c, statistic=0.0, p_chi2=1.0, p_exact=1.0)
    statistic = (abs(b - c) - 1) ** 2 / n
    p_chi2 = math.erfc(math.sqrt(statistic / 2))  # survival function of chi-square with 1 dof
    p_exact = min(1.0, 2 * _binom_half_cdf(min(b, c), n))
    return McNemar(b, c, statistic=statistic, p_chi2=p_chi2, p_exact=p_exact)


@dataclass(frozen=True)
class ModelEvaluation:
    """One model's evaluation on the test set."""

    label: str
    is_cnn: bool
    predictions: Predictions
    matrix: np.ndarray  # confusion matrix, rows true, columns predicted
    report: ClassReport


@dataclass(frozen=True)
class Evaluation:
    """Every model of a run on the same test images."""

    classes: tuple[str, ...]
    images: np.ndarray  # uint8 (N, 28, 28), as the models saw them (permuted if the run permuted)
    labels: np.ndarray  # int64 (N,)
    results: tuple[ModelEvaluation, ...]
    seconds: float  # time taken by the forward passes and the metrics

    def result(self, label: str) -> ModelEvaluation:
        """The result of the model called `label`."""
        return next(r for r in self.results if r.label == label)


def evaluate(
    models: dict[str, nn.Module],
    images: torch.Tensor,
    labels: torch.Tensor,
    stats: Stats | Dataset,
    classes: tuple[str, ...],
) -> Evaluation:
    """Predictions, confusion matrix and per-class report of every model on the same test images."""
    start = time.perf_counter()
    y = np.asarray(labels, dtype=np.int64)
    results = []
    for label, model in models.items():
        p = predict(model, images, stats)
        matrix = confusion_matrix(y, p.preds, len(classes))
        is_cnn = any(isinstance(m, nn.Conv2d) for m in model.modules())
        results.append(ModelEvaluation(label, is_cnn, p, matrix, report_from_matrix(matrix)))
    return Evaluation(tuple(classes), np.asarray(images), y, tuple(results), time.perf_counter() - start)


def summary_table(evaluation: Evaluation) -> pd.DataFrame:
    """One row per model: accuracy, balanced accuracy, macro F1 and the number of errors."""
    rows = {
        r.label: {
            "accuracy": r.report.accuracy,
            "balanced accuracy": r.report.balanced_accuracy,
            "macro F1": r.report.macro[2],
            "errors": int((r.predictions.preds != evaluation.labels).sum()),
        }
        for r in evaluation.results
    }
    return pd.DataFrame.from_dict(rows, orient="index")


METRICS = ("precision", "recall", "f1")


def column(metric: str, label: str) -> str:
    """The comparison table's column for one metric of one model, e.g. 'recall (CNN)'."""
    return f"{metric} ({label})"


def comparison_table(evaluation: Evaluation, names: dict[str, str] | None = None) -> pd.DataFrame:
    """Per-class precision, recall and F1 of every model side by side, then the support.

    `names` maps a model's label to the (shorter) name used in the column headers.
    """
    names = names or {}
    tables = {names.get(r.label, r.label): report_table(r.report, evaluation.classes) for r in evaluation.results}
    wide = pd.DataFrame({column(m, name): t[m] for m in METRICS for name, t in tables.items()})
    wide["support"] = next(iter(tables.values()))["support"]
    return wide


def best_per_class(table: pd.DataFrame, metric: str, names: list[str]) -> pd.Series:
    """For each row of a comparison table, the model(s) with the highest `metric`, joined by ' = '."""
    values = table[[column(metric, name) for name in names]].set_axis(names, axis=1)
    top = values.max(axis=1)
    return values.eq(top, axis=0).apply(lambda row: " = ".join(row.index[row]), axis=1)

"""A run's key: everything that determines its numbers, so that identical requests are trained once.

The engine is deterministic for a seed (train.py: one seed drives the subset, the pixel shuffle, the initial weights,
the batch order and dropout; the intra-op thread count is fixed per run), so two requests with the same key give the
same records and weights, bit for bit (tests/test_identical_runs.py)."""
from __future__ import annotations

import functools
import hashlib
from dataclasses import replace
from pathlib import Path

import torch

from cnn_dash.data import Dataset
from cnn_dash.specs import ModelConfig, TrainSettings

# The modules whose code computes a run's numbers: a change to any of them is a new code version.
ENGINE = ("build.py", "data.py", "idx.py", "metrics.py", "records.py", "specs.py", "train.py")


@functools.cache
def code_version() -> str:
    """A digest of the engine's source and torch's version."""
    digest = hashlib.sha256(torch.__version__.encode())
    for name in ENGINE:
        digest.update((Path(__file__).parent / name).read_bytes())
    return digest.hexdigest()[:16]


def run_key(settings: TrainSettings, models: tuple[ModelConfig, ...], dataset: Dataset, threads: int | None,
            device: str) -> str:
    """The key of a run: its settings with the data source actually used, every model's label, layers, input shape
    and optimizer, the threads and device it trains with, and the code's version."""
    data = (dataset.name, dataset.source_kind, dataset.source, len(dataset.train_labels), len(dataset.test_labels))
    specs = tuple((m.label, m.net.layers, m.net.input_shape, m.optimizer) for m in models)
    parts = (code_version(), replace(settings, source=None), data, specs, threads, device)
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:24]

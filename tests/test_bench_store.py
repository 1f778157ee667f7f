"""Smoke test of bench/bench_train.py's run-store parts: the engine saving to a store, and the save/load timing."""
from __future__ import annotations

import os

import pytest

from cnn_dash.specs import TrainSettings


@pytest.fixture
def bench(monkeypatch):
    """bench.bench_train, imported with the environment restored afterwards (it points CNN_DASH_DATA_DIR at the
    full datasets when they are there)."""
    monkeypatch.setenv("CNN_DASH_DATA_DIR", os.environ.get("CNN_DASH_DATA_DIR", ""))
    from bench import bench_train  # imported here, not at the top: its import changes the environment

    return bench_train


def test_the_engine_saving_to_a_store_and_the_save_and_load_timings_run(bench, capsys):
    settings = TrainSettings(train_subset=200, batch_size=50, source="bundled")
    assert bench.engine_with_store(settings) > 0
    bench.store_costs(settings)
    out = capsys.readouterr().out
    assert "saved in" in out and "loaded back" in out and " 0 records" not in out

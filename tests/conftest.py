"""Shared test set-up: the app's path, no download attempts unless a test asks for one, and a run store of the
test session's own."""
from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "streamlit_app.py")  # AppTest resolves relative paths against the calling file

# Tests run offline and fast: the data layer skips its download step unless a test re-enables it.
os.environ.setdefault("CNN_DASH_DOWNLOAD", "0")
# Runs are stored in a folder of this test session's own, never in $HOME; servers started by tests inherit it.
if "CNN_DASH_STATE_DIR" not in os.environ:
    os.environ["CNN_DASH_STATE_DIR"] = tempfile.mkdtemp(prefix="cnn-dash-state-")
    atexit.register(shutil.rmtree, os.environ["CNN_DASH_STATE_DIR"], True)


def wait_for_run(run, timeout: float = 120.0):
    """Poll a Run (or a scheduler's Training) until it is neither queued nor training (AppTest does not wait for
    threads)."""
    end = time.monotonic() + timeout
    while run.active and time.monotonic() < end:
        time.sleep(0.05)
    assert not run.active, f"{getattr(run, 'name', 'a training')} still {run.status}"
    return run


def fresh_owner(registry):
    """A new owner's registry (another browser) holding `registry`'s runs: a page that remembers something of its
    owner (the run last viewed, picked again after a reload) starts each test as a first visit does."""
    from cnn_dash.registry import RunRegistry  # here, like the scheduler fixture's import: conftest stays torch-free

    return RunRegistry(registry.scheduler, runs=registry.runs())


@pytest.fixture
def scheduler():
    """A scheduler of this test's own with one training slot (queue positions are certain); its runs are stopped
    and waited for afterwards."""
    from cnn_dash.scheduler import Scheduler

    sched = Scheduler(max_running=1, cores=2, orphan_after_s=60)
    yield sched
    jobs = sched.jobs()
    sched.stop_all()
    for job in jobs:
        wait_for_run(job)
    wait_until_idle(sched)


def wait_until_idle(sched, timeout: float = 120.0) -> None:
    """Poll until the scheduler runs and queues nothing. A finished training's thread goes on to time a few steps of
    a net never timed before (the scheduler's pace): a process that exits meanwhile aborts inside torch ("terminate
    called without an active exception")."""
    end = time.monotonic() + timeout
    while sched.counts() != (0, 0) and time.monotonic() < end:
        time.sleep(0.05)


@pytest.fixture
def limit_checks(monkeypatch):
    """Every call of limits.check_run from here on, wherever a cnn_dash module imported it: (settings, models)."""
    from cnn_dash import limits  # here, like the scheduler fixture's import: conftest itself stays torch-free

    calls = []
    original = limits.check_run

    def counted(settings, models, *args, **kwargs):
        calls.append((settings, tuple(models)))
        return original(settings, models, *args, **kwargs)

    for module in list(sys.modules.values()):
        if getattr(module, "__name__", "").startswith("cnn_dash") and getattr(module, "check_run", None) is original:
            monkeypatch.setattr(module, "check_run", counted)
    return calls

"""Where and how torch computes: a GPU when there is one, else the CPU; the cores this process may use; the lower
CPU priority training threads run at. Training (the scheduler, with its concurrency per device), inference (a run's
models, built once for every page: Training.trained_models) and the step timings of cnn_dash.estimate all ask here;
everything works on a CPU-only machine."""
from __future__ import annotations

import os
import threading

import torch


def default_device() -> torch.device:
    """A GPU when torch sees one, else the CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def cpu_count() -> int:
    """The cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def background_priority(lower_by: int = 10) -> None:
    """Lower this thread's CPU priority, and so that of the threads it starts (Linux: nice is per thread and
    inherited): the server draws pages first and training takes what is left, so clicks are answered while
    runs train. Training alone on a machine runs as fast as before. A no-op where it is not allowed."""
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + lower_by))
    except (AttributeError, OSError):  # not on Linux, or not permitted
        pass

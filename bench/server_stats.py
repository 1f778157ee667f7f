"""The server under load, seen from outside: its process tree's memory and CPU from /proc, its health check's
latency, a sampler thread; shared by the load benches (bench/load_test.py, bench/ws_load.py)."""
from __future__ import annotations

import math
import os
import threading
import time
import urllib.request
from pathlib import Path
from typing import Callable

SAMPLE_S = 0.2
HEALTH_TIMEOUT_S = 30.0


def server_pid(port: int) -> int:
    """The pid of the `streamlit run ... --server.port <port>` process."""
    for entry in Path("/proc").iterdir():
        try:
            args = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"streamlit" in args and b"--server.port" in args \
                and args[args.index(b"--server.port") + 1] == str(port).encode():
            return int(entry.name)
    raise RuntimeError(f"no streamlit process serves port {port}")


def descendants(pid: int) -> list[int]:
    """A process and everything it started that still runs."""
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        try:
            for task in Path(f"/proc/{p}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, ValueError):  # gone meanwhile
            continue
    return found


def _proc(pid: int, name: str) -> str:
    try:
        return Path(f"/proc/{pid}/{name}").read_text()
    except OSError:
        return ""


def tree_rss(pid: int) -> int:
    """Resident bytes of a process and all its descendants."""
    page = os.sysconf("SC_PAGE_SIZE")
    return sum(int(statm.split()[1]) * page for p in descendants(pid) if (statm := _proc(p, "statm")))


def tree_cpu(pid: int) -> float:
    """CPU seconds (user + system, reaped children included) of a process and all its descendants."""
    ticks = 0
    for p in descendants(pid):
        if stat := _proc(p, "stat"):
            ticks += sum(int(x) for x in stat[stat.rindex(")") + 2:].split()[11:15])  # utime .. cstime
    return ticks / os.sysconf("SC_CLK_TCK")


def cpu_now(server: int) -> tuple[float, float, float]:
    """CPU seconds so far: (the server, this script and what it started (a browser) but the server, the machine)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    machine = (sum(fields) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")  # all but idle and iowait
    served = tree_cpu(server)
    return served, tree_cpu(os.getpid()) - served, machine


def health_latency(url: str) -> float:
    """Seconds the server takes to answer its health check (its event loop's responsiveness)."""
    start = time.perf_counter()
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=HEALTH_TIMEOUT_S) as answer:
            answer.read()
    except OSError:
        return HEALTH_TIMEOUT_S
    return time.perf_counter() - start


class Sampler(threading.Thread):
    """Calls `measure()` every SAMPLE_S seconds until `stop()`, which returns (time.monotonic(), value) pairs."""

    def __init__(self, measure: Callable[[], float]):
        super().__init__(daemon=True)
        self.measure, self.values, self._halt = measure, [(time.monotonic(), measure())], threading.Event()

    def run(self) -> None:
        while not self._halt.wait(SAMPLE_S):
            self.values.append((time.monotonic(), self.measure()))

    def stop(self) -> list[tuple[float, float]]:
        self._halt.set()
        self.join()
        return self.values


def p95(values: list[float]) -> float:
    """Nearest-rank 95th percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)] if ordered else math.nan


def fmt(x: float | None) -> str:
    return "-" if x is None else f"{x:.1f}"

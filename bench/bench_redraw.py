"""What a live redraw of a training run costs the server: the chart and numbers of the run card, every POLL_S.

    python3 -m bench.bench_redraw [--viewers 1,30] [--watch 20] [--epochs 20]

1. In this process: building the live card's chart (curves_frame + run_figure) and serialising it as Streamlit
   does (plotly.io.to_json), for a Quick-demo-sized history at a quarter, half and all of the run: ms and bytes.
2. A real server on loopback, the bundled sample: N viewers, each a websocket session as bench/ws_load.py speaks
   it (no browser, so the figures are the server's, not 30 Chromium pages' on 2 cores), open the Training page
   with the Quick demo's models and settings for --epochs epochs and press Train together: identical runs train
   once, so all N watch one training run, as a class does. For --watch seconds (or until the run ends) each live
   refresh (a fragment rerun, every POLL_S) is timed from its request to its script-finished message (the
   server's part of a redraw), and the bytes received meanwhile are what it sent. Printed per N: refreshes,
   p50/p95 server ms per redraw, bytes per redraw, and the aim (p95 < 2 s).
Loops are bounded (the watch time; 60 s per page run). Prints; asserts nothing.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import plotly.io as pio  # noqa: E402

from cnn_dash.plots.curves import curves_frame, run_figure  # noqa: E402
from cnn_dash.presets import quick_demo  # noqa: E402
from cnn_dash.records import Progress  # noqa: E402
from cnn_dash.ui.run_card import CURVES_HEIGHT  # noqa: E402
from bench import ws_load  # noqa: E402
from bench.server_stats import p95  # noqa: E402
from tests.browser import streamlit_server  # noqa: E402

AIM_P95_S = 2.0


def demo_history(steps: int = 376, every: int = 3) -> list[Progress]:
    """A Quick-demo-sized history on full MNIST: 2 models, a record every 3 of 376 steps, a test at each epoch's end."""
    _, models = quick_demo()
    out = []
    for step in range(every, steps + 1, every):
        for m in models:
            tested = step % 188 < every
            out.append(Progress(m.label, step, steps, step / 188, 2.0 / step ** 0.5, 1 - 1 / step ** 0.5, 9000.0,
                                step / 40, *((0.1, 0.97) if tested else (None, None)), train_images=256 * step))
    return out


def in_process() -> None:
    history = demo_history()
    print("1. One redraw's chart, built and serialised in this process (Quick demo's history, full MNIST):")
    for share in (0.25, 0.5, 1.0):
        part = history[: int(len(history) * share)]
        times, size = [], 0
        for _ in range(20):
            start = time.perf_counter()
            spec = pio.to_json(run_figure(curves_frame({"Run 1": part}), 2, height=CURVES_HEIGHT), validate=False)
            times.append(time.perf_counter() - start)
            size = len(spec)
        print(f"   {share:4.0%} of the run ({len(part):3} records): {1000 * statistics.median(times):5.1f} ms median, "
              f"{size / 1024:5.1f} KiB of chart")


def link_query(epochs: int) -> str:
    """The Training page's link for the Quick demo's models and settings, trained for `epochs` epochs."""
    settings, models = quick_demo()
    query = {"train_batch": settings.batch_size, "train_epochs": epochs, "train_evals": 1, "train_decay": "true"}
    for i, m in enumerate(models):
        query |= {f"train_model_{i}_preset": m.net.name, f"train_opt_{i}_name": "Adam",
                  f"train_opt_{i}_lr_Adam": m.optimizer.lr}
    return urlencode(query)


def on_server(n: int, watch_s: float, epochs: int) -> None:
    """N websocket sessions (bench/ws_load.py's, no browser) press Train on one link together, so they watch one
    training run, and keep watching it for `watch_s` seconds (or until it ends): every live refresh timed."""
    sessions = [ws_load.Session(i, query=link_query(epochs)) for i in range(n)]
    load = ws_load.Load(sessions, "train_start", watch_s, (0.0, 0.0), browse=False)
    with streamlit_server(env={"CNN_DASH_DOWNLOAD": "0", "CNN_DASH_DATA_DIR": "",
                               "CNN_DASH_STATE_DIR": tempfile.mkdtemp(prefix="cnn-dash-redraw-")}) as url:
        asyncio.run(ws_load.warm_up(url))
        asyncio.run(ws_load.drive(url, load))
        wall_s = time.monotonic() - load.t0  # from the press on
    refreshes = [r for s in sessions for r in s.refreshes]
    server = [t for t, _ in refreshes]
    sizes = [b for _, b in refreshes]
    joined = sum(s.status is not None for s in sessions)
    if not refreshes:
        print(f"   {n:2} viewer(s): no live refresh in {wall_s:.0f} s ({joined} saw the run)")
        return
    print(f"   {n:2} viewer(s) of one run ({joined} saw it), {wall_s:.0f} s: {len(refreshes)} refreshes "
          f"({len(refreshes) / wall_s:.1f}/s); server ms per redraw p50 {1000 * statistics.median(server):.0f}, "
          f"p95 {1000 * p95(server):.0f} ({'within' if p95(server) < AIM_P95_S else 'OVER'} the "
          f"{AIM_P95_S:.0f} s aim); bytes per redraw median {statistics.median(sizes) / 1024:.1f} KiB, "
          f"p95 {p95(sizes) / 1024:.1f} KiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--viewers", default="1,30", help="viewer counts, one server each (default 1,30)")
    parser.add_argument("--watch", type=float, default=20.0, help="seconds of watching (default 20)")
    parser.add_argument("--epochs", type=int, default=20, help="the run's epochs: long enough to watch (default 20)")
    args = parser.parse_args()
    in_process()
    print(f"2. Live refreshes on a real server (loopback, bundled sample, websocket sessions without a browser; load "
          f"average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores):")
    for n in (int(v) for v in args.viewers.split(",")):
        on_server(n, args.watch, args.epochs)


if __name__ == "__main__":
    main()

"""What a live redraw of a training run costs the server: the chart and numbers of the run card, every POLL_S.

    python3 -m bench.bench_redraw [--viewers 1,30] [--watch 20]

1. In this process: building the live card's chart (curves_frame + run_figure) and serialising it as Streamlit
   does (plotly.io.to_json), for a Quick-demo-sized history at a quarter, half and all of the run: ms and bytes.
2. A real server on loopback and headless Chromium: N viewers (one browser context each, the bundled sample)
   open the Training page with the Quick demo's settings for 20 epochs and press Train together. One run trains,
   the rest wait in the queue (the default of one run per two cores), as in a class. For --watch seconds every
   page's websocket is read: each live refresh (a fragment rerun request) until its script-finished message is
   the server's part of a redraw, and the bytes received meanwhile are what it sent. Printed per N: refreshes,
   p50/p95 server ms, bytes per refresh of the training run's page and of a waiting one, and the aim (p95 < 2 s).
Loops are bounded (the watch time; 120 s for set-up). Prints; asserts nothing.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import plotly.io as pio  # noqa: E402
from streamlit.proto.BackMsg_pb2 import BackMsg  # noqa: E402
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg  # noqa: E402

from cnn_dash.plots.curves import curves_frame, run_figure  # noqa: E402
from cnn_dash.presets import quick_demo  # noqa: E402
from cnn_dash.records import Progress  # noqa: E402
from cnn_dash.ui.run_card import CURVES_HEIGHT  # noqa: E402
from tests.browser import IDLE, chromium, streamlit_server  # noqa: E402

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


@dataclass
class Viewer:
    """One browser session's websocket: live refreshes (request -> script finished) and the bytes between."""

    asked: float | None = None
    received: int = 0
    refreshes: list[tuple[float, int]] = field(default_factory=list)  # (server seconds, bytes)

    def on_websocket(self, ws) -> None:
        ws.on("framesent", self.sent)
        ws.on("framereceived", self.got)

    def sent(self, payload) -> None:
        if isinstance(payload, bytes):
            message = BackMsg()
            message.ParseFromString(payload)
            if message.WhichOneof("type") == "rerun_script" and message.rerun_script.fragment_id:
                self.asked, self.received = time.perf_counter(), 0

    def got(self, payload) -> None:
        if not isinstance(payload, bytes) or self.asked is None:
            return
        self.received += len(payload)
        if len(payload) < 256:
            message = ForwardMsg()
            message.ParseFromString(payload)
            if message.WhichOneof("type") == "script_finished":
                self.refreshes.append((time.perf_counter() - self.asked, self.received))
                self.asked = None


def link() -> str:
    settings, models = quick_demo()
    query = {"train_batch": settings.batch_size, "train_epochs": 20, "train_evals": 1, "train_decay": "true"}
    for i, m in enumerate(models):
        query |= {f"train_model_{i}_preset": m.net.name, f"train_opt_{i}_name": "Adam",
                  f"train_opt_{i}_lr_Adam": m.optimizer.lr}
    return "/training?" + urlencode(query)


def p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def on_server(n: int, watch_s: float) -> None:
    with streamlit_server(env={"CNN_DASH_DOWNLOAD": "0", "CNN_DASH_DATA_DIR": ""}) as url, chromium() as browser:
        viewers, pages = [], []
        for _ in range(n):
            page = browser.new_context(viewport={"width": 1280, "height": 720}).new_page()
            viewer = Viewer()
            page.on("websocket", viewer.on_websocket)
            page.goto(url + link())
            viewers.append(viewer)
            pages.append(page)
        for page in pages:
            page.wait_for_selector(IDLE, timeout=120_000)
        for page in pages:
            page.get_by_role("button", name="Train", exact=True).click()
        end = time.monotonic() + watch_s
        while time.monotonic() < end:
            pages[0].wait_for_timeout(250)  # Playwright delivers every page's websocket events meanwhile
        for page in pages:  # leave the server as found: stop every run
            button = page.get_by_role("button", name="Stop").or_(page.get_by_role("button", name="Cancel"))
            if button.count():
                button.first.click()
    refreshes = [r for v in viewers for r in v.refreshes]
    server = [s for s, _ in refreshes]
    training = max(viewers, key=lambda v: len(v.refreshes))  # the page of the run that trains refreshes most
    others = [b for v in viewers if v is not training for _, b in v.refreshes]
    print(f"   {n:2} viewer(s), {watch_s:.0f} s: {len(refreshes)} refreshes ({len(refreshes) / watch_s:.1f}/s); "
          f"server part p50 {1000 * p(server, 0.5):.0f} ms, p95 {1000 * p(server, 0.95):.0f} ms "
          f"({'within' if p(server, 0.95) < AIM_P95_S else 'OVER'} the {AIM_P95_S:.0f} s aim); bytes per refresh: "
          f"training run's page {statistics.median([b for _, b in training.refreshes] or [0]) / 1024:.1f} KiB, "
          f"a waiting run's {statistics.median(others or [0]) / 1024:.1f} KiB")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--viewers", default="1,30")
    parser.add_argument("--watch", type=float, default=20.0)
    args = parser.parse_args()
    in_process()
    print("2. Live refreshes on a real server (loopback, bundled sample, one run training, the rest queued):")
    for n in (int(v) for v in args.viewers.split(",")):
        on_server(n, args.watch)


if __name__ == "__main__":
    main()

"""A classroom at once: N browser sessions start a small training run together on the real server.

    python3 -m bench.load_test [--sessions 10] [--timeout 300] [--images 1000] [--epochs 1] [--think 2,5]
                               [--env NAME=VALUE]

Starts `streamlit run` itself (downloads off; --env adds server settings to compare) and one headless Chromium with
one Playwright context per session. Every session opens the Training page, sets a small run with the page's own
widgets (its seed is its number, so a run shows whose it is) and all press Train together. While the runs train or
wait, every session keeps using the app (sidebar to Home and back, 3 models then 2, reading the page for --think
seconds between two clicks) and times each interaction in the page itself, from the click's input event until the
page has drawn the answer (Playwright's own work before the click, finding the element and checking it can be
clicked, and its round trips to the browser are printed apart); those over the aim are listed with when they
happened. It stops by itself once every run has ended, or at the timeout (plus at most one unanswered interaction),
and prints runs finished, queue waits, the p95 interaction time and the server's peak memory (RSS of the streamlit
process and its children from /proc, every 0.2 s), each beside its aim, then the server's part of the interactions
(read off each page's websocket: a page-run request until its script-finished message), the server's health-check
latency and where the CPU went. A benchmark: it prints PASS/MISS and asserts nothing.
"""
from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import math
import os
import random
import re
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from playwright.async_api import Error as PlaywrightError  # noqa: E402
from playwright.async_api import async_playwright  # noqa: E402
from streamlit.proto.BackMsg_pb2 import BackMsg  # noqa: E402
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg  # noqa: E402

# The async API cannot use the sync `chromium()` / `wait_idle` helpers, so it takes their settings instead.
from bench.server_stats import Sampler, cpu_now, fmt, health_latency, p95, server_pid, tree_rss  # noqa: E402
from tests.browser import CHROMIUM, CHROMIUM_ARGS, IDLE, streamlit_server  # noqa: E402

AIM_P95_S = 2.0
AIM_MEMORY = 2 * 1024**3  # bytes
WAIT_MS = 30_000  # one interaction; longer counts as a problem (and at this time in the p95)
THINK_S = (2.0, 5.0)  # a visitor's pause between two interactions (reading the page), seconds; see --think
POLL_S = 0.5  # how often a visitor on the Training page reads the run's status meanwhile
TRAINING_H1, HOME_H1 = "Train side by side", "beat fully-connected"
HOME_LAST = "28×28 grey pixels"  # the caption that ends the Home page
STATUS = re.compile(r"Run 1 — (queued|running|finished|stopped|failed)")
ENDED = ("finished", "stopped", "failed")
QUEUE = re.compile(r"number (\d+) in the queue \((\d+) run\(s\) training on this server, (\d+) waiting\)")
SEED = re.compile(r" · seed (\d+)")
SMALL_FRAME = 256  # bytes: a script-finished message is a few dozen; the deltas with the page are far bigger
IS_IDLE = f"document.querySelector({json.dumps(IDLE)}) !== null"


# --- one browser session ---------------------------------------------------------------------------------------

@dataclass
class Session:
    """What one visitor saw: times are seconds after the common Train click."""

    seed: int
    status: str | None = None  # the last run status the page showed
    queue_position: int | None = None  # the first queue position shown, None if never shown queued
    started_s: float | None = None  # first seen no longer queued
    ended_s: float | None = None  # first seen finished, stopped or failed
    most_training: int = 0  # the most runs the queue message said were training at once
    interactions: list[tuple[str, float]] = field(default_factory=list)  # (what, seconds)
    slow: list[str] = field(default_factory=list)  # the interactions over the aim, with when and the run's status
    problems: list[str] = field(default_factory=list)
    where: str = "Training"  # the page the visitor is on
    gave_up: bool = False  # set-up failed, or the session has stopped
    disconnected: bool = False  # the page lost its server for good ("Connection error")
    console: list[str] = field(default_factory=list)  # the browser's last connection messages
    wire: list[tuple[float, str]] = field(default_factory=list)  # the websocket: (time, "ask" or "done")
    server_s: list[float] = field(default_factory=list)  # each interaction's rerun request to its script's end
    harness: list[float] = field(default_factory=list)  # each interaction as this script saw it (see CLICK_CLOCK)
    unclocked: int = 0  # interactions the page saw no click for, timed by this script instead

    def on_websocket(self, ws) -> None:
        ws.on("framesent", self.on_sent)
        ws.on("framereceived", self.on_received)

    def on_sent(self, payload) -> None:
        if isinstance(payload, bytes):
            message = BackMsg()
            message.ParseFromString(payload)
            if message.WhichOneof("type") == "rerun_script" and not message.rerun_script.fragment_id:
                self.wire.append((time.perf_counter(), "ask"))  # a whole-page run: a click, not a live refresh

    def on_received(self, payload) -> None:
        if isinstance(payload, bytes) and len(payload) < SMALL_FRAME:
            message = ForwardMsg()
            message.ParseFromString(payload)
            if message.WhichOneof("type") == "script_finished" \
                    and message.script_finished == ForwardMsg.FINISHED_SUCCESSFULLY:
                self.wire.append((time.perf_counter(), "done"))

    def server_part(self, since: int) -> float | None:
        """From the first page-run request after wire[since] to the end of a page run after it."""
        asked = next((t for t, kind in self.wire[since:] if kind == "ask"), None)
        if asked is None:
            return None
        done = next((t for t, kind in self.wire[since:] if kind == "done" and t > asked), None)
        return None if done is None else done - asked

    def on_console(self, message) -> None:
        if message.type == "error" or re.search(r"(?i)websocket|heartbeat|connect", message.text):
            self.console = [*self.console[-4:], f"{message.type}: {message.text[:160]}"]

    def note(self, problem: str) -> None:
        if problem not in self.problems:
            self.problems.append(problem)


async def settle(page, condition: str, idle: bool = True) -> None:
    """Wait until `condition` (JavaScript) holds and, if `idle`, the app is not running a script."""
    await page.wait_for_function(f"() => {IS_IDLE if idle else 'true'} && ({condition})", polling=100,
                                 timeout=WAIT_MS)


async def set_number(page, key: str, value: int) -> None:
    """Type a value into a number input (found by its widget key) and let the app rerun."""
    box = page.locator(f".st-key-{key} input")
    await box.fill(str(value))
    await box.press("Enter")
    await page.wait_for_timeout(300)
    await settle(page, f"document.querySelector('.st-key-{key} input').value == '{value}'")


def h1_has(text: str) -> str:
    return f"(document.querySelector('h1') || {{textContent: ''}}).textContent.includes({json.dumps(text)})"


# While a run is live its fragment reruns every second, and under load it is hardly ever idle, so an
# interaction is answered when its page is drawn past the point that shows the answer: on the Training page,
# when the Train button (after the model columns and settings) is drawn again, no longer greyed out as stale.
MAIN_HAS = "document.querySelector(\"[data-testid='stMain']\").textContent.includes({})".format
RUN_SHOWN = MAIN_HAS("'Run 1 — '")
# A button with help text is drawn twice, once hidden (Streamlit's layout measure): the visible one is clicked.
TRAIN_BUTTON = ".st-key-train_start button:visible"
TRAIN_DRAWN = "document.querySelector(\".st-key-train_start[data-stale='false']\") !== null"
THIRD_MODEL = "document.querySelector('.st-key-train_opt_2_name') !== null"
ACTIONS = (  # (name, how to act, what shows the app has answered); one cycle ends where it began
    ("Home", lambda p: p.locator("[data-testid='stSidebarNav'] a", has_text="Home").first.click(),
     f"{h1_has(HOME_H1)} && {MAIN_HAS(json.dumps(HOME_LAST))}"),
    ("Training", lambda p: p.locator("[data-testid='stSidebarNav'] a", has_text="Training").first.click(),
     f"{h1_has(TRAINING_H1)} && {TRAIN_DRAWN} && {RUN_SHOWN}"),
    ("3 models", lambda p: p.locator(".st-key-train_count").get_by_text("3", exact=True).click(),
     f"{THIRD_MODEL} && {TRAIN_DRAWN}"),
    ("2 models", lambda p: p.locator(".st-key-train_count").get_by_text("2", exact=True).click(),
     f"!({THIRD_MODEL}) && {TRAIN_DRAWN}"),
)


# An interaction is timed in the page, as a visitor would see it: from the click's input event (its timeStamp: when
# the browser got the click, however busy the page was) until the answer is on the page and the frame showing it has
# been laid out and painted. Timed from this script, it would also count Playwright's own work before its click
# (finding the element, waiting until it is visible, stable and not covered) and the round trips: 0.3 s more at the
# median under this load (measured), none of which a visitor waits for.
CLICK_CLOCK = "addEventListener('pointerdown', e => { window.__clickAt = e.timeStamp }, true)"


def answer_waiter(condition: str) -> str:
    """JavaScript resolving to [click time, answer drawn] (page clock, ms) once `condition` holds."""
    return f"""() => new Promise((resolve, reject) => {{
        const check = () => {{ try {{ return !!({condition}) }} catch (e) {{ return false }} }};
        const done = () => {{ observer.disconnect(); clearTimeout(timer);  // in a frame: resolve once it is painted
                              setTimeout(() => resolve([window.__clickAt ?? null, performance.now()])) }};
        let pending = false;  // the answer is looked for in the next frame after a change, not at every change
        const observer = new MutationObserver(() => {{ if (!pending) {{ pending = true; requestAnimationFrame(() => {{
                                                         pending = false; if (check()) done() }}) }} }});
        const timer = setTimeout(() => {{ observer.disconnect(); reject(new Error('no answer')) }}, {WAIT_MS});
        if (check()) done();
        else observer.observe(document, {{childList: true, subtree: true, attributes: true, characterData: true}});
    }})"""


async def interact(page, s: Session, name: str, act, answered: str, t0: float) -> None:
    """One timed interaction: click, then wait until the page shows the answer."""
    await page.evaluate("window.__clickAt = null")
    start, since = time.perf_counter(), len(s.wire)
    try:
        await act(page)
        clicked, shown = await page.evaluate(answer_waiter(answered))
        s.harness.append(time.perf_counter() - start)
        s.unclocked += clicked is None
        s.interactions.append((name, s.harness[-1] if clicked is None else (shown - clicked) / 1000))
        if (server := s.server_part(since)) is not None:
            s.server_s.append(server)
        if s.interactions[-1][1] > AIM_P95_S:
            s.slow.append(f"{name} {s.interactions[-1][1]:.1f} s (server {fmt(server)} s) at "
                          f"+{time.monotonic() - t0:.0f} s (run {s.status})")
    except PlaywrightError as exc:
        s.interactions.append((name, max(time.perf_counter() - start, WAIT_MS / 1000)))
        app = await page.evaluate("(document.querySelector(\"[data-testid='stApp']\") || {dataset: {}}).dataset")
        s.note(f"'{name}' got no answer (connection {app.get('testConnectionState')}, script "
               f"{app.get('testScriptState')}): {str(exc).splitlines()[0][:60]}")
        if app.get("testConnectionState") == "DISCONNECTED_FOREVER":
            s.disconnected = True
            s.note(f"the page lost the server for good; browser console before: {' | '.join(s.console) or '-'}")
    s.where = name if name in ("Home", "Training") else "Training"
    await note_exceptions(page, s)


# The main area's text, one line per element (an element's textContent runs straight into the next one's, so
# "seed 2" then "45%" would read "seed 245%"), and the exceptions shown. textContent, not Playwright's
# inner_text: innerText makes the browser lay the page out, and ten idle Training pages read that way every
# POLL_S cost a quarter of a core (measured), taken from the app being measured.
READ_PAGE = """() => [[...document.querySelectorAll(
                          "[data-testid='stMain'] :is([data-testid='stElementContainer'], summary)")]
                          .map(e => e.textContent).join('\\n'),
                      [...document.querySelectorAll("[data-testid='stException']")].map(e => e.textContent)]"""


async def note_exceptions(page, s: Session, shown: list[str] | None = None) -> None:
    if shown is None:
        _, shown = await page.evaluate(READ_PAGE)
    for text in shown:
        s.note(f"exception shown on {s.where}: {text.strip()[:300]}")


async def observe(page, s: Session, t0: float) -> None:
    """Read the run's status and queue position off the Training page; note exceptions and others' runs."""
    if s.where != "Training":
        return
    now = time.monotonic() - t0
    text, shown = await page.evaluate(READ_PAGE)
    await note_exceptions(page, s, shown)
    if others := {int(x) for x in SEED.findall(text)} - {s.seed}:
        s.note(f"saw runs of other sessions (seeds {sorted(others)})")
    if queued := QUEUE.search(text):
        s.queue_position = s.queue_position or int(queued[1])
        s.most_training = max(s.most_training, int(queued[2]))
    if status := STATUS.search(text):
        s.status = status[1]
        if s.status != "queued" and s.started_s is None:
            s.started_s = now
        if s.status in ENDED and s.ended_s is None:
            s.ended_s = now


async def prepare(browser, url: str, s: Session, images: int, epochs: int):
    """A fresh visitor on the Training page with a small run set up: the page, ready to press Train."""
    context = await browser.new_context(viewport={"width": 1400, "height": 1000})
    await context.add_init_script(CLICK_CLOCK)
    page = await context.new_page()
    page.on("console", s.on_console)
    page.on("websocket", s.on_websocket)
    await page.goto(f"{url}/training", timeout=120_000)
    await page.wait_for_selector(IDLE, timeout=120_000)
    await settle(page, h1_has(TRAINING_H1))
    if not await page.locator(".st-key-dataset_title").count():  # what a page drawn without the router lacks
        s.note("the Training page was drawn without the router: no dataset picker in the sidebar")
    for key, value in (("train_subset", images), ("train_epochs", epochs), ("train_evals", 1),
                       ("train_seed", s.seed)):
        await set_number(page, key, value)
    return page


async def visit(browser, url: str, s: Session, load: "Load") -> None:
    """Set up, press Train with everyone else, then use the app until every run has ended."""
    page = None
    try:
        page = await prepare(browser, url, s, load.images, load.epochs)
    except Exception as exc:  # noqa: BLE001 - one broken session must not hold the others at the barrier
        s.gave_up = True
        s.note(f"set-up failed: {str(exc).splitlines()[0][:160]}")
    await load.ready.wait()  # everyone presses Train together (a failed set-up still counts in)
    load.t0 = load.t0 or time.monotonic()
    if page is None:
        return
    try:
        # Timed like any interaction; a click elsewhere before the run shows would drop the Train click.
        await interact(page, s, "Train", lambda p: p.locator(TRAIN_BUTTON).click(), RUN_SHOWN,
                       load.t0)
        rng, cycle = random.Random(s.seed), itertools.cycle(ACTIONS)
        while not s.disconnected:
            for _ in range(round(rng.uniform(*load.think_s) / POLL_S)):  # the visitor reads the page
                await observe(page, s, load.t0)
                await asyncio.sleep(POLL_S)
            load.check()
            if load.over():
                break
            await interact(page, s, *next(cycle), load.t0)
        if s.disconnected:
            return
        if s.where != "Training":  # the last look at the run, not timed: the load is over
            name, act, answered = ACTIONS[1]
            await act(page)
            await settle(page, answered, idle=False)
            s.where = "Training"
        await observe(page, s, load.t0)
    except PlaywrightError as exc:
        s.note(f"session broke off: {str(exc).splitlines()[0][:160]}")
    finally:
        s.gave_up = True
        await page.context.close()


@dataclass
class Load:
    """The sessions, their common start and the end condition."""

    sessions: list[Session]
    images: int
    epochs: int
    timeout_s: float
    think_s: tuple[float, float] = THINK_S
    server: int = 0  # the server's pid
    port: int = 0
    ready: asyncio.Barrier = None  # type: ignore[assignment]
    t0: float = 0.0  # when every session pressed Train
    done: bool = False
    cpu: list[tuple[float, float, float]] = field(default_factory=list)  # cpu_now() at t0 and at the end
    wall_s: float = 0.0  # from t0 to the end

    def check(self) -> None:
        self.done = self.done or all(s.ended_s is not None or s.gave_up for s in self.sessions)

    def over(self) -> bool:
        return self.done or time.monotonic() - self.t0 > self.timeout_s


async def drive(url: str, load: Load) -> None:
    """All sessions in one Chromium, concurrently; t0 is when they press Train."""
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        load.ready = asyncio.Barrier(len(load.sessions) + 1)
        tasks = [asyncio.create_task(visit(browser, url, s, load)) for s in load.sessions]
        await load.ready.wait()
        load.t0, load.cpu = load.t0 or time.monotonic(), [cpu_now(load.server)]
        await asyncio.gather(*tasks)
        load.wall_s, load.cpu = time.monotonic() - load.t0, load.cpu + [cpu_now(load.server)]
        await browser.close()


async def warm_up(url: str) -> None:
    """One visit to the Training page first, so the imports and the dataset load are not timed."""
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = await browser.new_page()
        await page.goto(f"{url}/training", timeout=120_000)
        await settle(page, h1_has(TRAINING_H1))
        await browser.close()


# --- report ----------------------------------------------------------------------------------------------------

def print_sessions(sessions: list[Session]) -> None:
    print(f"\n{'session':>7} {'queued at':>9} {'wait s':>7} {'end s':>6} {'final':>9} {'inter.':>6} {'p95 s':>6}  "
          f"problems")
    for i, s in enumerate(sessions):
        wait = s.started_s if s.queue_position else None
        times = [t for _, t in s.interactions]
        print(f"{i:>7} {s.queue_position or '-':>9} {fmt(wait):>7} {fmt(s.ended_s):>6} {s.status or 'not seen':>9} "
              f"{len(times):>6} {p95(times):>6.2f}  {'; '.join(s.problems) or '-'}")


def print_interactions(sessions: list[Session]) -> list[float]:
    """Median and p95 per kind of interaction; returns every interaction time."""
    kinds: dict[str, list[float]] = {}
    for s in sessions:
        for name, t in s.interactions:
            kinds.setdefault(name, []).append(t)
    for name, times in kinds.items():
        print(f"  {name:<9} n={len(times):<4} median {statistics.median(times):5.2f} s   p95 {p95(times):5.2f} s   "
              f"max {max(times):5.2f} s")
    return [t for times in kinds.values() for t in times]


def print_cpu(load: Load) -> None:
    if len(load.cpu) < 2:
        return
    (server0, ours0, machine0), (server1, ours1, machine1) = load.cpu
    server, ours, machine = server1 - server0, ours1 - ours0, machine1 - machine0
    print(f"CPU over the {load.wall_s:.0f} s of load ({load.wall_s * os.cpu_count():.0f} core-seconds on "
          f"{os.cpu_count()} cores): server {server:.0f} s, Chromium + Playwright + this script {ours:.0f} s, "
          f"everything else on the machine {max(machine - server - ours, 0):.0f} s")


def print_runs(sessions: list[Session]) -> tuple[str, bool]:
    """Runs finished, queued and lost; (in short, whether every run finished, trains or was visibly queued)."""
    finished = sum(s.status == "finished" for s in sessions)
    waiting = sum(s.status in ("queued", "running") and not s.disconnected for s in sessions)
    lost = sum(s.status != "finished" and (s.disconnected or not (s.status == "running" or s.status == "queued"
                                                                   and s.queue_position)) for s in sessions)
    waits = sorted(s.started_s for s in sessions if s.queue_position and s.started_s is not None)
    print(f"\nruns finished: {finished}/{len(sessions)}; still training or queued at the end: {waiting}; "
          f"lost (failed, stopped, never shown, queued without showing it, or its page disconnected): {lost}")
    print(f"visibly queued (the page showed their place in the queue): "
          f"{sum(bool(s.queue_position) for s in sessions)}; their queue waits, Train click to first seen out of "
          f"the queue (s, seen to within a few s): {', '.join(f'{w:.0f}' for w in waits) or '-'}")
    print(f"most runs training at once (as the queue message said): {max(s.most_training for s in sessions)}")
    return f"{finished} finished, {waiting} waiting, {lost} lost", lost == 0


def print_server(load: Load, peak: float, baseline: float, health: list[tuple[float, float]]) -> None:
    """Memory, health-check latency during the load, CPU, and tracebacks in the server's log."""
    during = [(t - load.t0 - s, s) for t, s in health if load.t0 <= t <= load.t0 + load.wall_s]  # (asked at, s)
    answers = [s for _, s in during] or [math.nan]
    slowest = ", ".join(f"{s:.1f} s asked at +{max(t, 0):.0f} s" for t, s in sorted(during, key=lambda x: -x[1])[:4])
    print(f"server RSS (streamlit and children): after warm-up {baseline / 2**20:,.0f} MiB, "
          f"peak {peak / 2**20:,.0f} MiB")
    print(f"server health check during the load (its event loop; slow means the whole server stalled): median "
          f"{statistics.median(answers) * 1000:.0f} ms, p95 {p95(answers) * 1000:.0f} ms, max {max(answers):.2f} s; "
          f"slowest: {slowest or '-'}")
    print_cpu(load)
    log = ROOT / ".pytest_cache" / f"streamlit-{load.port}.log"  # where tests.browser puts the server's output
    if log.exists():
        tracebacks = log.read_text(errors="replace").count("Traceback")
        print(f"server log {log.relative_to(ROOT)}: {tracebacks} traceback(s)")


def report(load: Load, memory: list[tuple[float, float]], health: list[tuple[float, float]]) -> None:
    """Every session, then the measurements, then the aims with PASS or MISS."""
    print_sessions(load.sessions)
    runs, runs_ok = print_runs(load.sessions)
    print("page interactions during the load (timed in the page: the click until the answer is drawn):")
    times = print_interactions(load.sessions)
    unclocked = sum(s.unclocked for s in load.sessions)
    print(f"  all       n={len(times):<4} p95 {p95(times):.2f} s"
          + (f" ({unclocked} with no click seen in the page, timed by this script)" if unclocked else ""))
    if harness := [t for s in load.sessions for t in s.harness]:
        print(f"  the same as this script saw them, Playwright's finding and checking the element before its click "
              f"and the round trips included: median {statistics.median(harness):.2f} s, p95 {p95(harness):.2f} s")
    server = [t for s in load.sessions for t in s.server_s]
    if server:
        print(f"  the server's part (the page-run request sent until its script-finished message came "
              f"back, as Playwright saw the websocket, its delivery of the messages included): n={len(server)} median "
              f"{statistics.median(server):.2f} s, p95 {p95(server):.2f} s, max {max(server):.2f} s")
    for i, s in enumerate(load.sessions):
        if s.slow:
            print(f"  over {AIM_P95_S:g} s in session {i}: {'; '.join(s.slow)}")
    peak = max(rss for _, rss in memory)
    print_server(load, peak, memory[0][1], health)
    aims = (
        ("every run finishes or is visibly queued", runs, runs_ok),
        (f"p95 page interaction < {AIM_P95_S:g} s", f"{p95(times):.2f} s", p95(times) < AIM_P95_S),
        (f"peak server memory < {AIM_MEMORY / 1024**3:g} GB", f"{peak / 1024**3:.2f} GB", peak < AIM_MEMORY),
    )
    print(f"\n{'aim':<44} {'measured':<36} result")
    for aim, measured, ok in aims:
        print(f"{aim:<44} {measured:<36} {'PASS' if ok else 'MISS'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sessions", type=int, default=10, help="concurrent browser sessions (default 10)")
    parser.add_argument("--timeout", type=float, default=300, help="seconds after Train before it stops (300)")
    parser.add_argument("--images", type=int, default=1000, help="training images per run (1000)")
    parser.add_argument("--epochs", type=int, default=1, help="epochs per run (1)")
    parser.add_argument("--think", default=f"{THINK_S[0]:g},{THINK_S[1]:g}", metavar="MIN,MAX",
                        help="a visitor's pause between two interactions, drawn uniformly (seconds; default "
                             f"{THINK_S[0]:g},{THINK_S[1]:g}; 0.5,1.5 is a stress test: a click a second each)")
    parser.add_argument("--env", action="append", default=[], metavar="NAME=VALUE",
                        help="server environment to compare, e.g. STREAMLIT_RUNNER_POST_SCRIPT_GC=false")
    args = parser.parse_args()
    # The server's run store in a folder of its own (never $HOME's), unless the caller names one.
    state = os.environ.get("CNN_DASH_STATE_DIR") or tempfile.mkdtemp(prefix="cnn-dash-load-test-")
    env = {"CNN_DASH_DOWNLOAD": "0", "CNN_DASH_STATE_DIR": state, **dict(pair.split("=", 1) for pair in args.env)}
    think = tuple(float(x) for x in args.think.split(","))
    load = Load([Session(seed=i) for i in range(args.sessions)], args.images, args.epochs, args.timeout, think)
    print(f"cnn-dash load test: {args.sessions} browser sessions press Train at once, each a run of the page's "
          f"default 2 models on {args.images:,} images for {args.epochs} epoch(s); between two clicks a visitor "
          f"reads the page for {think[0]:g}-{think[1]:g} s.\nThe server, one Chromium "
          f"with every session and this script share this machine's {os.cpu_count()} cores, and timings move "
          f"with whatever else runs here.\nServer environment: {env}", flush=True)
    with streamlit_server(env=env) as url:
        load.port = urlparse(url).port
        load.server = server_pid(load.port)
        asyncio.run(warm_up(url))
        memory, health = Sampler(lambda: tree_rss(load.server)), Sampler(lambda: health_latency(url))
        memory.start()
        health.start()
        asyncio.run(drive(url, load))
        samples = memory.stop(), health.stop()
    report(load, *samples)


if __name__ == "__main__":
    main()

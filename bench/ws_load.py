"""A classroom without browsers: N sessions speak Streamlit's own websocket protocol to the real server.

    python3 -m bench.ws_load [--sessions 30] [--press demo|train] [--timeout 300] [--think 2,5]
                             [--images N] [--epochs N] [--env NAME=VALUE]

Each session is what a browser tab says on the wire, and nothing more: protobuf `BackMsg`s over the websocket at
/_stcore/stream (a page run with its query string, a button's trigger, the live view's fragment reruns every time the
server's `auto_rerun` message asks) and the `ForwardMsg`s back, parsed for the run's status, its place in the queue
and the start it announces. One asyncio process drives every session, so the client costs a small share of the CPU
(printed) and the figures are the server's.

`--press demo`: every session presses Quick demo at once (identical runs). `--press train`: every session opens
the Training page with its own seed in the link (`?train_seed=N`) and presses Train (the page's default run, or
`--images`/`--epochs`), so every run differs. A visitor whose run waits in the queue watches its place until the run
starts (the page polls it); from then on, between two clicks a visitor reads for --think seconds, then goes to Home
or back to Training. An interaction's time is the server's part: the page-run request sent until its
script-finished message is back. It stops once every run has ended, or at the timeout, and prints per session the
place and "starts in about N s" first shown, the wait measured (from that moment to the run's start as the server's
run store recorded it), when the visitor saw it start and finish, then the aims with PASS/MISS (a benchmark: it
asserts nothing), first come first served among them. `--images`/`--epochs` also make it tiny for the smoke test.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import sqlite3
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urlparse

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import websockets  # noqa: E402 - a dependency of streamlit itself
from streamlit.proto.BackMsg_pb2 import BackMsg  # noqa: E402
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg  # noqa: E402

from bench.server_stats import Sampler, cpu_now, fmt, p95, server_pid, tree_rss  # noqa: E402
from tests.browser import streamlit_server  # noqa: E402

AIM_P95_S, AIM_MEMORY = 2.0, 2 * 1024**3
AIM_START_S, AIM_FINISH_S, AIM_ETA = 3.0, 15.0, 0.35  # --press demo: start and finish; --press train: ETA error
THINK_S = (2.0, 5.0)
ANSWER_S = 60.0  # an interaction with no answer after this is a problem
BUTTONS = {"demo": "train_quick_demo", "train": "train_start"}
STATUS = re.compile(r"\*\*Run 1\*\* — (queued|running|finished|stopped|failed)")
QUEUE = re.compile(r"number (\d+) in the queue(?:.*?starts in about ((?:\d+ (?:h|min|s)\b ?)+))?")
UNITS = {"h": 3600, "min": 60, "s": 1}
ENDED = ("finished", "stopped", "failed")
SEED = re.compile(r" · seed (\d+)")


@dataclass
class Session:
    """One visitor: what it was shown and when (seconds after the common click)."""

    number: int
    seed: int | None = None  # the seed in its link (--press train): a run shown with another is someone else's
    query: str = ""  # the page's query string, as the server last set it
    page_hash: str = ""  # the page on screen
    pages: dict[str, str] = field(default_factory=dict)  # page name -> script hash
    widgets: dict[str, str] = field(default_factory=dict)  # user key -> widget id
    fragments: dict[str, float] = field(default_factory=dict)  # fragment id -> its auto-rerun interval
    due: dict[str, float] = field(default_factory=dict)  # fragment id -> when to rerun it next
    status: str | None = None
    place: int | None = None  # the first place in the queue shown
    eta_s: float | None = None  # the "starts in about N s" shown with it
    eta_at: float | None = None  # when that was first shown (time.time(), as the store's times)
    run_started_at: float | None = None  # when its run started, as the server's run store recorded it
    started_s: float | None = None  # when the visitor saw it started
    ended_s: float | None = None
    asked: float | None = None  # when the pending page run was asked for (perf_counter)
    answered: asyncio.Event = field(default_factory=asyncio.Event)
    server_s: list[tuple[str, float]] = field(default_factory=list)  # (what, request -> script finished)
    received: int = 0  # bytes received on the websocket so far
    refresh: tuple[float, int] | None = None  # the live view's pending refresh: (perf_counter, bytes received) at ask
    refreshes: list[tuple[float, int]] = field(default_factory=list)  # (request -> fragment finished, bytes sent back)
    problems: list[str] = field(default_factory=list)
    exceptions: int = 0

    def note(self, problem: str) -> None:
        if problem not in self.problems:
            self.problems.append(problem)


def rerun(s: Session, trigger: str | None = None, fragment: str | None = None, page: str | None = None) -> bytes:
    """A page-run request as the browser sends it: the query string, the page, a button's trigger or a fragment."""
    message = BackMsg()
    state = message.rerun_script
    state.query_string = s.query
    if page:
        state.page_name = page
    else:
        state.page_script_hash = s.page_hash
    if trigger:
        widget = state.widget_states.widgets.add()
        widget.id, widget.trigger_value = s.widgets[trigger], True
    if fragment:
        state.fragment_id, state.is_auto_rerun = fragment, True
    return message.SerializeToString()


def element_text(delta) -> tuple[str, str]:
    """(kind, text) of a new element: markdown, alerts and progress bars carry what the tests read."""
    element = delta.new_element
    kind = element.WhichOneof("type")
    if kind in ("markdown", "alert"):
        return kind, getattr(element, kind).body
    if kind == "exception":
        return kind, element.exception.message
    return kind or "", ""


def receive(s: Session, message: ForwardMsg, t0: float) -> None:
    """Update what the visitor sees from one message."""
    kind = message.WhichOneof("type")
    now = time.monotonic() - t0 if t0 else None
    # Every page run starts with new_session: a full one clears the live view's timers, a fragment's run keeps them.
    if kind == "new_session" and not message.metadata.run.fragment_ids:
        s.fragments.clear()
        s.due.clear()
        s.page_hash = message.new_session.page_script_hash or s.page_hash
    elif kind == "navigation":
        s.pages = {p.page_name: p.page_script_hash for p in message.navigation.app_pages}
        s.page_hash = message.navigation.page_script_hash or s.page_hash
    elif kind == "page_info_changed":
        s.query = message.page_info_changed.query_string
    elif kind == "auto_rerun":
        fragment, interval = message.auto_rerun.fragment_id, message.auto_rerun.interval
        s.fragments[fragment] = interval
        s.due.setdefault(fragment, time.monotonic() + interval)
    elif kind == "script_finished":
        if message.script_finished == ForwardMsg.FINISHED_SUCCESSFULLY and s.asked is not None:
            s.answered.set()
        if message.script_finished == ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY and s.refresh is not None:
            s.refreshes.append((time.perf_counter() - s.refresh[0], s.received - s.refresh[1]))
        s.refresh = None  # answered, or overtaken by a full page run (the fragment asked for one)
    elif kind == "delta" and message.delta.WhichOneof("type") == "new_element":
        element = message.delta.new_element
        widget = getattr(element, element.WhichOneof("type") or "", None)
        if widget is not None and getattr(widget, "id", ""):
            s.widgets[widget.id.rsplit("-", 1)[-1]] = widget.id
        what, text = element_text(message.delta)
        if what == "exception":
            s.exceptions += 1
            s.note(f"exception shown: {text[:120]}")
        if now is not None:
            see(s, text, now)


def seconds(words: str) -> float:
    """"1 min 10 s" -> 70."""
    parts = words.split()
    return sum(int(number) * UNITS[unit] for number, unit in zip(parts[::2], parts[1::2]))


def see(s: Session, text: str, now: float) -> None:
    """The run's status and queue place from a text on the page."""
    if queued := QUEUE.search(text):
        if s.place is None:
            s.place = int(queued[1])
        if s.eta_s is None and queued[2]:
            s.eta_s, s.eta_at = seconds(queued[2]), time.time()
    if s.seed is not None and (others := {int(x) for x in SEED.findall(text)} - {s.seed}):
        s.note(f"saw a run of another session (seed {sorted(others)})")
    if status := STATUS.search(text):
        s.status = status[1]
        if s.status != "queued" and s.started_s is None:
            s.started_s = now
        if s.status in ENDED and s.ended_s is None:
            s.ended_s = now


async def ask(ws, s: Session, what: str, message: bytes) -> None:
    """A timed full page run: the request until the server's script-finished message."""
    s.answered.clear()
    s.asked = time.perf_counter()
    await ws.send(message)
    try:
        await asyncio.wait_for(s.answered.wait(), ANSWER_S)
        s.server_s.append((what, time.perf_counter() - s.asked))
    except asyncio.TimeoutError:
        s.server_s.append((what, ANSWER_S))
        s.note(f"'{what}' got no answer in {ANSWER_S:.0f} s")
    s.asked = None


async def listen(ws, s: Session, load: Load) -> None:
    async for data in ws:
        s.received += len(data)
        message = ForwardMsg()
        message.ParseFromString(data)
        receive(s, message, load.t0)


async def live_view(ws, s: Session) -> None:
    """The browser's timers for `st.fragment(run_every=...)`: a fragment rerun whenever one is due and no page run
    is under way; each one timed until its script-finished message, with the bytes sent back meanwhile."""
    while True:
        await asyncio.sleep(0.05)
        now = time.monotonic()
        for fragment, when in list(s.due.items()):
            if now >= when and fragment in s.fragments and s.asked is None and s.refresh is None:
                s.due[fragment] = now + s.fragments[fragment]
                s.refresh = time.perf_counter(), s.received
                await ws.send(rerun(s, fragment=fragment))


async def visit(url: str, s: Session, load: Load) -> None:
    """Open the Training page, press the button with everyone else, then browse until every run has ended."""
    ws_url = url.replace("http://", "ws://") + "/_stcore/stream"
    tasks = []
    try:
        async with websockets.connect(ws_url, subprotocols=["streamlit"], max_size=None, ping_interval=None,
                                      open_timeout=ANSWER_S) as ws:
            tasks = [asyncio.create_task(listen(ws, s, load)), asyncio.create_task(live_view(ws, s))]
            await ask(ws, s, "open", rerun(s, page="training"))
            if load.button not in s.widgets:
                s.note("no button to press")
            await load.ready.wait()
            if not load.t0:
                load.t0, load.t0_wall = time.monotonic(), time.time()
            if load.button in s.widgets:
                await ask(ws, s, "press", rerun(s, trigger=load.button))
            while (s.status == "queued" or not load.browse) and not load.over():  # watching: the live view polls
                await asyncio.sleep(0.1)
                load.check()
            rng, pages = random.Random(s.number), ("Home", "Training")
            turn = 0
            while not load.over():
                await asyncio.sleep(rng.uniform(*load.think_s))
                load.check()
                if load.over():
                    break
                page = pages[turn % 2]
                turn += 1
                s.page_hash = s.pages.get(page, s.page_hash)
                await ask(ws, s, page, rerun(s))
            if pages[(turn - 1) % 2] == "Home" and turn:  # a last look at the run
                s.page_hash = s.pages.get("Training", s.page_hash)
                await ask(ws, s, "Training", rerun(s))
    except (OSError, websockets.WebSocketException, asyncio.TimeoutError) as exc:
        s.note(f"connection: {type(exc).__name__}: {str(exc)[:100]}")
    finally:
        for task in tasks:
            task.cancel()
        s.ended_s = s.ended_s if s.status in ENDED else None


@dataclass
class Load:
    sessions: list[Session]
    button: str
    timeout_s: float
    think_s: tuple[float, float]
    ready: asyncio.Barrier = None  # type: ignore[assignment]
    t0: float = 0.0
    t0_wall: float = 0.0  # the same moment by time.time(), as the run store's times
    browse: bool = True  # once its run has started a visitor browses (Home, Training); else it watches the run
    done: bool = False

    def check(self) -> None:
        self.done = self.done or all(s.status in ENDED for s in self.sessions)

    def over(self) -> bool:
        return self.done or (self.t0 and time.monotonic() - self.t0 > self.timeout_s)


async def drive(url: str, load: Load) -> None:
    load.ready = asyncio.Barrier(len(load.sessions))
    await asyncio.gather(*(visit(url, s, load) for s in load.sessions))


def query(args: argparse.Namespace, number: int) -> str:
    """The link each session opens: its seed, and the run's size if asked (--press train)."""
    if args.press != "train":
        return ""
    pairs = {"train_seed": number}
    if args.images:
        pairs["train_subset"] = args.images
    if args.epochs:
        pairs["train_epochs"] = args.epochs
    return urlencode(pairs)


def run_starts(state: str, sessions: list[Session]) -> None:
    """Each session's run start as the server's run store recorded it (its own seed's run; --press train)."""
    path = Path(state) / "runs.sqlite3"
    if not path.exists():
        return
    db = sqlite3.connect(path, timeout=10)
    try:
        rows = db.execute("SELECT settings, started_at FROM runs WHERE started_at IS NOT NULL").fetchall()
    finally:
        db.close()
    starts: dict[int, float] = {}
    for settings, started in rows:
        seed = json.loads(settings)["seed"]
        starts[seed] = min(started, starts.get(seed, started))
    for s in sessions:
        if s.seed is not None:
            s.run_started_at = starts.get(s.seed)


def wait_s(s: Session) -> float | None:
    """From the ETA first shown to the run's start."""
    return s.run_started_at - s.eta_at if s.run_started_at is not None and s.eta_at is not None else None


def out_of_turn(sessions: list[Session]) -> int:
    """Runs that started before a run with an earlier place (first come, first served: 0)."""
    placed = sorted((s.place, s.run_started_at) for s in sessions if s.place and s.run_started_at is not None)
    return sum(any(later < start for _, later in placed[i + 1:]) for i, (_, start) in enumerate(placed))


def report(load: Load, press: str, memory: list, cpu: tuple, wall_s: float) -> None:
    sessions = load.sessions
    print(f"\n{'session':>7} {'place':>5} {'ETA s':>6} {'wait s':>6} {'started':>7} {'seen':>6} {'end s':>6} "
          f"{'final':>9} {'p95 s':>6}  problems")
    for s in sorted(sessions, key=lambda s: (s.place or 0, s.number)):
        started = s.run_started_at - load.t0_wall if s.run_started_at is not None and load.t0_wall else None
        times = [t for _, t in s.server_s]
        print(f"{s.number:>7} {s.place or '-':>5} {fmt(s.eta_s):>6} {fmt(wait_s(s)):>6} {fmt(started):>7} "
              f"{fmt(s.started_s):>6} {fmt(s.ended_s):>6} {s.status or 'not seen':>9} {p95(times):>6.2f}  "
              f"{'; '.join(s.problems) or '-'}")
    print("(ETA: the start first announced; wait: from then to the run's start in the server's store; started: that "
          "start, and seen: when the visitor saw it, both after the common click)")
    finished = sum(s.status == "finished" for s in sessions)
    shown = sum(s.status in ("queued", "running") and (s.status == "running" or s.place is not None)
                for s in sessions)
    lost = len(sessions) - finished - shown
    kinds: dict[str, list[float]] = {}
    for s in sessions:
        for what, t in s.server_s:
            kinds.setdefault(what, []).append(t)
    print("\ninteractions, the server's part (page-run request sent until its script-finished message):")
    for what, times in kinds.items():
        print(f"  {what:<9} n={len(times):<4} median {statistics.median(times):5.2f} s   p95 {p95(times):5.2f} s   "
              f"max {max(times):5.2f} s")
    refreshes = [r for s in sessions for r in s.refreshes]
    if refreshes:
        print(f"  {'refresh':<9} n={len(refreshes):<4} median {statistics.median(t for t, _ in refreshes):5.2f} s   "
              f"p95 {p95([t for t, _ in refreshes]):5.2f} s   (the live view's own reruns, "
              f"{statistics.median(b for _, b in refreshes) / 1024:.1f} KiB median)")
    timed = [t for what, times in kinds.items() if what != "open" for t in times]
    starts = [s.started_s for s in sessions if s.started_s is not None]
    ends = [s.ended_s for s in sessions if s.ended_s is not None]
    print(f"runs: {finished} finished, {shown} training or shown in the queue with their place, {lost} lost; "
          f"start seen after {fmt(min(starts, default=None))}-{fmt(max(starts, default=None))} s, "
          f"finish after {fmt(min(ends, default=None))}-{fmt(max(ends, default=None))} s")
    if ends:
        print(f"runs finished per minute (the click to the last finish): {len(ends) / max(ends) * 60:.1f}")
    peak = max(rss for _, rss in memory)
    server, client, machine = (b - a for a, b in zip(*cpu))
    print(f"server RSS: after warm-up {memory[0][1] / 2**20:,.0f} MiB, peak {peak / 2**20:,.0f} MiB")
    print(f"CPU over {wall_s:.0f} s ({wall_s * os.cpu_count():.0f} core-seconds on {os.cpu_count()} cores): server "
          f"{server:.0f} s, this client {client:.0f} s ({client / max(server + client, 1e-9):.0%} of the two), "
          f"everything else {max(machine - server - client, 0):.0f} s")
    aims = [("no run lost", f"{lost} lost", lost == 0),
            (f"interaction p95 < {AIM_P95_S:g} s (server part)", f"{p95(timed):.2f} s", p95(timed) < AIM_P95_S),
            (f"peak server memory < {AIM_MEMORY / 2**30:g} GB", f"{peak / 2**30:.2f} GB", peak < AIM_MEMORY)]
    if press == "demo":
        late = max(starts, default=float("inf")) if len(starts) == len(sessions) else float("inf")
        slow = max(ends, default=float("inf")) if len(ends) == len(sessions) else float("inf")
        aims += [(f"every run seen started within {AIM_START_S:g} s", f"{fmt(late)} s", late <= AIM_START_S),
                 (f"every run seen finished within {AIM_FINISH_S:g} s", f"{fmt(slow)} s", slow <= AIM_FINISH_S)]
    else:
        errors = [wait_s(s) / s.eta_s - 1 for s in sessions if s.eta_s and wait_s(s) is not None]
        worst = max(errors, key=abs, default=0.0)
        print(f"ETA shown at the start against the wait measured (ETA s / wait s): {len(errors)} queued runs, "
              f"worst error {worst:+.0%}, median {statistics.median(errors or [0]):+.0%}")
        unfair = out_of_turn(sessions)
        aims += [(f"ETA at the start within ±{AIM_ETA:.0%} of the wait", f"worst {worst:+.0%}", abs(worst) <= AIM_ETA),
                 ("first come, first served (runs started out of turn)", f"{unfair}", unfair == 0)]
    print(f"\n{'aim':<52} {'measured':<16} result")
    for aim, measured, ok in aims:
        print(f"{aim:<52} {measured:<16} {'PASS' if ok else 'MISS'}")


WARM_UP_S = 3.0  # after the first visit: the step timings it started in the background (a few tenths of a second each)


async def warm_up(url: str) -> None:
    """The teacher's visit before the class: the imports, the data load and the Training page's step timings (the
    Quick demo's and the form's defaults', which its estimates use) happen before the sessions are timed; timed while
    30 visitors open the page at once they would measure the crowd, not the steps."""
    s = Session(-1)
    load = Load([s], "", 0, (0, 0))
    ws_url = url.replace("http://", "ws://") + "/_stcore/stream"
    async with websockets.connect(ws_url, subprotocols=["streamlit"], max_size=None) as ws:
        task = asyncio.create_task(listen(ws, s, load))
        await ask(ws, s, "open", rerun(s, page="training"))
        await asyncio.sleep(WARM_UP_S)
        await ask(ws, s, "open", rerun(s, page="training"))
        task.cancel()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sessions", type=int, default=30, help="concurrent sessions (default 30)")
    parser.add_argument("--press", choices=tuple(BUTTONS), default="demo",
                        help="demo: everyone presses Quick demo; train: Train with the session's own seed")
    parser.add_argument("--timeout", type=float, default=300, help="seconds after the click before it stops")
    parser.add_argument("--think", default=f"{THINK_S[0]:g},{THINK_S[1]:g}", metavar="MIN,MAX",
                        help="a visitor's pause between two interactions (seconds)")
    parser.add_argument("--images", type=int, default=0, help="--press train: training images (the page's default)")
    parser.add_argument("--epochs", type=int, default=0, help="--press train: epochs (the page's default)")
    parser.add_argument("--env", action="append", default=[], metavar="NAME=VALUE", help="server environment")
    args = parser.parse_args()
    # The server's run store in a folder of its own (never $HOME's), unless the caller names one.
    state = os.environ.get("CNN_DASH_STATE_DIR") or tempfile.mkdtemp(prefix="cnn-dash-ws-load-")
    env = {"CNN_DASH_DOWNLOAD": "0", "CNN_DASH_STATE_DIR": state, **dict(pair.split("=", 1) for pair in args.env)}
    think = tuple(float(x) for x in args.think.split(","))
    sessions = [Session(i, i if args.press == "train" else None, query(args, i)) for i in range(args.sessions)]
    load = Load(sessions, BUTTONS[args.press], args.timeout, think)
    what = "Quick demo" if args.press == "demo" else "Train, each with its own seed"
    print(f"cnn-dash websocket load: {args.sessions} sessions press {what} at once; between two clicks a visitor "
          f"reads for {think[0]:g}-{think[1]:g} s. {os.cpu_count()} cores, shared with this client and whatever "
          f"else runs here (load average {os.getloadavg()[0]:.1f}).\nServer environment: {env}; data: "
          f"{os.environ.get('CNN_DASH_DATA_DIR') or 'the bundled sample (no CNN_DASH_DATA_DIR)'}", flush=True)
    with streamlit_server(env=env) as url:
        server = server_pid(urlparse(url).port)
        asyncio.run(warm_up(url))
        memory = Sampler(lambda: tree_rss(server))
        memory.start()
        before, start = cpu_now(server), time.monotonic()
        asyncio.run(drive(url, load))
        wall_s, after = time.monotonic() - start, cpu_now(server)
        samples = memory.stop()
        run_starts(state, sessions)
    report(load, args.press, samples, (before, after), wall_s)
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()

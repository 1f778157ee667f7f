"""A real Streamlit server and a headless Chromium for the browser tour (and bench/load scripts)."""
from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("CNN_DASH_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"


def browser_missing() -> str | None:
    """Why the browser tour cannot run here, or None when it can."""
    if not Path(CHROMIUM).exists() and not shutil.which(CHROMIUM):
        return f"{CHROMIUM} is not installed (apt-get install -y chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -r requirements-dev.txt)"
    return None


def require_browser(what: str) -> None:
    """Call at a browser test module's top: skip it where Chromium or Playwright is missing, or fail there when
    CNN_DASH_REQUIRE_BROWSER=1 (CI), so that a browser test cannot silently stop running."""
    import pytest

    missing = browser_missing()
    if missing and os.environ.get("CNN_DASH_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{what} is required here but cannot run: {missing}", pytrace=False)
    if missing:
        pytest.skip(f"{what} skipped: {missing}", allow_module_level=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def streamlit_server(env: dict[str, str] | None = None, timeout_s: float = 90):
    """`streamlit run streamlit_app.py` on a free port; yields its URL and stops it afterwards."""
    with streamlit_process(env, timeout_s) as (url, _):
        yield url


@contextlib.contextmanager
def streamlit_process(env: dict[str, str] | None = None, timeout_s: float = 90):
    """Like `streamlit_server`, yielding (URL, the server's Popen) for a test that kills it. The server keeps its
    runs in a fresh store of its own unless `env` names one (CNN_DASH_STATE_DIR): identical runs are served from
    the store, so a server sharing another's would show a run finished at once instead of training it."""
    env = dict(env or {})
    fresh = None if "CNN_DASH_STATE_DIR" in env else tempfile.mkdtemp(prefix="cnn-dash-server-")
    env.setdefault("CNN_DASH_STATE_DIR", fresh)
    port = free_port()
    cmd = [sys.executable, "-m", "streamlit", "run", "streamlit_app.py", "--server.port", str(port),
           "--server.address", "127.0.0.1", "--server.headless", "true",
           "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"]
    log = open(ROOT / ".pytest_cache" / f"streamlit-{port}.log", "w") if (ROOT / ".pytest_cache").is_dir() \
        else subprocess.DEVNULL
    proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"streamlit exited with code {proc.returncode}")
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"streamlit did not answer on {url} within {timeout_s} s")
            time.sleep(0.3)
        yield url, proc
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        if log is not subprocess.DEVNULL:
            log.close()
        if fresh:
            shutil.rmtree(fresh, ignore_errors=True)


@contextlib.contextmanager
def chromium():
    """A headless Debian Chromium driven by Playwright."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def wait_idle(page, timeout_ms: float = 60_000) -> None:
    """Wait until the script has started (if it will) and then finished its run."""
    page.wait_for_timeout(300)
    page.wait_for_selector(IDLE, timeout=timeout_ms)


def stroke_seven(page, timeout_ms: float = 30_000) -> None:
    """A '7' on the drawing canvas with mouse events (the canvas takes touch too): across the top, then down to the
    left."""
    page.wait_for_selector("canvas.upper-canvas", timeout=timeout_ms)
    canvas = page.locator("canvas.upper-canvas").first
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    points = [(0.25, 0.2), (0.75, 0.2), (0.6, 0.5), (0.45, 0.85)]
    page.mouse.move(box["x"] + box["width"] * points[0][0], box["y"] + box["height"] * points[0][1])
    page.mouse.down()
    for x, y in points[1:]:
        page.mouse.move(box["x"] + box["width"] * x, box["y"] + box["height"] * y, steps=12)
    page.mouse.up()

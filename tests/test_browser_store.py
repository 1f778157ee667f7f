"""A reload loses nothing, in headless Chromium against the real server: F5 during a run and on Evaluation, another
browser sees none of it, a shared run's link, forged links, and a server killed mid-run and started again."""
from __future__ import annotations

import re
from urllib.parse import quote

from tests.browser import IDLE, chromium, require_browser, streamlit_process, wait_idle

require_browser("the run store's browser tests")

COOKIE = "cnn_dash_owner"
# A run that a reload may catch in the middle (94 steps per model; on a quiet machine it may end first, and the
# test then checks the same run finished), one that is short, and one that trains for minutes, to be killed.
RELOADED = "/training?train_subset=3000&train_epochs=1&train_batch=32&train_evals=1"
SHORT = "/training?train_subset=1000&train_epochs=1&train_evals=1"
LONG = "/training?train_epochs=10&train_batch=16&train_evals=1"


def main_text(page) -> str:
    return page.locator("[data-testid='stMain']").inner_text()


def open_page(page, url: str) -> None:
    page.goto(url)
    page.wait_for_selector(IDLE, timeout=90_000)
    page.wait_for_timeout(500)
    wait_idle(page)
    assert page.locator("[data-testid='stException']").count() == 0, main_text(page)[:500]


def train(page, url: str, path: str) -> None:
    open_page(page, url + path)
    page.get_by_role("button", name="Train", exact=True).click()
    page.wait_for_function("/— (queued|running|finished)/.test(document.body.innerText)", timeout=60_000)


def wait_text(page, text: str, timeout_ms: float = 240_000) -> None:
    page.wait_for_function(f"document.body.innerText.includes({text!r})", timeout=timeout_ms)


def scores(page) -> str:
    """The Evaluation page's verdict line, with every model's test accuracy."""
    wait_text(page, "On this run")
    return next(line for line in main_text(page).splitlines() if line.startswith("On this run"))


def share_link(page) -> str:
    page.get_by_role("button", name="Share this run").click()
    code = page.locator("[data-testid='stPopoverBody'] code").first
    code.wait_for(timeout=10_000)
    return code.inner_text().strip()


def test_reloads_keep_the_runs_of_this_browser_only_and_a_shared_link_opens_one_read_only():
    with streamlit_process(env={"CNN_DASH_DOWNLOAD": "0"}) as (url, _), chromium() as browser:
        owner = browser.new_context(viewport={"width": 1280, "height": 900})
        page = owner.new_page()
        train(page, url, RELOADED)
        token = next(c["value"] for c in owner.cookies() if c["name"] == COOKIE)
        assert len(token) >= 43  # 256 random bits, URL-safe base64
        page.get_by_role("button", name="Copy link").click()
        link = page.locator("[data-testid='stPopoverBody'] code").first.inner_text()
        assert "train_subset=3000" in link and token not in link and COOKIE not in link  # settings, no token

        # F5 during the run: the same run, still training, on screen; it goes on to the end.
        page.reload()
        page.wait_for_selector(IDLE, timeout=90_000)
        wait_text(page, "Run 1 —", 60_000)
        text = main_text(page)
        assert "Run 1 — running" in text or "Run 1 — finished" in text, text[:400]
        step = re.search(r"\d+ / 94", text)
        if "Run 1 — running" in text and step:  # its steps go on climbing on the reloaded page
            page.wait_for_function("document.body.innerText.includes('— finished') || "
                                   f"!document.body.innerText.includes('{step.group(0)}')", timeout=120_000)
        wait_text(page, "Run 1 — finished")
        assert "Run 2" not in main_text(page)

        # F5 on Evaluation: the same run, the same numbers.
        open_page(page, f"{url}/evaluation")
        before = scores(page)
        page.reload()
        page.wait_for_selector(IDLE, timeout=90_000)
        assert scores(page) == before
        shared = share_link(page)
        run_id = shared.rsplit("run=", 1)[1]
        assert shared.startswith(url) and re.fullmatch(r"[A-Za-z0-9_-]{22}", run_id) and token not in shared

        # A second browser sees none of these runs, but the shared link opens the run, read-only.
        stranger = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
        open_page(stranger, f"{url}/evaluation")
        assert "No finished training run in this browser yet" in main_text(stranger)
        open_page(stranger, f"{url}/training")
        assert "Your runs" not in main_text(stranger) and "Run 1" not in main_text(stranger)
        open_page(stranger, shared)
        assert scores(stranger) == before
        text = main_text(stranger)
        assert "A shared run, read-only" in text and "Share this run" not in text
        stranger.get_by_text("Try this run's models yourself").click()
        wait_idle(stranger)
        assert "A shared run, read-only" in main_text(stranger) and "No finished training run" not in \
            main_text(stranger)

        # Forged links: "no such run", and nothing else of any run.
        for bad in ("../../etc/passwd", "<script>alert(1)</script>", "A" * 22, run_id + "x"):
            open_page(stranger, f"{url}/evaluation?run={quote(bad)}")
            text = main_text(stranger)
            assert "No such run." in text and "Confusion matrices" not in text and "alert" not in text, text[:300]


def test_a_killed_server_loses_no_finished_run_and_marks_the_one_training_interrupted(tmp_path):
    env = {"CNN_DASH_DOWNLOAD": "0", "CNN_DASH_STATE_DIR": str(tmp_path)}
    with chromium() as browser:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        with streamlit_process(env=env) as (url, server):
            train(page, url, SHORT)
            wait_text(page, "Run 1 — finished")
            open_page(page, f"{url}/evaluation")
            before = scores(page)
            train(page, url, LONG)
            wait_text(page, "Run 2 — running", 60_000)
            page.wait_for_function("/after [1-9][0-9,]* training images/.test(document.body.innerText)",
                                   timeout=120_000)  # the live run's first record is on screen
            page.wait_for_timeout(3000)  # the store receives a running run's records every 2 s
            server.kill()  # SIGKILL: no shutdown code runs
            server.wait(10)
        with streamlit_process(env=env) as (url, _):  # another port: the cookie is the host's, kept
            open_page(page, f"{url}/evaluation")
            assert scores(page) == before
            open_page(page, f"{url}/training")
            text = main_text(page)
            step = re.search(r"Interrupted at step (\d+)", text)
            assert step and int(step.group(1)) > 0 and "Run 2 — interrupted" in text, text[:600]
            assert page.locator("[data-testid='stPlotlyChart']").count() >= 1  # its curves so far
            page.get_by_role("button", name="Train it again").first.click()
            wait_text(page, "Run 3 —", 60_000)
            assert "Run 3 — queued" in main_text(page) or "Run 3 — running" in main_text(page) or \
                "Run 3 — finished" in main_text(page)

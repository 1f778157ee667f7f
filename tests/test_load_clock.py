"""The load test's interaction clock (bench/load_test.py), checked in headless Chromium on a page with a known delay."""
from __future__ import annotations

import time
from urllib.parse import quote

from tests.browser import chromium, require_browser

require_browser("the load test's clock")

from bench.load_test import CLICK_CLOCK, answer_waiter  # noqa: E402 - needs playwright

DELAY_MS = 300
PAGE = ("<button id=go onclick=\"setTimeout(() => document.body.insertAdjacentHTML('beforeend', "
        f"'<p id=answer>ok</p>'), {DELAY_MS})\">go</button>")
ANSWERED = "document.querySelector('#answer') !== null"


def test_click_to_answer_is_timed_in_the_page():
    with chromium() as browser:
        context = browser.new_context()
        context.add_init_script(CLICK_CLOCK)
        page = context.new_page()
        page.goto("data:text/html," + quote(PAGE))
        page.evaluate("window.__clickAt = null")
        start = time.perf_counter()
        page.click("#go")
        clicked, shown = page.evaluate(answer_waiter(ANSWERED))
        outside = time.perf_counter() - start
        assert clicked is not None, "the page saw no click"
        # The answer comes DELAY_MS after the click, and the page's interval lies inside the one seen from here.
        assert DELAY_MS / 1000 <= (shown - clicked) / 1000 <= outside


def test_an_answer_already_shown_resolves_at_once():
    with chromium() as browser:
        page = browser.new_page()
        page.goto("data:text/html," + quote("<p id=answer>ok</p>"))
        clicked, shown = page.evaluate(answer_waiter(ANSWERED))
        assert clicked is None and shown > 0

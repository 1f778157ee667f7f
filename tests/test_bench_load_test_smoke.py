"""bench/load_test.py (the browser load test) runs end to end with two sessions and prints its figures: its locators
still find the page's widgets (no timing asserted)."""
from __future__ import annotations

import re

from tests.benches import run_bench
from tests.browser import require_browser

require_browser("the browser load test's smoke test")


def test_load_test_runs_two_sessions_to_the_end():
    output = run_bench("load_test", "--sessions", "2", "--images", "300", "--epochs", "1", "--think", "0.5,1",
                       "--timeout", "120")
    assert "runs finished: 2/2" in output, output[-3000:]
    assert re.search(r"p95 page interaction < 2 s +[\d.]+ s", output), output[-3000:]
    assert re.search(r"peak server memory < 2 GB +[\d.]+ GB", output), output[-3000:]
    assert "lost (failed, stopped, never shown, queued without showing it, or its page disconnected): 0" in output

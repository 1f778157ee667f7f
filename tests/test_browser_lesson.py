"""The Lesson on a 1280×720 projector in headless Chromium, with the keyboard only: every step's action runs (G), its
answer, chart, takeaway, counter, navigation and notes are inside the screen without scrolling, → goes on; the
handout downloads and opens from disk with every chart drawn; the steps at a phone's 390×844 are screenshot.
Timings are printed by bench/bench_lesson.py, not asserted here."""
from __future__ import annotations

import os

from cnn_dash.lesson import STEPS
from tests.browser import chromium, require_browser, streamlit_server, wait_idle
from tests.lesson_tour import blur, outside, shot, wait_heading, walk

require_browser("the lesson tour")

VIEWPORT = {"width": 1280, "height": 720}


def fits(page, step) -> None:
    assert not page.locator("[data-testid='stException']").count(), step.key
    assert heading(page) == step.title
    problems = outside(page, drawing=step.key == "draw")
    assert problems == [], f"step {step.key}: {problems}"


def heading(page) -> str:
    return page.locator(".st-key-lesson_page h1").first.inner_text().strip()


def test_the_lesson_on_a_projector_with_the_keyboard(tmp_path):
    # The bundled sample, as in a classroom offline; one thread per run, which a busy shared CI machine runs in
    # seconds where two threads spin-wait on each other (bench/bench_lesson.py).
    env = {"CNN_DASH_DOWNLOAD": "0", "CNN_DASH_DATA_DIR": "", "CNN_DASH_MAX_CONCURRENT_RUNS": "2"}
    with streamlit_server(env=env) as url, chromium() as browser:
        page = browser.new_page(viewport=VIEWPORT, accept_downloads=True)
        walk(page, url, check=fits)
        assert f"step={len(STEPS) + 1}" in page.url
        # The handout: one file, opened from disk with no server, every step's chart drawn by its inlined plotly.js.
        with page.expect_download() as download:
            page.locator(".st-key-lesson_handout:not([data-stale='true']) button").first.click()
        handout = tmp_path / "handout.html"
        download.value.save_as(handout)
        offline = browser.new_context(offline=True).new_page()
        offline.goto(handout.as_uri())
        offline.wait_for_function(f"document.querySelectorAll('.js-plotly-plot .main-svg').length >= {len(STEPS)}",
                                  timeout=60_000)
        assert offline.locator(".js-plotly-plot").count() == len(STEPS)  # one chart per step
        assert offline.locator("h2").count() == len(STEPS) and "Not run" not in offline.inner_text("body")
        # A phone following along: every step again, going back with ←.
        page.set_viewport_size({"width": 390, "height": 844})
        for number in range(len(STEPS), 0, -1):
            blur(page)
            page.keyboard.press("ArrowLeft")
            wait_heading(page, STEPS[number - 1].title)
            page.wait_for_timeout(800)
            shot(page, f"lesson-{number}-{STEPS[number - 1].key}-390.png")
            if os.environ.get("CNN_DASH_SCREENSHOTS"):
                tall = page.evaluate("document.querySelector(\"[data-testid='stMain']\").scrollHeight")
                page.set_viewport_size({"width": 390, "height": min(int(tall), 6000)})
                page.wait_for_timeout(800)
                shot(page, f"lesson-{number}-{STEPS[number - 1].key}-390-whole.png")
                page.set_viewport_size({"width": 390, "height": 844})
        assert "step=1" in page.url
        wait_idle(page)

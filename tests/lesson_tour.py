"""The whole Lesson in a real browser with the keyboard only (→ next, G runs the step's action), shared by the
browser test (which checks that every step fits a 1280×720 screen) and bench/bench_lesson.py (which prints how long
each step's action took, from the key press to the answer on screen)."""
from __future__ import annotations

import os
import time

from cnn_dash.lesson import STEPS
from tests.browser import IDLE, stroke_seven, wait_idle

# What a step must show inside the screen, without scrolling, once its answer is revealed.
CONTENT = {"heading": ".st-key-lesson_page h1", "counter": ".st-key-lesson_nav strong",
           "previous": ".st-key-lesson_prev", "next": ".st-key-lesson_next",
           "handout": ".st-key-lesson_handout", "answer": "[data-testid='stAlertContentSuccess']",
           "chart": ".st-key-lesson_page [data-testid='stPlotlyChart']",
           "takeaway": ".st-key-lesson_page [data-testid='stMarkdownContainer']:has-text('Takeaway:')",
           "notes": ".st-key-lesson_page [data-testid='stExpander']"}
OUTSIDE = """([selectors, height]) => Object.entries(selectors).flatMap(([name, sel]) => {
    const found = [...document.querySelectorAll(sel)];
    if (!found.length) return [name + ' missing'];
    return found.filter((el) => { const r = el.getBoundingClientRect(); return r.top < 0 || r.bottom > height; })
        .map((el) => { const r = el.getBoundingClientRect(); return `${name} at ${Math.round(r.top)}-${Math.round(r.bottom)}`; });
})"""


def heading(page) -> str:
    return page.locator(".st-key-lesson_page h1").first.inner_text()


def wait_heading(page, title: str) -> None:
    page.wait_for_function("(t) => { const h = document.querySelector('.st-key-lesson_page h1');"
                           " return h && h.innerText.trim() === t; }", arg=title, timeout=60_000)
    wait_idle(page)


def outside(page, drawing: bool = False) -> list[str]:
    """The step's content that is missing or not wholly inside the viewport (":has-text" is resolved first); the
    drawing step shows its canvas instead of a chart."""
    selectors = {name: sel for name, sel in CONTENT.items() if ":has-text" not in sel}
    if drawing:
        selectors["chart"] = ".st-key-draw_canvas"  # the canvas component's container
    problems = page.evaluate(OUTSIDE, [selectors, page.viewport_size["height"]])
    takeaway = page.locator(CONTENT["takeaway"]).first.bounding_box()
    if takeaway is None or takeaway["y"] < 0 or takeaway["y"] + takeaway["height"] > page.viewport_size["height"]:
        problems.append(f"takeaway at {takeaway}")
    return problems


def shot(page, name: str) -> None:
    folder = os.environ.get("CNN_DASH_SCREENSHOTS")
    if folder:
        page.screenshot(path=os.path.join(folder, name))


def blur(page) -> None:
    """Keys go to the page, not to the widget clicked last."""
    page.evaluate("document.activeElement && document.activeElement.blur()")


def draw_seven(page) -> None:
    """A '7' on the canvas with the mouse, and the class it shows picked in 'It is a…'."""
    stroke_seven(page, timeout_ms=240_000)
    wait_idle(page)
    page.locator(".st-key-lesson_truth_MNIST input").click()  # a combobox
    page.get_by_role("option", name="7", exact=True).click()


def walk(page, url: str, check=None) -> dict[str, float]:
    """Open the lesson, run every step with the keyboard and go on with →; `check(page, step)` once each answer is
    on screen. Returns the seconds from the key press (or the drawing) to the answer, per step."""
    page.goto(f"{url}/lesson?step=1")
    page.wait_for_selector(IDLE, timeout=90_000)
    times = {}
    for number, step in enumerate(STEPS, start=1):
        wait_heading(page, step.title)
        blur(page)
        start = time.perf_counter()
        if step.key == "draw":
            draw_seven(page)
        else:
            page.keyboard.press("g")
        page.wait_for_selector("[data-testid='stAlertContentSuccess']", timeout=300_000)  # a loaded machine
        times[step.key] = time.perf_counter() - start
        wait_idle(page)
        if step.key != "draw":  # the drawing step shows the canvas; its chart goes to the handout
            page.wait_for_selector(".st-key-lesson_page [data-testid='stPlotlyChart'] .main-svg", timeout=60_000)
        page.wait_for_timeout(500)  # Plotly lays its charts out
        if check is not None:
            check(page, step)
        shot(page, f"lesson-{number}-{step.key}-1280.png")
        blur(page)
        page.keyboard.press("ArrowRight")
    wait_heading(page, "What we found today")
    return times

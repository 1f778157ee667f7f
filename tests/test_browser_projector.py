"""The main journey on a 1280×720 projector, in headless Chromium: Quick demo, then the live run (progress and
every model's accuracy) on screen without scrolling, then a finished run whose CNN beats its FC net."""
from __future__ import annotations

import os
import re

from tests.browser import IDLE, chromium, require_browser, streamlit_server, wait_idle

require_browser("the projector test")

VIEWPORT = {"width": 1280, "height": 720}


def on_screen(page, selector: str) -> bool:
    """True when the element is wholly inside the viewport as it is, without any scrolling."""
    box = page.locator(selector).first.bounding_box()
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= VIEWPORT["height"]


def shot(page, name: str) -> None:
    folder = os.environ.get("CNN_DASH_SCREENSHOTS")
    if folder:
        page.screenshot(path=os.path.join(folder, name))


def test_quick_demo_fits_a_projector_and_the_cnn_wins():
    # The bundled sample (10,000 training images), so the demo takes seconds here.
    with streamlit_server(env={"CNN_DASH_DOWNLOAD": "0", "CNN_DASH_DATA_DIR": ""}) as url, chromium() as browser:
        page = browser.new_page(viewport=VIEWPORT)
        page.goto(f"{url}/training")
        page.wait_for_selector(IDLE, timeout=90_000)
        assert on_screen(page, "[data-testid='stButton'] button:has-text('Quick demo')")
        shot(page, "training-1280-start.png")
        page.get_by_role("button", name="Quick demo").click()
        page.wait_for_selector("[data-testid='stProgress']", timeout=60_000)
        race = "[data-testid='stMarkdownContainer']:has-text('training images:')"
        page.wait_for_selector(race, timeout=60_000)
        assert on_screen(page, "[data-testid='stProgress']"), "the progress bar is below the fold"
        assert on_screen(page, race), "the models' accuracies are below the fold"
        text = page.locator(race).first.inner_text()
        assert "A · Small CNN (batch norm)" in text and "B · MLP 784-128-10" in text
        shot(page, "training-1280-live.png")
        page.wait_for_function("document.body.innerText.includes('— finished')", timeout=120_000)
        wait_idle(page)
        shot(page, "training-1280-finished.png")
        text = page.locator("[data-testid='stMarkdownContainer']:has-text('Test accuracy after')").first.inner_text()
        cnn, fc = (float(x) for x in re.findall(r"(\d+\.\d)%", text)[:2])
        assert cnn > fc, text
        assert page.locator("[data-testid='stException']").count() == 0

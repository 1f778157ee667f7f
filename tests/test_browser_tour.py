"""One tour of the real app in headless Chromium: every page in the navigation, no exception shown."""
from __future__ import annotations

import os

from tests.browser import IDLE, chromium, require_browser, streamlit_server, stroke_seven, wait_idle

require_browser("the browser tour")


def assert_no_exception(page, where: str) -> None:
    shown = page.locator("[data-testid='stException']")
    assert shown.count() == 0, f"{where}: exception shown: {shown.first.inner_text()[:500]}"


def goto(page, title: str) -> None:
    """Click a page in the sidebar navigation and wait for its script to finish."""
    page.locator("[data-testid='stSidebarNav'] a", has_text=title).first.click()
    wait_idle(page)
    assert_no_exception(page, title)


def draw_stroke(page) -> None:
    """Draw a '7' on the canvas with mouse events: across the top, then down to the left."""
    stroke_seven(page)
    wait_idle(page)


def screenshots(page, name: str) -> None:
    """Full-page screenshots at a laptop's and a phone's size, when CNN_DASH_SCREENSHOTS names a folder."""
    folder = os.environ.get("CNN_DASH_SCREENSHOTS")
    if not folder:
        return
    size = page.viewport_size
    for width, height in ((1280, 720), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_timeout(1500)  # Plotly redraws its charts for the new width
        page.screenshot(path=os.path.join(folder, f"{name}-{width}.png"))
        # Streamlit scrolls inside its main section, not the page: a viewport as tall as it shows all of it.
        tall = page.evaluate("document.querySelector(\"[data-testid='stMain']\").scrollHeight")
        page.set_viewport_size({"width": width, "height": min(int(tall), 6000)})
        page.wait_for_timeout(1500)
        page.screenshot(path=os.path.join(folder, f"{name}-{width}-whole.png"))
    page.set_viewport_size(size)
    page.wait_for_timeout(500)


def test_tour_every_page():
    with streamlit_server(env={"CNN_DASH_DOWNLOAD": "0"}) as url, chromium() as browser:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        # The server's first visitor opens a page's own URL (a bookmark): the router still draws it.
        page.goto(f"{url}/training")
        page.wait_for_selector(IDLE, timeout=90_000)
        assert_no_exception(page, "training, opened by its URL")
        assert page.locator("h1").first.inner_text() == "Train side by side"
        assert page.locator(".st-key-dataset_title").count() == 1  # the router's sidebar
        goto(page, "Home")
        assert "beat fully-connected" in page.locator("h1").first.inner_text()
        page.wait_for_function("document.querySelectorAll(\"[data-testid='stImage'] img\").length == 20",
                               timeout=30_000)  # the example images, two of every class

        links = page.locator("[data-testid='stSidebarNav'] a")
        titles = [links.nth(i).inner_text().strip().split("\n")[-1] for i in range(links.count())]  # after the icon
        assert not titles or titles[0] == "Home"  # streamlit hides the navigation while it has one page
        for title in titles:
            goto(page, title)
            assert page.locator("h1").count() >= 1, f"{title}: no page title drawn"

        # Shape calculator: a layer explained, then the seed ConvNet traced to its first Linear's in_features.
        goto(page, "Shape calculator")
        page.wait_for_selector("[data-testid='stMain'] .katex", timeout=30_000)  # the formula
        page.get_by_text("Network", exact=True).click()
        wait_idle(page)
        page.wait_for_function("document.body.innerText.includes('13,686')", timeout=30_000)
        assert "in_features" in page.locator("[data-testid='stMain']").inner_text()
        assert_no_exception(page, "Shape calculator, network mode")

        # Architectures: the seed notebook's parameter counts, and an FC net matched to the CNN's budget.
        goto(page, "Architectures")
        main = page.locator("[data-testid='stMain']")
        page.wait_for_function("document.body.innerText.includes('12,730')", timeout=30_000)
        assert "13,686" in main.inner_text() and "12,730" in main.inner_text()
        page.get_by_text("Size the FC net to the CNN's parameter count").click()
        wait_idle(page)
        page.wait_for_function("document.body.innerText.includes('784-17-10')", timeout=30_000)
        assert_no_exception(page, "Architectures, matched FC")

        # Training: a small run to the end, with a visit to another page in the middle of it.
        goto(page, "Training")
        for label, value in (("Training images", "1000"), ("Epochs", "1")):
            box = page.get_by_label(label, exact=True)
            box.fill(value)
            box.press("Enter")
            wait_idle(page)
        page.get_by_role("button", name="Train", exact=True).click()
        page.wait_for_function("/— (queued|running|finished)/.test(document.body.innerText)", timeout=30_000)
        goto(page, "Home")
        goto(page, "Training")
        page.wait_for_function("document.body.innerText.includes('— finished')", timeout=180_000)
        wait_idle(page)
        assert_no_exception(page, "Training, finished run")
        assert page.locator("[data-testid='stPlotlyChart']").count() >= 1  # the finished curves
        results = page.locator("[data-testid='stTable']").first.inner_text()  # per-model results
        assert "B · FCNet" in results and "finished" in results and "%" in results

        # Evaluation: the run's two confusion matrices (and their difference) are drawn.
        goto(page, "Evaluation")
        page.wait_for_function(
            "document.querySelectorAll(\"[data-testid='stPlotlyChart']\").length >= 3", timeout=60_000)
        text = page.locator("[data-testid='stMain']").inner_text()
        assert "Confusion matrices" in text and "McNemar" in text
        titles = page.locator("[data-testid='stPlotlyChart'] .gtitle").evaluate_all(
            "els => els.map(e => e.textContent)")  # SVG titles: textContent, not innerText
        assert any(t.startswith("A ·") for t in titles) and any(t.startswith("B ·") for t in titles), titles

        # Try it yourself: a stroke drawn on the canvas with the mouse, and both models' answers to it.
        goto(page, "Try it yourself")
        draw_stroke(page)
        page.wait_for_function("(document.querySelector(\"[data-testid='stMain']\").innerText.match(/ says /g) "
                               "|| []).length >= 2", timeout=60_000)
        wait_idle(page)
        assert_no_exception(page, "Try it yourself, after drawing")
        said = [line for line in page.locator("[data-testid='stMain']").inner_text().split("\n") if " says " in line]
        assert any(line.startswith("A ·") for line in said) and any(line.startswith("B ·") for line in said), said
        page.wait_for_selector(".st-key-draw_probabilities .main-svg", timeout=30_000)  # the bars are drawn
        screenshots(page, "draw")
        page.get_by_role("tab", name="Convolution playground").click()
        wait_idle(page)
        page.wait_for_function("document.body.innerText.includes('output (1, 26, 26)')", timeout=30_000)
        assert_no_exception(page, "Convolution playground")
        page.wait_for_selector(".st-key-play_maps .main-svg", timeout=30_000)  # the trained CNN's first layer
        screenshots(page, "playground")

        # An experiment in one click: the FC net with shifted copies beside the CNN and the FC net without them.
        goto(page, "Training")
        page.get_by_role("button", name="Experiments").click()  # the experiments sit in one popover of the row
        page.get_by_role("button", name="FC net with shifted copies vs CNN without").click()
        page.wait_for_function("document.body.innerText.includes('random shifts ≤ 2 px for C')", timeout=30_000)
        page.wait_for_function("document.body.innerText.includes('Test images moved by 2 pixels')", timeout=240_000)
        wait_idle(page)
        assert_no_exception(page, "Training, the shifted-copies experiment")
        text = page.locator("[data-testid='stMain']").inner_text()
        assert "C · MLP 784-256-128-10 + shifted copies" in text and "235,146 parameters" in text
        assert any(words in text for words in ("Shifted copies raise", "did not raise", "Shifted copies lowered",
                                               "no gap to close"))  # every case of experiments.augmentation_sentence

        # The dataset picker is shared by every page and says where the data comes from.
        page.goto(url)
        page.wait_for_selector(IDLE, timeout=60_000)
        if os.environ.get("CNN_DASH_SCREENSHOTS"):
            page.screenshot(path=os.path.join(os.environ["CNN_DASH_SCREENSHOTS"], "home.png"), full_page=True)
        assert "bundled stratified sample" in page.locator("[data-testid='stSidebar']").inner_text()


TRAINING_LINK = {"dataset_title": "Fashion-MNIST (clothing)", "train_opt_0_name": "Adam", "train_opt_0_lr_Adam": "0.003",
                 "train_model_1_preset": "MLP 784-128-10", "train_epochs": "3", "train_decay": "true"}


def training_form(page) -> dict:
    """What the Training form shows for the settings of TRAINING_LINK (and the seed), read from the DOM."""
    return {
        "dataset": page.locator(".st-key-dataset_title input").input_value(),  # a combobox: its value
        "optimizer": page.locator(".st-key-train_opt_0_name label:has(input:checked)").inner_text(),
        "lr": page.locator(".st-key-train_opt_0_lr_Adam input").input_value(),
        "model B": page.locator(".st-key-train_model_1_preset input").input_value(),
        "epochs": page.locator(".st-key-train_epochs input").input_value(),
        "seed": page.locator(".st-key-train_seed input").input_value(),
        "decay": page.locator(".st-key-train_decay input[type='checkbox']").is_checked(),
    }


def test_a_training_link_opens_with_its_settings():
    """A teacher's link: the Training page opens with its settings, keeps them in the address bar, and its
    "Copy link" gives a link that opens the same form in a new session. A hostile link gets a warning."""
    from urllib.parse import parse_qs, urlencode, urlsplit

    with streamlit_server(env={"CNN_DASH_DOWNLOAD": "0"}) as url, chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 720})
        page.goto(f"{url}/training?{urlencode(TRAINING_LINK)}")
        page.wait_for_selector(IDLE, timeout=90_000)
        assert_no_exception(page, "Training opened from a link")
        assert page.locator("[data-testid='stAlert']:has-text('This link has settings')").count() == 0
        expected = {"dataset": "Fashion-MNIST (clothing)", "optimizer": "Adam", "lr": "0.00300",
                    "model B": "MLP 784-128-10", "epochs": "3", "seed": "0", "decay": True}
        assert training_form(page) == expected
        assert {k: v[-1] for k, v in parse_qs(urlsplit(page.url).query).items()} == TRAINING_LINK  # kept in the URL

        seed = page.locator(".st-key-train_seed input")  # a change made on the page goes into the address bar
        seed.fill("5")
        seed.press("Enter")
        wait_idle(page)
        page.wait_for_function("location.search.includes('train_seed=5')", timeout=10_000)

        page.get_by_role("button", name="Copy link").click()
        code = page.locator("[data-testid='stPopoverBody'] code").first
        code.wait_for(timeout=10_000)
        copied = code.inner_text().strip()
        assert copied.startswith(f"{url}/training?"), copied
        assert {k: v[-1] for k, v in parse_qs(urlsplit(copied).query).items()} == {**TRAINING_LINK, "train_seed": "5"}

        other = browser.new_page(viewport={"width": 390, "height": 844})  # a student opens it on a phone
        other.goto(copied)
        other.wait_for_selector(IDLE, timeout=90_000)
        assert_no_exception(other, "Training opened from the copied link")
        assert training_form(other) == {**expected, "seed": "5"}

        other.goto(f"{url}/training?train_epochs=inf&train_batch=%3Cscript%3E&train_opt_0_mom=1")
        other.wait_for_selector(IDLE, timeout=90_000)
        assert_no_exception(other, "Training opened from a hostile link")
        warning = other.locator("[data-testid='stAlert']:has-text('This link has settings')").inner_text()
        assert "train_epochs" in warning and "train_batch" in warning and "train_opt_0_mom" in warning, warning
        assert other.locator(".st-key-train_epochs input").input_value() == "2"  # the default
        assert "train_epochs" not in other.url and "train_batch" not in other.url

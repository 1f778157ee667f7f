"""The race you can watch: at 1280×720, the Quick demo's chart is redrawn at least once a second from within 2 s of
the click to the end of the run, its last x value growing at every redraw, and its axes where they started."""
from __future__ import annotations

import time
from urllib.parse import urlencode

from cnn_dash.presets import quick_demo
from tests.browser import IDLE, chromium, require_browser, streamlit_server, wait_idle
from tests.test_browser_projector import VIEWPORT, shot

require_browser("the live-chart test")

SAMPLE_S = 0.5
# The chart of the run card: its last x value (epochs trained, over every trace) and its axes' ranges.
CHART = """() => {
    const gd = document.querySelector('[data-testid="stPlotlyChart"] .js-plotly-plot');
    if (!gd || !gd._fullLayout || !gd._fullLayout.yaxis2) return null;
    const xs = (gd._fullData || []).flatMap((t) => Array.from(t.x || []));  // decoded (the spec sends base64)
    const L = gd._fullLayout;
    return {last: xs.length ? Math.max(...xs) : null, x: L.xaxis.range, loss: L.yaxis.range, acc: L.yaxis2.range};
}"""


def demo_link(epochs: int) -> str:
    """The Quick demo's models and settings as a Training-page link, with more epochs."""
    settings, models = quick_demo()
    query = {"train_batch": settings.batch_size, "train_epochs": epochs, "train_evals": settings.evals_per_epoch,
             "train_decay": "true"}
    for i, m in enumerate(models):
        query |= {f"train_model_{i}_preset": m.net.name, f"train_opt_{i}_name": "Adam",
                  f"train_opt_{i}_lr_Adam": m.optimizer.lr}
    return "/training?" + urlencode(query)


def test_the_quick_demos_chart_is_redrawn_every_second_on_axes_that_stay():
    # The bundled sample (10,000 training images): the Quick demo's models and settings, with 5 epochs instead of
    # 2 so that the race lasts long enough to observe (the demo itself ends within about two seconds there).
    with streamlit_server(env={"CNN_DASH_DOWNLOAD": "0", "CNN_DASH_DATA_DIR": ""}) as url, chromium() as browser:
        page = browser.new_page(viewport=VIEWPORT)
        page.goto(url + demo_link(epochs=5))
        page.wait_for_selector(IDLE, timeout=90_000)
        page.get_by_role("button", name="Train", exact=True).click()
        clicked = time.monotonic()
        samples: list[tuple[float, dict | None]] = []
        shots = 0
        while time.monotonic() - clicked < 300:
            samples.append((time.monotonic() - clicked, page.evaluate(CHART)))
            if shots == 0 and samples[-1][1] and (samples[-1][1]["last"] or 0) > 0.5:
                shot(page, "training-1280-live-chart.png")
                shots = 1
            if "— finished" in page.inner_text("body"):
                break
            time.sleep(max(0.0, SAMPLE_S - (time.monotonic() - clicked - samples[-1][0])))
        assert "— finished" in page.inner_text("body"), "the run did not finish within 300 s"
        wait_idle(page)
        final = page.evaluate(CHART)
        assert "batch 256 · 5 epochs · seed 0 · cosine lr decay" in page.inner_text("body")
        assert page.locator("[data-testid='stException']").count() == 0

    seen = " ".join(f"{t:.1f}s:{s and s['last']}" for t, s in samples)
    drawn = [(t, s) for t, s in samples if s and s["last"] is not None]
    assert drawn and drawn[0][0] <= 2.0, f"no curve within 2 s of the click: {seen}"
    # Redrawn at least once a second: between any two samples 1 s apart the last x grew, until the run's end.
    lasts = [(t, s["last"]) for t, s in drawn]
    for (t0, x0), (t1, x1) in zip(lasts, lasts[2:]):
        assert x1 > x0, f"not redrawn between {t0:.1f} s and {t1:.1f} s: {seen}"
    assert all(b >= a for (_, a), (_, b) in zip(lasts, lasts[1:]))
    first = drawn[0][1]
    for key in ("x", "loss", "acc"):  # the finished chart keeps the live chart's axes
        assert [round(v, 6) for v in final[key]] == [round(v, 6) for v in first[key]], (key, first, final)
    assert final["x"][0] == 0 and final["last"] == final["x"][1]  # x spanned the whole run from the start

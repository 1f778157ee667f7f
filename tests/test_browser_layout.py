"""The layout contract, checked in headless Chromium on every page and every state that matters (a finished run, a
diverged run, a sweep, a drawing), at 1280×720 (a projector) and at 390×844 (a phone: touch, mobile user agent):

- no table cell, header or label cut: an HTML table's cells show their whole text, and a table wider than its column
  scrolls on purpose; a read-only table drawn on a canvas (st.dataframe) cannot be checked, so it is refused; a
  table editor (st.data_editor) fits its column at 1280 without scrolling sideways (a phone scrolls it on purpose);
- text big enough to read: confusion-matrix numbers >= 14 CSS px at 1280 (>= 11 px on a phone), gallery captions
  and every other chart text >= 12 px;
- nothing covered or cut: no Plotly modebar over a title or legend, no legend or colour bar on an axis or chart
  title, no two titles or two tick labels of a chart on each other, no text on a colour bar, no chart text past its
  chart's edge;
- each page's key result inside the first screen at 1280×720 (on a phone, the draw page's answer within one screen
  of the canvas, with Undo and Clear buttons a thumb can hit);
- no server path in the page;
- in a narrow desktop window (800×600, 1024×768: no touch, a desktop user agent) the sidebar neither covers nor
  squeezes the page: it is folded when a page opens and after a page is picked from it (the same checks run there,
  without the key results).

Every problem is collected (page, size, what) and reported at once; a screenshot of every state's first screen at
both sizes is saved under CNN_DASH_SCREENSHOTS or .pytest_cache/layout-screenshots (the folder is printed), and of
the whole page too when CNN_DASH_SCREENSHOTS is set."""
from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from tests.browser import IDLE, ROOT, chromium, require_browser, streamlit_server, stroke_seven, wait_idle

require_browser("the layout contract")

DESKTOP = {"viewport": {"width": 1280, "height": 720}}
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2,
         "user_agent": "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
                       "Chrome/126.0.0.0 Mobile Safari/537.36"}
NARROW = {"800": {"viewport": {"width": 800, "height": 600}}, "1024": {"viewport": {"width": 1024, "height": 768}}}
# The sweep stays short: sizes 100, 300 and 1,000 images, at most 2 epochs each.
ENV = {"CNN_DASH_DOWNLOAD": "0", "CNN_DASH_DATA_DIR": "", "CNN_DASH_MAX_TRAIN_SUBSET": "1000",
       "CNN_DASH_MAX_EPOCHS": "2"}

CONTRACT = """([width, keys]) => {
    const problems = [];
    const box = (el) => el.getBoundingClientRect();
    const shown = (r) => r.width > 0 && r.height > 0;
    const overlap = (a, b) => Math.min(a.right, b.right) - Math.max(a.left, b.left) > 1
        && Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top) > 1;
    const name = (el) => (el.textContent || '').trim().replace(/\\s+/g, ' ').slice(0, 40);
    // An SVG text's four corners on the screen (its own rotation included), and whether two such rectangles
    // overlap by more than a pixel (separating axes).
    const corners = (t) => {
        const b = t.getBBox(), m = t.getScreenCTM(), p = (x, y) => [m.a * x + m.c * y + m.e, m.b * x + m.d * y + m.f];
        return {text: name(t), points: [p(b.x, b.y), p(b.x + b.width, b.y), p(b.x + b.width, b.y + b.height),
                                        p(b.x, b.y + b.height)]};
    };
    const collide = (p, q) => {
        for (const poly of [p.points, q.points])
            for (let i = 0; i < 4; i++) {
                const [x1, y1] = poly[i], [x2, y2] = poly[(i + 1) % 4], len = Math.hypot(x2 - x1, y2 - y1) || 1;
                const nx = (y1 - y2) / len, ny = (x2 - x1) / len;
                const span = (pts) => pts.map(([x, y]) => x * nx + y * ny);
                const a = span(p.points), b = span(q.points);
                if (Math.min(Math.max(...a), Math.max(...b)) - Math.max(Math.min(...a), Math.min(...b)) <= 1) return false;
            }
        return true;
    };
    const main = document.querySelector("[data-testid='stMain']");

    // Tables: an HTML cell shows its whole text; a table wider than its column scrolls on purpose.
    for (const t of main.querySelectorAll("[data-testid='stTable'] table")) {
        for (const cell of t.querySelectorAll('th, td')) {
            if (cell.scrollWidth > cell.clientWidth + 1)
                problems.push(`table cell cut: '${name(cell)}' needs ${cell.scrollWidth} px, has ${cell.clientWidth}`);
        }
        let scroller = t.parentElement, scrolls = false;
        while (scroller && scroller !== main) {
            const o = getComputedStyle(scroller).overflowX;
            if ((o === 'auto' || o === 'scroll') && scroller.scrollWidth > scroller.clientWidth) { scrolls = true; break; }
            scroller = scroller.parentElement;
        }
        if (!scrolls && box(t).right > main.getBoundingClientRect().right + 1)
            problems.push(`table cut at the right edge: '${name(t.querySelector('th') || t)}…'`);
    }
    for (const frame of main.querySelectorAll("[data-testid='stDataFrame']")) {
        const keyed = frame.closest("[class*='st-key-']");  // a data editor has a key; a read-only table none
        if (!keyed) problems.push(`read-only table drawn on a canvas (its cut cells cannot be checked): `
                                  + [...frame.querySelectorAll('th')].map(name).slice(0, 4).join(' | '));
        // A table editor fits its column at 1280 (on a phone it scrolls sideways on purpose).
        const grid = frame.querySelector('.dvn-scroller');
        if (keyed && grid && width >= 1000 && grid.scrollWidth > grid.clientWidth + 1)
            problems.push(`table editor scrolls sideways: ${grid.scrollWidth} px in ${grid.clientWidth}`);
    }

    // Charts: text sizes and overlaps.
    for (const chart of main.querySelectorAll("[data-testid='stPlotlyChart']")) {
        if (!shown(box(chart))) continue;
        const label = name(chart.querySelector('.gtitle') || chart.querySelector('.annotation-text') || chart) || 'chart';
        const edge = box(chart);
        const past = [...chart.querySelectorAll('svg text')].find((t) => t.textContent.trim() && shown(box(t))
            && (box(t).left < edge.left - 1 || box(t).right > edge.right + 1 || box(t).top < edge.top - 1
                || box(t).bottom > edge.bottom + 1));
        if (past) problems.push(`chart text '${name(past)}' runs past the chart's edge in '${label}'`);
        for (const t of chart.querySelectorAll('svg text')) {
            const r = box(t);
            if (!shown(r) || !t.textContent.trim()) continue;
            const ctm = t.getScreenCTM();
            const px = parseFloat(getComputedStyle(t).fontSize) * (ctm ? Math.hypot(ctm.a, ctm.b) : 1);
            const inMatrix = !!t.closest('.heatmaplayer, .textpoint') && !!chart.querySelector('.hm');
            const min = inMatrix ? (width >= 1000 ? 14 : 11) : 12;
            if (px < min - 0.05) {
                problems.push(`${inMatrix ? 'matrix number' : t.closest('.annotation') ? 'caption' : 'chart text'} `
                              + `'${name(t)}' is ${px.toFixed(1)} px (< ${min}) in '${label}'`);
                break;  // one per chart is enough to know
            }
        }
        // Tick labels (any axis, colour bars too) clear of each other: a short or narrow chart shows fewer. A
        // slanted label is compared as the slanted rectangle it is (its screen box would overlap its neighbour's).
        const ticks = [...chart.querySelectorAll("g[class$='tick'] > text")]
            .filter((e) => e.textContent.trim() && shown(box(e))).map(corners);
        crowded: for (let i = 0; i < ticks.length; i++)
            for (let j = i + 1; j < ticks.length; j++)
                if (collide(ticks[i], ticks[j])) {
                    problems.push(`tick labels '${ticks[i].text}' and '${ticks[j].text}' overlap in '${label}'`);
                    break crowded;  // one per chart is enough to know
                }
        // No text on a colour bar's strip (its name drawn across it, say).
        for (const fill of [...chart.querySelectorAll('.cbfill')].filter((e) => shown(box(e)))) {
            const on = [...chart.querySelectorAll('svg text')]
                .find((t) => t.textContent.trim() && shown(box(t)) && overlap(box(fill), box(t)));
            if (on) problems.push(`'${name(on)}' drawn over a colour bar in '${label}'`);
        }
        const modebar = chart.querySelector('.modebar');
        const titles = [...chart.querySelectorAll('.gtitle, .g-gtitle text, .annotation')].filter((e) => shown(box(e)));
        const legends = [...chart.querySelectorAll('.legend, .colorbar')].filter((e) => shown(box(e)));
        const axisTitles = [...chart.querySelectorAll('[class*="g-x"][class*="title"] text, [class*="g-y"][class*="title"] text')]
            .filter((e) => shown(box(e)));
        for (let i = 0; i < titles.length; i++)  // no two titles (a chart's, its panels', captions) on each other
            for (let j = i + 1; j < titles.length; j++)
                if (!titles[i].contains(titles[j]) && !titles[j].contains(titles[i])
                    && overlap(box(titles[i]), box(titles[j])))
                    problems.push(`'${name(titles[i])}' and '${name(titles[j])}' overlap in '${label}'`);
        if (modebar && shown(box(modebar)) && getComputedStyle(modebar).display !== 'none')
            for (const e of [...titles, ...legends])
                if (overlap(box(modebar), box(e))) problems.push(`modebar over '${name(e)}' in '${label}'`);
        for (const legend of legends)
            for (const e of [...axisTitles, ...titles])
                if (overlap(box(legend), box(e))) problems.push(`legend over '${name(e)}' in '${label}'`);
    }

    // Labels cut short (a page link's or a widget's label ends in "…" or is clipped).
    for (const el of main.querySelectorAll("[data-testid='stPageLink'] span, [data-testid='stWidgetLabel'] p, "
                                           + "[data-testid='stBaseButton-secondary'] p, [data-testid='stBaseButton-primary'] p")) {
        if (shown(box(el)) && el.scrollWidth > el.clientWidth + 1)
            problems.push(`label cut: '${name(el)}' needs ${el.scrollWidth} px, has ${el.clientWidth}`);
    }

    // Text on the first screen covered by something else (a component's floating toolbar, a chart): what is
    // under a few points of each text block must be that block.
    for (const el of main.querySelectorAll("[data-testid='stMarkdownContainer'], [data-testid='stCaptionContainer']")) {
        const r = box(el);
        if (!shown(r) || r.top < 0 || r.bottom > window.innerHeight || el.closest('details:not([open])')) continue;
        for (const fx of [0.05, 0.5, 0.95]) {
            const hit = document.elementFromPoint(r.left + r.width * fx, r.top + Math.min(r.height / 2, 10));
            if (hit && !el.contains(hit) && !hit.contains(el)) {
                problems.push(`'${name(el)}' covered by <${hit.tagName.toLowerCase()} class='${String(hit.className).slice(0, 40)}'>`);
                break;
            }
        }
    }

    // Key results: inside the first screen (the page scrolled to its top).
    const keyProblems = [];
    for (const [what, selector, text] of keys) {
        const els = [...document.querySelectorAll(selector)].filter((e) => !text || e.textContent.includes(text));
        const el = els.find((e) => shown(box(e)));
        if (!el) { keyProblems.push(`key result missing: ${what}`); continue; }
        const r = box(el);
        if (r.top < 0 || r.bottom > window.innerHeight + 1 || r.right > window.innerWidth + 1)
            keyProblems.push(`key result not in the first screen: ${what} at y ${Math.round(r.top)}–${Math.round(r.bottom)}`);
    }
    return problems.concat(keyProblems);
}"""

SIDEBAR = """() => {
    const side = document.querySelector("[data-testid='stSidebar']").getBoundingClientRect();
    const page = document.querySelector("[data-testid='stMainBlockContainer']").getBoundingClientRect();
    if (Math.min(side.right, window.innerWidth) - Math.max(side.left, 0) <= 1) return [];  // folded
    return [side.right > page.left + 1
        ? `the sidebar covers the page's left ${Math.round(side.right - page.left)} px`
        : `the sidebar is open beside the page, leaving it ${Math.round(window.innerWidth - side.right)} of `
          + `${window.innerWidth} px`];
}"""

PATHS = [str(ROOT), str(Path(tempfile.gettempdir())), os.path.expanduser("~")]


def screenshot_folder() -> Path:
    folder = Path(os.environ.get("CNN_DASH_SCREENSHOTS") or ROOT / ".pytest_cache" / "layout-screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


class Tour:
    """One browser session at one size: it visits pages, checks the contract and collects what fails."""

    def __init__(self, page, size: str, folder: Path) -> None:
        self.page, self.size, self.folder, self.problems = page, size, folder, []
        self.phone, self.narrow = size == "390", size in NARROW

    def idle(self, timeout_ms: float = 90_000) -> None:
        wait_idle(self.page, timeout_ms)
        shown = self.page.locator("[data-testid='stException']")
        assert shown.count() == 0, f"{self.size}: exception shown: {shown.first.inner_text()[:400]}"

    def goto(self, title: str) -> None:
        """Click a page in the navigation (on a phone the sidebar opens first, and is closed again)."""
        link = self.page.locator("[data-testid='stSidebarNav'] a", has_text=title).first
        box = link.bounding_box() if link.is_visible() else None
        if box is None or box["x"] + box["width"] <= 0 or box["x"] >= self.page.viewport_size["width"]:
            self.page.locator("[data-testid='stExpandSidebarButton'], [data-testid='stSidebarCollapsedControl'] "
                              "button").first.click()
            link.wait_for(state="visible", timeout=10_000)
        link.click()
        self.idle()
        close = self.page.locator("[data-testid='stSidebarCollapseButton'] button")
        if self.phone and close.count() and close.first.is_visible():
            close.first.click()
            self.page.wait_for_timeout(400)

    def check(self, where: str, keys: list[tuple[str, str, str]] = ()) -> None:
        """The contract on the page as it is now; `keys`: (what, CSS selector, text it contains) that must be in
        the first screen at 1280×720."""
        page = self.page
        page.wait_for_timeout(1200)  # Plotly lays its charts out after the script has finished
        page.evaluate("document.querySelector(\"[data-testid='stMain']\").scrollTo(0, 0)")
        page.wait_for_timeout(200)
        width = page.viewport_size["width"]
        found = page.evaluate(CONTRACT, [width, [] if self.phone or self.narrow else list(keys)])
        if self.narrow:
            found += page.evaluate(SIDEBAR)
        text = page.locator("body").inner_text()
        found += [f"server path shown: {p}" for p in PATHS if len(p) > 4 and p in text]
        self.problems += [f"{where} @{self.size}: {p}" for p in found]
        page.screenshot(path=str(self.folder / f"{where}-{self.size}.png"))
        if not os.environ.get("CNN_DASH_SCREENSHOTS"):
            return  # the whole page too only when asked for: each costs a relayout of every chart
        tall = page.evaluate("document.querySelector(\"[data-testid='stMain']\").scrollHeight")
        height = page.viewport_size["height"]
        page.set_viewport_size({"width": width, "height": min(int(tall), 8000)})
        page.wait_for_timeout(800)
        page.screenshot(path=str(self.folder / f"{where}-{self.size}-whole.png"))
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_timeout(300)

    def fill(self, key: str, value: str) -> None:
        box = self.page.locator(f".st-key-{key} input").first
        box.fill(value)
        box.press("Enter")
        self.idle()

    def train(self, button: str, done: str) -> None:
        """Press a start button; wait until `done` is shown and Train can be pressed again (a sweep has ended)."""
        self.page.get_by_role("button", name=button, exact=True).click()
        self.page.wait_for_function(f"document.body.innerText.includes({done!r})", timeout=180_000)
        self.page.wait_for_function("(() => { const b = document.querySelector('.st-key-train_start button'); "
                                    "return b && !b.disabled; })()", timeout=180_000)
        self.idle()

    def draw(self) -> None:
        """A '7' on the canvas: across the top, then down to the left (mouse events; the canvas takes touch too)."""
        page = self.page
        stroke_seven(page)
        page.wait_for_function("(document.querySelector(\"[data-testid='stMain']\").innerText.match(/ says /g) "
                               "|| []).length >= 2", timeout=60_000)
        self.idle()

    def draw_page_checks(self) -> None:
        """Undo and Clear a thumb can hit, shown without hover; on a phone the answer within a screen of the canvas."""
        found = self.page.evaluate("""() => {
            // The canvas component draws in a shadow root: search those too.
            const all = (selector, root = document) => [...root.querySelectorAll(selector),
                ...[...root.querySelectorAll('*')].filter((e) => e.shadowRoot).flatMap((e) => all(selector, e.shadowRoot))];
            const problems = [];
            const hiddenUntilHover = (button) => {
                if (getComputedStyle(button).visibility === 'hidden') return true;
                for (let e = button; e instanceof Element; e = e.parentElement || e.getRootNode().host)
                    if (getComputedStyle(e).opacity === '0') return true;
                return false;
            };
            for (const label of ['Undo', 'Clear']) {  // any button so named passes if a thumb can hit it, unhovered
                const named = all('button').filter((b) => `${b.innerText} ${b.getAttribute('aria-label') || ''} ${b.title || ''}`
                    .toLowerCase().includes(label.toLowerCase()));
                const sized = named.map((b) => [b, b.getBoundingClientRect()]).filter(([, r]) => r.width && r.height);
                if (!sized.length) { problems.push(`no ${label} button`); continue; }
                if (sized.some(([b, r]) => r.height >= 44 && r.width >= 44 && !hiddenUntilHover(b))) continue;
                const [b, r] = sized.sort(([, p], [, q]) => q.height - p.height)[0];
                problems.push(`${label} button ${Math.round(r.width)}×${Math.round(r.height)} px`
                              + (hiddenUntilHover(b) ? ', hidden until hover' : '') + ' (needs >= 44 px, shown)');
            }
            const element = all('canvas.upper-canvas')[0];
            if (!element) return problems.concat(['no canvas']);
            const canvas = element.getBoundingClientRect();
            const answer = [...document.querySelectorAll("[data-testid='stMarkdownContainer']")]
                .find((e) => e.innerText.includes(' says '));
            if (answer && answer.getBoundingClientRect().bottom - canvas.top > window.innerHeight)
                problems.push(`the answer ends ${Math.round(answer.getBoundingClientRect().bottom - canvas.top)} px `
                              + `below the canvas's top (> one screen, ${window.innerHeight} px)`);
            return problems;
        }""")
        self.problems += [f"draw @{self.size}: {p}" for p in found]


MAIN_TEXT = "[data-testid='stMain'] [data-testid='stMarkdownContainer']"


@contextlib.contextmanager
def on_home(browser, url: str, size: str, options: dict, folder: Path) -> Iterator[Tour]:
    """A fresh browser context (a new visitor) on Home with MNIST, as a Tour; closed afterwards."""
    context = browser.new_context(**options)
    t = Tour(context.new_page(), size, folder)
    try:
        t.page.goto(f"{url}/?dataset_title=MNIST+%28handwritten+digits%29")
        t.page.wait_for_selector(IDLE, timeout=90_000)
        t.idle()
        yield t
    finally:
        context.close()


def tour(browser, url: str, size: str, options: dict, folder: Path) -> list[str]:
    with on_home(browser, url, size, options, folder) as t:
        page = t.page
        t.check("home", [("the first step: Quick demo", "[data-testid='stPageLink'] a", "Quick demo")])
        t.goto("Shape calculator")
        t.check("shapes", [("output shape", "[data-testid='stMetric']", "Output shape"),
                           ("formula", "[data-testid='stMain'] .katex", "")])
        t.page.get_by_text("Network", exact=True).click()
        t.idle()
        t.check("shapes-network", [("first Linear's in_features", MAIN_TEXT, "in_features =")])
        t.goto("Architectures")
        t.check("architectures", [("both networks' parameter counts", "[data-testid='stMain'] h3", "parameters")])

        t.goto("Training")
        t.check("training", [("Train", "[data-testid='stButton'] button", "Train"),
                             ("Quick demo", "[data-testid='stButton'] button", "Quick demo")])
        t.fill("train_subset", "1000")
        t.fill("train_epochs", "1")
        t.train("Train", "— finished")
        t.check("training-finished", [("results table", "[data-testid='stTable']", "test acc")])

        t.goto("Evaluation")
        page.wait_for_function("document.querySelectorAll(\"[data-testid='stPlotlyChart'] .hm\").length >= 2",
                               timeout=60_000)
        t.check("evaluation", [("verdict", MAIN_TEXT, "test accuracy"),
                               ("scores table", "[data-testid='stTable']", "accuracy")])
        t.goto("Try it yourself")
        t.draw()
        t.draw_page_checks()
        t.check("draw", [("every model's answer", MAIN_TEXT, " says ")])
        if size == "1280":  # Undo takes the only stroke back, Clear empties the canvas: the answers go
            for button in ("Undo", "Clear"):
                page.get_by_role("button", name=button).last.click()
                page.wait_for_function("!document.querySelector(\"[data-testid='stMain']\").innerText.includes(' says ')",
                                       timeout=30_000)
                t.idle()
                if button == "Undo":
                    t.draw()
        t.page.get_by_role("tab", name="Convolution playground").click()
        t.idle()
        t.check("playground", [("output shape", MAIN_TEXT, "→ output")])

        t.goto("Training")
        t.train("Data-efficiency sweep", "Data efficiency")
        t.check("training-sweep", [("sweep chart", ".st-key-sweep_chart", "")])
        t.fill("train_opt_0_lr_SGD", "10")
        t.fill("train_opt_1_lr_SGD", "10")
        t.train("Train", "diverged at step")
        t.check("training-diverged", [("why it diverged", "[data-testid='stAlert']", "diverged at step")])
        return t.problems


def narrow_tour(browser, url: str, size: str, options: dict, folder: Path) -> list[str]:
    """Every page in a narrow desktop window, each picked from the sidebar (opened with its » button)."""
    with on_home(browser, url, size, options, folder) as t:
        t.check("home")
        for where, title in (("lesson", "Lesson"), ("shapes", "Shape calculator"), ("architectures", "Architectures"),
                             ("training", "Training"), ("evaluation", "Evaluation"), ("draw", "Try it yourself")):
            t.goto(title)
            t.check(where)
        return t.problems


def test_layout_contract_on_every_page_at_both_sizes(tmp_path):
    folder = screenshot_folder()
    print(f"layout screenshots: {folder}")
    problems: list[str] = []
    with streamlit_server(env={**ENV, "CNN_DASH_STATE_DIR": str(tmp_path)}) as url, chromium() as browser:
        for size, options in (("1280", DESKTOP), ("390", PHONE)):
            problems += tour(browser, url, size, options, folder)
        for size, options in NARROW.items():
            problems += narrow_tour(browser, url, size, options, folder)
    (folder / "problems.txt").write_text("\n".join(problems) + "\n")
    assert not problems, f"{len(problems)} layout problems (screenshots in {folder}):\n" + "\n".join(problems)

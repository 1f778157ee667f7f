"""Time one rerun of the shape calculator page with a 20-layer stack (AppTest), next to the core work alone.

    python bench/bench_shape_page.py [reruns]

Prints the median and slowest page rerun, the same for trace() + to_code() on that stack, and their ratio.
The aim in issue 3: a page rerun well under 200 ms.
"""
from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from streamlit.testing.v1 import AppTest  # noqa: E402

from cnn_dash.build import to_code  # noqa: E402
from cnn_dash.presets import PRESETS  # noqa: E402
from cnn_dash.shapes import trace  # noqa: E402
from cnn_dash.specs import LayerSpec, NetSpec  # noqa: E402
from cnn_dash.ui.stack_editor import to_frame  # noqa: E402

L = LayerSpec.of
BLOCK = (L("Conv2d", out_channels=16, kernel_size=3, padding=1), L("BatchNorm2d"), L("ReLU"),
         L("Conv2d", out_channels=16, kernel_size=3, padding=1), L("BatchNorm2d"), L("ReLU"), L("MaxPool2d", kernel_size=2))
LAYERS = (*BLOCK, *BLOCK, L("Conv2d", out_channels=32, kernel_size=3, padding="same"), L("Flatten"),
          L("Linear", out_features=64), L("ReLU"), L("Dropout", p=0.25), L("Linear", out_features=10))


def timed(fn, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def main(runs: int = 20) -> None:
    assert len(LAYERS) == 20
    net = NetSpec("bench", LAYERS)
    page = "pages/shapes.py"
    via_router = page in (ROOT / "streamlit_app.py").read_text()
    at = AppTest.from_file(str(ROOT / ("streamlit_app.py" if via_router else page)), default_timeout=120)
    at.run()
    if via_router:
        at.switch_page(page).run()
    at.radio(key="shp_mode").set_value("Network").run()
    first = next(iter(PRESETS))
    at.session_state["shp_stack_0__initial"] = PRESETS[first]  # the editor of the first preset, holding our stack
    at.session_state["shp_stack_0__base"] = to_frame(LAYERS)
    at.run()
    assert not at.exception and not at.error, [e.value for e in (*at.exception, *at.error)]
    table = [df.value for df in at.table if "receptive field" in df.value.columns][0]
    assert len(table) == 20

    page_times = timed(at.run, runs)
    core_times = timed(lambda: (trace(net), to_code(net)), runs * 10)
    page_ms, core_ms = statistics.median(page_times) * 1e3, statistics.median(core_times) * 1e3
    print(f"shape page, network mode, 20-layer stack ({'via the router' if via_router else 'page alone'}), "
          f"{runs} reruns")
    print(f"  page rerun (AppTest):  median {page_ms:7.1f} ms   slowest {max(page_times) * 1e3:7.1f} ms")
    print(f"  trace + to_code alone: median {core_ms:7.3f} ms   slowest {max(core_times) * 1e3:7.3f} ms")
    print(f"  the arithmetic is {core_ms / page_ms:.1%} of a rerun; aim: rerun well under 200 ms -> "
          f"{'met' if page_ms < 200 else 'NOT met'}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20)

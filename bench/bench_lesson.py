"""How long each Lesson step's live action takes in the real app: a Streamlit server and headless Chromium walk the
whole lesson with the keyboard (tests/lesson_tour.py, the walk the browser test checks) and this prints, per step,
the seconds from the key press (or the drawing) to the answer on screen. Run from the repository's root:

    python3 -m bench.bench_lesson            # the bundled sample (what a classroom without the datasets uses)
    CNN_DASH_DATA_DIR=/path/to/datasets python3 -m bench.bench_lesson   # the full datasets
    python3 -m bench.bench_lesson --cpu      # no browser: the training steps' runs, wall and CPU seconds

The load average is printed beside the times: on a shared machine the times grow with it. The CPU seconds of `--cpu`
hardly do: its runs use one thread, so they are the time one quiet core needs, an upper bound for two cores (two
threads spin-wait on a busy machine and burn CPU time that measures nothing).
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cnn_dash import lesson  # noqa: E402
from cnn_dash.data import load_dataset  # noqa: E402
from cnn_dash.lesson import STEPS  # noqa: E402
from cnn_dash.limits import default_limits  # noqa: E402
from cnn_dash.presets import placement_pair  # noqa: E402
from tests.browser import chromium, streamlit_server  # noqa: E402
from tests.lesson_tour import walk  # noqa: E402

BUDGET_S = 15.0  # what a class waits for at most, per step, on two cores


def main() -> None:
    data = os.environ.get("CNN_DASH_DATA_DIR", "")
    env = {"CNN_DASH_DOWNLOAD": "0", "CNN_DASH_DATA_DIR": data}
    with streamlit_server(env=env) as url, chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 720})
        times = walk(page, url)
        source = page.locator("[data-testid='stSidebar']").inner_text().split("from the", 1)[-1].strip()
    print(f"Lesson, {len(STEPS)} steps, data: {source.splitlines()[0] if source else 'unknown'}; "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    print(f"{'step':<10}{'seconds':>9}  (key press to the answer on screen)")
    for step in STEPS:
        seconds = times[step.key]
        print(f"{step.key:<10}{seconds:9.1f}{'' if seconds <= BUDGET_S else '  over ' + format(BUDGET_S, 'g') + ' s'}")
    print(f"{'all':<10}{sum(times.values()):9.1f}")


def cpu() -> None:
    """The race, the shuffled race, the locality-vs-sharing run, the drawing step's pair built for drawing off-centre
    and the sweep trained here, one after another, as the lesson's runs are."""
    import torch

    from cnn_dash.train import Trainer

    torch.set_num_threads(1)
    dataset = load_dataset("MNIST")
    size = len(dataset.train_labels)
    plans = {"race": [lesson.race_plan("MNIST", size)], "shuffle": [lesson.shuffle_plan("MNIST", size)],
             "decompose": [lesson.decomposition_plan("MNIST", size, default_limits())],
             "draw pair": [placement_pair("MNIST", size)],
             "sweep": [(s, p.models) for p in [lesson.sweep_plan("MNIST", size, default_limits())] for s in p.runs]}
    print(f"MNIST from the {dataset.source}; 1 thread; load average {os.getloadavg()[0]:.1f}")
    for name, runs in plans.items():
        wall, cpu_s = time.perf_counter(), time.process_time()
        for settings, models in runs:
            for _ in Trainer(settings, models):
                pass
        print(f"{name:<10} wall {time.perf_counter() - wall:6.1f} s   cpu {time.process_time() - cpu_s:6.1f} s")


if __name__ == "__main__":
    cpu() if "--cpu" in sys.argv else main()

"""Every bench in bench/ runs end to end at a tiny size and prints its figures (no timing is asserted), so a change
elsewhere cannot break one silently. The browser load test has its own file (it needs Chromium)."""
from __future__ import annotations

import re

import pytest

from tests.benches import BENCHES, ROOT, run_bench

NUMBER = r"[\d.,]+"
# bench -> (its tiny arguments, the figures it must print: one pattern per line of interest)
SMOKE = {
    "bench_shape_page": (("2",), (rf"page rerun \(AppTest\): +median +{NUMBER} ms",
                                  rf"trace \+ to_code alone: +median +{NUMBER} ms")),
    "bench_train": (("--images", "300", "--demo-images", "500"),
                    (rf"\(a\)  engine +{NUMBER} s", rf"a/b1 = {NUMBER}", rf"a/c  = {NUMBER}",
                     r"quick demo: 500 of [\d,]+ train images", rf"test accuracy {NUMBER}%",
                     rf"peak memory of this process: {NUMBER} MiB")),
    "bench_eval": (("--images", "400", "--pairs", "1", "--repeat", "1"),
                   (r"400 test images", rf" \+ .* {NUMBER}s/ *{NUMBER}s +{NUMBER}s/ *{NUMBER}s +{NUMBER}×")),
    "bench_shift": (("--images", "200", "--repeat", "1"),
                    (rf"page curve, 200 images +{NUMBER} s +\({NUMBER} images/s, best of 1\)",)),
    "bench_placement": (("--images", "500"),
                        (rf"Quick demo: 500 images, 2 epochs", rf"Shift-tolerant CNN .* +{NUMBER} +{NUMBER}%",
                         r"page: On this run's test digits")),
    "reproduce_tutorial": (("000", "--source", "bundled", "--images", "200"),
                           (r"estimated: about", rf"trained in {NUMBER} s \(estimated {NUMBER} s",
                            rf"ConvNet.*test_loss +2 +{NUMBER} +{NUMBER} +[+-]{NUMBER}")),
    "ws_load": (("--sessions", "2", "--press", "train", "--images", "300", "--epochs", "1", "--think", "0.5,1",
                 "--timeout", "120"),
                (r"runs: 2 finished, 0 training or shown in the queue with their place, 0 lost",
                 rf"interaction p95 < 2 s \(server part\) +{NUMBER} s +(PASS|MISS)",
                 rf"peak server memory < 2 GB +{NUMBER} GB", rf"this client {NUMBER} s")),
    "bench_redraw": (("--viewers", "1,2", "--watch", "3", "--epochs", "4"),
                     (rf"100% of the run \(250 records\): +{NUMBER} ms median, +{NUMBER} KiB of chart",
                      *(rf"{n} viewer\(s\) of one run \({n} saw it\), {NUMBER} s: {NUMBER} refreshes .*server ms per "
                        rf"redraw p50 {NUMBER}, p95 {NUMBER} .*bytes per redraw median {NUMBER} KiB" for n in (1, 2)))),
}
# Benches smoke-tested in a file of their own (Chromium, or their code path run in process).
OWN_FILE = {"load_test": "tests/test_bench_load_test_smoke.py", "bench_estimate": "tests/test_benches.py",
            "bench_lesson": "tests/test_browser_lesson.py",
            "bench_experiments": "tests/test_bench_experiments.py", "bench_race": "tests/test_bench_experiments.py"}


def test_every_bench_has_a_smoke_test():
    assert sorted([*SMOKE, *OWN_FILE]) == BENCHES
    for bench, test_file in OWN_FILE.items():
        assert bench in (ROOT / test_file).read_text(), f"{test_file} does not exercise bench/{bench}.py"


@pytest.mark.parametrize("name", sorted(SMOKE))
def test_bench_runs_and_prints_its_figures(name):
    args, figures = SMOKE[name]
    output = run_bench(name, *args)
    for pattern in figures:
        assert re.search(pattern, output), f"bench.{name} did not print /{pattern}/:\n{output[-3000:]}"
    assert "Traceback" not in output

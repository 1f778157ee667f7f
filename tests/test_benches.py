"""Smoke tests of the live-moment benches: each runs its own code path on a tiny case and prints its figures, so a
change to the app cannot break a bench silently. No timing is asserted (timings are the benches' to print)."""
from __future__ import annotations

import re

from bench import bench_estimate, bench_redraw


def test_the_estimate_bench_prints_estimate_beside_measured():
    line = bench_estimate.run_case("tiny", "bundled")
    assert re.match(r"tiny +\d+\.\ds +\d+\.\ds +\d+\.\d\d  (within|OUTSIDE)  \(1 run\(s\), 16 steps", line), line


def test_the_redraw_bench_measures_a_redraw_in_process(capsys):
    bench_redraw.in_process()
    out = capsys.readouterr().out
    assert len(re.findall(r"ms median, +\d+\.\d KiB of chart", out)) == 3, out

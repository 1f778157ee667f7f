"""Smoke test of the estimate bench: it runs its own code path on a tiny case and prints its figures, so a change
to the app cannot break it silently. No timing is asserted (timings are the benches' to print). The redraw bench
runs end to end in tests/test_bench_smoke.py."""
from __future__ import annotations

import re

from bench import bench_estimate


def test_the_estimate_bench_prints_estimate_beside_measured():
    line = bench_estimate.run_case("tiny", "bundled")
    assert re.match(r"tiny +\d+\.\ds +\d+\.\ds +\d+\.\d\d  (within|OUTSIDE)  \(1 run\(s\), 16 steps", line), line


"""Every page survives many seeded random widget settings a user could enter: no exception, ever."""
from __future__ import annotations

import os

import pytest

from tests.fuzz import fuzz_page

STEPS = int(os.environ.get("CNN_DASH_FUZZ_STEPS", "300"))

# page -> widgets the fuzzer leaves alone (long work it cannot wait for, or downloads)
PAGES = {
    None: (),  # the home page
    "pages/shapes.py": (),
    "pages/architectures.py": (),
}


@pytest.mark.parametrize("page", list(PAGES), ids=lambda p: p or "home")
def test_fuzz_page(page):
    avoid = PAGES[page]
    changed = fuzz_page(page, STEPS, seed=1234, skip=lambda kind, w: any(a in str(w.label) for a in avoid))
    assert changed >= STEPS  # every step really changed at least one widget

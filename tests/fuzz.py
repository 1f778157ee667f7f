"""Drive a page through AppTest with seeded random widget values a user could enter."""
from __future__ import annotations

import random
from collections.abc import Callable

from streamlit.testing.v1 import AppTest

from tests.conftest import APP

KINDS = ("number_input", "slider", "select_slider", "selectbox", "radio", "checkbox", "toggle",
         "multiselect", "text_input", "button")
ODD_TEXT = ["", " ", "0", "-1", "1e9", "3,5", "same", "valid", "nan", "(2, 2)", "abc", "9" * 30, "💥"]


def random_number(widget, rng: random.Random):
    """A value the number box accepts: its bounds, zero, one past zero, or anything in range."""
    lo, hi = widget.min, widget.max
    is_int = isinstance(widget.value, int) and not isinstance(widget.value, bool)
    lo_ = lo if lo is not None else -10**9
    hi_ = hi if hi is not None else 10**9
    picks = [lo_, hi_, 0, 1, -1, rng.uniform(lo_, hi_), rng.uniform(lo_, min(hi_, lo_ + 10))]
    value = rng.choice([p for p in picks if lo_ <= p <= hi_] or [lo_])
    return int(round(value)) if is_int else float(value)


def set_random(widget, kind: str, rng: random.Random) -> None:
    """Give one widget a random value within what its control allows."""
    if kind == "number_input":
        widget.set_value(random_number(widget, rng))
    elif kind == "slider":
        lo, hi, value = widget.min, widget.max, widget.value
        pick = lambda: rng.choice([lo, hi, lo + (hi - lo) * rng.random()])  # noqa: E731
        if isinstance(value, (tuple, list)):
            a, b = sorted((pick(), pick()))
            widget.set_range(type(value[0])(a), type(value[0])(b))
        else:
            widget.set_value(type(value)(pick()) if isinstance(value, (int, float)) else value)
    elif kind == "selectbox":
        if widget.options:
            widget.select_index(rng.randrange(len(widget.options)))
    elif kind in ("radio", "select_slider"):
        if widget.options:
            widget.set_value(widget.options[rng.randrange(len(widget.options))])
    elif kind in ("checkbox", "toggle"):
        widget.set_value(rng.random() < 0.5)
    elif kind == "multiselect":
        options = list(widget.options)
        widget.set_value(rng.sample(options, rng.randint(0, min(len(options), 4))))
    elif kind == "text_input":
        widget.input(rng.choice(ODD_TEXT))
    elif kind == "button":
        widget.click()


def fuzz_page(page: str | None, steps: int, seed: int, skip: Callable[[str, object], bool] = lambda k, w: False,
              setup: Callable[[AppTest], None] | None = None, timeout: float = 60) -> int:
    """Run `steps` reruns of `page`, each after 1–3 random widget changes; fail on any exception shown."""
    rng = random.Random(seed)
    at = AppTest.from_file(APP, default_timeout=timeout)
    if setup:
        setup(at)
    at.run()
    if page:
        at.switch_page(page).run()
    assert not at.exception, f"{page}: exception before fuzzing: {at.exception[0].value}"
    changed = 0
    for step in range(steps):
        widgets = [(kind, w) for kind in KINDS for w in getattr(at, kind)
                   if not w.disabled and not skip(kind, w)]
        if not widgets:
            at.run()
            continue
        history = []
        for kind, w in rng.sample(widgets, k=min(len(widgets), rng.randint(1, 3))):
            set_random(w, kind, rng)
            history.append(f"{kind} {w.label!r}" + ("" if kind == "button" else f"={w.value!r}"))
            changed += 1
        at.run()
        if at.exception:
            raise AssertionError(f"{page} step {step} (seed {seed}) after {history}: {at.exception[0].value}\n"
                                 f"{at.exception[0].stack_trace}")
    return changed

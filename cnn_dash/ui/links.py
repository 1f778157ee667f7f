"""Shareable links: a page's settings live in its URL, so a copied link opens the same page with the same settings.

Usage (any page):

    link = PageLink()                       # first, under the title: reserves the warning and the "Copy link" slots
    kind = link.selectbox("Layer", KINDS, key="shp_kind")
    size = link.number_input("Input size", 1, 256, 28, key="shp_in_size", where=left)   # `where`: a column
    relu = link.toggle("ReLU", key="shp_relu")
    link.finish()                           # last: fills the "Copy link" popover with the current settings

Each wrapper takes the arguments of the Streamlit widget of the same name (`where` picks the container) and
returns its value. The widget's `key` is the query parameter's name (`?shp_kind=MaxPool2d&shp_in_size=32`);
values at their default are left out of the URL. `float_input` (and `number_input(..., bounded=False)`) hold only
the link to a range and leave the box unbounded, for pages that explain a typed value out of range (Training).
The sidebar's dataset is bound by a `PageLink(shared=True)`, and every page's link carries it.

- Reading: on every run, before a bound widget is created, its parameter is checked against the widget's own
  options or range, both in st.query_params and in the URL the run began with (what Streamlit seeds from). A
  bad value (unknown option, out of range, not a number, NaN, a repeated key, empty, too long) is dropped from
  the URL and the widget keeps its default; one st.warning names every bad parameter. Parameters this page does
  not bind are ignored.
- Writing: Streamlit's `bind="query-params"` (1.55+) keeps the URL in step with each widget in the browser. On
  an older Streamlit, the page writes `st.query_params` itself after each widget.
- Sharing: Streamlit has no clipboard API, so "Copy link" shows the full link in an st.code block, whose copy
  button puts it on the clipboard (st.context.url gives the page's address; in tests only the query string).

Not kept in the URL: data-editor tables and number_slider values (they are not single widgets).
"""
from __future__ import annotations

import inspect
import math
import re
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlencode

import streamlit as st
from streamlit.errors import StreamlitAPIException
from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

HAS_BIND = "bind" in inspect.signature(st.selectbox).parameters  # Streamlit 1.55+
MAX_LEN = 200  # longer values are refused before they are parsed
_INT = re.compile(r"^[+-]?[0-9]{1,18}$")  # ASCII digits only: int() also reads "٣"
_FLOAT = re.compile(r"^[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]{1,3})?$")  # no inf, nan, _ or "١"
SHARED_KEY = "_link_shared_values"  # the sidebar's bound values (the dataset): every page's link carries them


class BadValue(ValueError):
    """A query value a widget cannot take; the message says what it takes."""


def shown(raw: Sequence[str]) -> str:
    """A hostile value made safe to show in a message: truncated, escaped, no backticks or markdown."""
    text = raw[-1] if len(raw) == 1 else ", ".join(raw[:3]) + (", …" if len(raw) > 3 else "")
    text = text[:40] + ("…" if len(text) > 40 else "")
    return repr(text).replace("`", "'")


def _one(raw: Sequence[str]) -> str:
    if len(raw) != 1:
        raise BadValue("it is given more than once")
    if len(raw[0]) > MAX_LEN:
        raise BadValue(f"it is longer than {MAX_LEN} characters")
    if not raw[0].strip():
        raise BadValue("it is empty")
    return raw[0]


def parse_int(raw: Sequence[str], lo: int, hi: int) -> int:
    """A whole number in [lo, hi] from a query value, else BadValue saying what is allowed."""
    text = _one(raw).strip()
    if not _INT.match(text) or not lo <= int(text) <= hi:
        raise BadValue(f"it takes a whole number from {lo:,} to {hi:,}")
    return int(text)


def parse_float(raw: Sequence[str], lo: float, hi: float, lo_open: bool = False, hi_open: bool = False) -> float:
    """A finite number from lo to hi (`lo_open`: above lo; `hi_open`: below hi) from a query value, else BadValue."""
    text = _one(raw).strip()
    value = float(text) if _FLOAT.match(text) else math.nan
    if not ((lo < value if lo_open else lo <= value) and (value < hi if hi_open else value <= hi)):
        raise BadValue(f"it takes a number {'above' if lo_open else 'at least'} {lo:g} and "
                       f"{'below' if hi_open else 'at most'} {hi:g}")
    return value


def parse_bool(raw: Sequence[str]) -> bool:
    """true or false (any case) from a query value."""
    text = _one(raw).strip().lower()
    if text not in ("true", "false"):
        raise BadValue("it takes true or false")
    return text == "true"


def parse_choice(raw: Sequence[str], labels: Sequence[str]) -> int:
    """The index of the option whose label is the query value."""
    text = _one(raw)
    if text not in labels:
        listed = ", ".join(labels[:8]) + (", …" if len(labels) > 8 else "")
        raise BadValue(f"it takes one of: {listed}")
    return list(labels).index(text)


def seeding_value(key: str) -> list[str]:
    """The value Streamlit will seed a bound widget from: the URL as this run began, which st.query_params no
    longer shows once a value is deleted or a page is revisited. Private API, read defensively: [] if absent."""
    try:
        value = get_script_run_ctx().session_state._state.query_params.get_initial_value(key)
    except Exception:  # noqa: BLE001 - another Streamlit version: st.query_params alone is checked
        return []
    return [] if value is None else [value] if isinstance(value, str) else list(value)


def _typed_here(key: str, raw: Sequence[str], write: Callable[[Any], str]) -> bool:
    """True when the URL's value is the one the widget holds in this session: the binding wrote it from what the
    visitor typed, so it came from no link (the page explains a typed value itself; the widget keeps it)."""
    if key not in st.session_state or len(raw) != 1:
        return False
    value = st.session_state[key]
    if raw[0] in (write(value), str(value)):
        return True
    try:
        return isinstance(value, (int, float)) and not isinstance(value, bool) and float(raw[0]) == float(value)
    except ValueError:
        return False


def to_query(value: Any) -> str:
    """A widget value as the URL writes it: true/false, 3 (not 3.0), an option's label."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and math.isfinite(value) and value == int(value):
        return str(int(value))
    return str(value)


class PageLink:
    """One page's URL-bound widgets, the warning about bad link values, and the "Copy link" affordance."""

    def __init__(self, label: str = "Copy link", shared: bool = False, slot: bool = True) -> None:
        """`shared`: the sidebar's link (no "Copy link" of its own); every page's link carries its values.
        `slot=False`: "Copy link" is drawn where `finish` is called (e.g. in a row of buttons), not under the title."""
        self._label = label
        self._warning = st.empty()
        self._shared = shared
        self._share = st.container() if slot and not shared else None
        self.values: dict[str, str] = {}  # key -> query value, for every bound widget not at its default
        self.bad: dict[str, str] = {}  # key -> why its link value was refused (this run)
        if shared:  # the router draws the sidebar before the page, so the page's link sees this run's values
            st.session_state[SHARED_KEY] = self.values

    # ---- the widgets ---------------------------------------------------------------------------------------
    def selectbox(self, label: str, options: Sequence[Any], key: str, index: int = 0,
                  format_func: Callable[[Any], Any] = str, where: Any = st, **kw: Any) -> Any:
        """st.selectbox bound to ?key=<option label>."""
        return self._choice(where.selectbox, label, options, key, index, format_func, kw)

    def radio(self, label: str, options: Sequence[Any], key: str, index: int = 0,
              format_func: Callable[[Any], Any] = str, where: Any = st, **kw: Any) -> Any:
        """st.radio bound to ?key=<option label>."""
        return self._choice(where.radio, label, options, key, index, format_func, kw)

    def _choice(self, widget: Callable[..., Any], label: str, options: Sequence[Any], key: str, index: int,
                format_func: Callable[[Any], Any], kw: dict[str, Any]) -> Any:
        labels = [str(format_func(o)) for o in options]
        return self._bound(widget, key, options[index], labels[index], lambda r: options[parse_choice(r, labels)],
                           lambda v: labels[list(options).index(v)],
                           dict(label=label, options=options, index=index, format_func=format_func, **kw))

    def number_input(self, label: str, min_value: int, max_value: int, value: int, key: str, where: Any = st,
                     bounded: bool = True, **kw: Any) -> int:
        """An integer st.number_input bound to ?key=<whole number in range>. With `bounded=False` only the link is
        held to the range: a number typed in the box reaches the page, which explains it."""
        bounds = dict(min_value=min_value, max_value=max_value) if bounded else {}
        return int(self._bound(where.number_input, key, value, to_query(value),
                               lambda r: parse_int(r, min_value, max_value), to_query,
                               dict(label=label, value=value, **{"step": 1, **kw}, **bounds)))

    def float_input(self, label: str, min_value: float, max_value: float, value: float, key: str, where: Any = st,
                    lo_open: bool = False, hi_open: bool = False, **kw: Any) -> float:
        """An unbounded float st.number_input bound to ?key=<number from min_value to max_value> (`lo_open`,
        `hi_open`: the ends excluded). Only the link is held to the range: a number typed in the box reaches the
        page, which explains it."""
        return float(self._bound(where.number_input, key, float(value), to_query(float(value)),
                                 lambda r: parse_float(r, min_value, max_value, lo_open, hi_open), to_query,
                                 dict(label=label, value=float(value), **kw)))

    def slider(self, label: str, min_value: int, max_value: int, value: int, key: str, where: Any = st,
               **kw: Any) -> int:
        """An integer st.slider bound to ?key=<whole number in range>."""
        return int(self._bound(where.slider, key, value, to_query(value), lambda r: parse_int(r, min_value, max_value),
                               to_query, dict(label=label, min_value=min_value, max_value=max_value, value=value, **kw)))

    def checkbox(self, label: str, key: str, value: bool = False, where: Any = st, **kw: Any) -> bool:
        """st.checkbox bound to ?key=true|false."""
        return bool(self._bound(where.checkbox, key, value, to_query(value), parse_bool, to_query,
                                dict(label=label, value=value, **kw)))

    def toggle(self, label: str, key: str, value: bool = False, where: Any = st, **kw: Any) -> bool:
        """st.toggle bound to ?key=true|false."""
        return bool(self._bound(where.toggle, key, value, to_query(value), parse_bool, to_query,
                                dict(label=label, value=value, **kw)))

    # ---- reading, binding, writing -------------------------------------------------------------------------
    def _bound(self, widget: Callable[..., Any], key: str, default: Any, default_text: str,
               parse: Callable[[list[str]], Any], write: Callable[[Any], str], kwargs: dict[str, Any]) -> Any:
        # Checked on every run, not only the first: Streamlit seeds a widget from the URL whenever the widget is new
        # to it (a revisited page too), and a value it cannot take ('inf' for a number) would raise inside it. Two
        # places hold the link's value: st.query_params (now) and the URL this run began with, which Streamlit seeds
        # from (on a revisited page st.query_params may no longer show it). Both are checked, so a refused value
        # never reaches Streamlit's seeding.
        bind = HAS_BIND
        for raw in (st.query_params.get_all(key), seeding_value(key) if HAS_BIND else []):
            if not raw or _typed_here(key, raw, write):
                continue
            try:
                value = parse(raw)
                if not HAS_BIND and key not in st.session_state:  # seed once; later the URL follows the widget
                    st.session_state[key] = value
            except BadValue as why:
                self._refuse(key, raw, why, default_text)
                bind = False  # this run only: Streamlit would otherwise read the value we refused
                break
        value = widget(key=key, **kwargs, **({"bind": "query-params"} if bind else {}))
        text = write(value)
        if text != default_text:
            self.values[key] = text
        if not HAS_BIND:
            self._write(key, None if text == default_text else text)
        return value

    def _refuse(self, key: str, raw: list[str], why: BadValue, default_text: str) -> None:
        self.bad[key] = f"`{key}={shown(raw)}`: {why}; the default `{shown([default_text])}` is used"
        self._write(key, None)
        lines = "\n".join(f"- {reason}" for reason in self.bad.values())
        self._warning.warning(f"This link has settings this page cannot use:\n{lines}", icon=":material/link_off:")

    @staticmethod
    def _write(key: str, text: str | None) -> None:
        try:
            if text is None:
                if key not in st.query_params and seeding_value(key):
                    # Only in the URL the run began with (a revisited page): set it, so that deleting it sends the
                    # browser a URL without it.
                    st.query_params[key] = ""
                if key in st.query_params:
                    del st.query_params[key]
            elif st.query_params.get(key) != text:
                st.query_params[key] = text
        except StreamlitAPIException:  # bound to a widget since: the binding keeps the URL itself
            pass

    # ---- sharing -------------------------------------------------------------------------------------------
    def query(self) -> str:
        """The query string of the current settings (those at their default left out), without '?'; the sidebar's
        settings first."""
        return urlencode({**st.session_state.get(SHARED_KEY, {}), **self.values})

    def url(self) -> str:
        """The full link to this page with its current settings; just '?query' when the address is unknown."""
        base = (st.context.url or "").split("?", 1)[0]
        query = self.query()
        return f"{base}?{query}" if query else (base or "?")

    def finish(self) -> None:
        """Fill the "Copy link" popover (reserved under the title) with the link to the current settings."""
        if self._shared:
            return
        with (self._share or st).popover(self._label, icon=":material/link:"):
            st.caption("This link opens this page with the settings shown now. Use the copy button of the box "
                       "(top right), then paste it in an e-mail or a slide.")
            st.code(self.url(), language=None, wrap_lines=True)
            if not st.context.url:
                st.caption("Add this after the page's address in the browser.")

"""The page-wide layout rules every page shares (a stylesheet only: no content, nothing a visitor types)."""
from __future__ import annotations

import streamlit as st

# - Plotly's modebar (zoom, pan, download) sat over chart titles and legends, and appears only on hover, which a
#   phone does not have: hidden on every chart (a chart's picture can still be saved with a screenshot).
# - Streamlit leaves 6rem above a page's title: at 1280×720 that pushed each page's result below the first screen
#   (a phone keeps it: there the app's toolbar sits in that space). With the sidebar folded (a narrow window) the
#   toolbar holds its » button and is 60 px tall: the page starts below it.
# - The canvas's own toolbar floats 40 px above the canvas, over whatever is there: room is made for it.
# - The drawing's Undo and Clear are big enough for a thumb (at least 44 px).
# - Tables read from the back of a room: numbers right-aligned in tabular figures, headers allowed to wrap.
# - The Lesson is read from the back of a room too: larger type on its steps (a phone keeps the usual size).
# - The owner-token handshake (cnn_dash/ui/owner.py) and the sidebar's fold (cnn_dash/ui/sidebar.py) show nothing:
#   their elements take no room (their scripts run).
STYLE = """<style>
.st-key-_owner_handshake, .st-key-_sidebar_fold { display: none; }
[data-testid='stPlotlyChart'] .modebar-container { display: none !important; }
@media (min-width: 640px) { [data-testid='stMainBlockContainer'] { padding-top: 3rem; } }
@media (min-width: 640px) {
  .stApp:has([data-testid='stExpandSidebarButton']) [data-testid='stMainBlockContainer'] { padding-top: 3.75rem; }
}
.st-key-draw_canvas { padding-top: 44px; }
[data-testid='stTable'] td { font-variant-numeric: tabular-nums; }
[data-testid='stTable'] th { white-space: normal; }
.st-key-draw_undo button, .st-key-draw_clear button { min-height: 48px; min-width: 96px; font-size: 1rem; }
@media (min-width: 640px) {
  .st-key-lesson_page [data-testid='stMarkdownContainer'] p,
  .st-key-lesson_page [data-testid='stMarkdownContainer'] li { font-size: 1.15rem; }
  .st-key-lesson_page h1 { font-size: 1.9rem; padding: 0 0 .25rem 0; }
}
</style>"""


def page_style() -> None:
    """Add the shared stylesheet to the page (call once per script run, from the router)."""
    st.html(STYLE)

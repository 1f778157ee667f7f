"""Layout settings every chart shares."""
from __future__ import annotations

import textwrap

# The legend at the bottom of the figure itself (not a fraction of the plot's height below the axis, which put it
# on the x-axis title on a phone and on a projector): the plot area shrinks to make room for it, however many
# rows it wraps to on a narrow screen.
BELOW = dict(orientation="h", yref="container", y=0, yanchor="bottom", x=0, xanchor="left")

# Plotly never wraps a title: one longer than its chart ran past the edge of a phone's 358 px column. A line of this
# many characters fits it at 16 px.
TITLE_CHARS = 36


def wrapped(text: str, width: int = TITLE_CHARS) -> str:
    """`text` broken into lines of at most `width` characters (plotly's <br>), at spaces."""
    return "<br>".join(textwrap.wrap(text, width, break_long_words=False)) or text


def title_px(title: str, below: int = 4, line_px: int = 22) -> int:
    """The top margin a (wrapped) title needs, `below` px of it left for what sits over the plot (panel names).
    Plotly puts a title's first baseline at the middle of the top margin and further lines under it, so the margin
    is twice what the lines reach down. (title.automargin drew no title inside Streamlit; a title hung from the
    top with yanchor='top' lost its first line above the figure.)"""
    return max(40, 2 * (title.count("<br>") * line_px + 6 + below)) if title else 10  # 40: a line's ascent

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


def title_px(title: str, line_px: int = 22) -> int:
    """The top margin a (wrapped) title needs when it hangs from the figure's top (`top_title`): its lines and a
    little room. (Plotly's title.automargin, tried instead, drew no title at all inside Streamlit.)"""
    return 16 + line_px * (title.count("<br>") + 1) if title else 10


def top_title(title: str, **font: object) -> dict:
    """A title hanging from the figure's top edge: plotly centres one on its top margin by default, so a title
    of two lines reached down onto what is under it (panel names, a gallery's captions)."""
    return dict(text=title, yref="container", y=1, yanchor="top", pad=dict(t=8), **({"font": font} if font else {}))

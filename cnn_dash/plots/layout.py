"""Layout settings every chart shares."""
from __future__ import annotations

# The legend at the bottom of the figure itself (not a fraction of the plot's height below the axis, which put it
# on the x-axis title on a phone and on a projector): the plot area shrinks to make room for it, however many
# rows it wraps to on a narrow screen.
BELOW = dict(orientation="h", yref="container", y=0, yanchor="bottom", x=0, xanchor="left")

"""The lesson's handout, "What we found today": every step's question, the class's guess, the answer with the class's
own numbers, the takeaway and the charts, as one HTML file that opens offline (plotly.js embedded once)."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

import plotly.graph_objects as go

from cnn_dash.lesson import Step
from cnn_dash.reveals import Reveal

STYLE = """body{font-family:system-ui,sans-serif;max-width:960px;margin:2rem auto;padding:0 1rem;line-height:1.45;
color:#222}h1{margin-bottom:.2rem}.step{border-top:1px solid #ddd;padding-top:1rem;margin-top:1.5rem}
.answers li.right{font-weight:bold}.answers li.right::after{content:"  ← the run's answer";color:#0a7d32}
.guess{color:#555}.takeaway{background:#f3f6fb;padding:.5rem .8rem;border-left:4px solid #1f6feb}
.missing{color:#888;font-style:italic}"""


@dataclass(frozen=True)
class Entry:
    """One step as the class lived it: its reveal (None if its action was not run), the class's guess (an index into
    its answers, or None), what the numbers came from, and the charts."""

    step: Step
    reveal: Reveal | None
    guess: int | None = None
    source: str = ""
    figures: tuple[go.Figure, ...] = ()


def _answers(entry: Entry) -> str:
    items = []
    for i, text in enumerate(entry.step.answers):
        right = entry.reveal is not None and entry.reveal.answer == i
        items.append(f"<li{' class=right' if right else ''}>{escape(text)}</li>")
    return f"<ol class=answers type=A>{''.join(items)}</ol>"


def _guess(entry: Entry) -> str:
    if entry.guess is None:
        return ""
    said = entry.step.answers[entry.guess]
    verdict = "" if entry.reveal is None else (" — right." if entry.guess == entry.reveal.answer else " — not this time.")
    return f"<p class=guess>The class guessed: {escape(said)}{verdict}</p>"


def handout_html(entries: Sequence[Entry], title: str, subtitle: str) -> str:
    """The whole handout as one self-contained HTML page; plotly.js is inlined with the first chart only."""
    parts = [f"<!DOCTYPE html><html lang=en><head><meta charset=utf-8><title>{escape(title)}</title>"
             f"<meta name=viewport content='width=device-width, initial-scale=1'><style>{STYLE}</style></head><body>"
             f"<h1>{escape(title)}</h1><p>{escape(subtitle)}</p>"]
    plotly_js: bool | str = True  # the first chart carries plotly.js; the others use it
    for number, entry in enumerate(entries, start=1):
        step = entry.step
        parts.append(f"<section class=step><h2>{number}. {escape(step.title)}</h2><p>{escape(step.idea)}</p>"
                     f"<p><b>Question:</b> {escape(step.question)}</p>{_answers(entry)}{_guess(entry)}")
        if entry.reveal is None:
            parts.append("<p class=missing>Not run in this lesson.</p></section>")
            continue
        parts.append(f"<p><b>What we found:</b> {escape(entry.reveal.finding)}</p>"
                     f"<p class=takeaway>{escape(entry.reveal.takeaway)}</p>")
        if entry.source:
            parts.append(f"<p class=guess>{escape(entry.source)}</p>")
        for figure in entry.figures:
            parts.append(figure.to_html(full_html=False, include_plotlyjs=plotly_js, config={"responsive": True}))
            plotly_js = False
        parts.append("</section>")
    parts.append("</body></html>")
    return "".join(parts)

"""Training page: every run of the session, with overlaid curves, downloads and delete."""
from __future__ import annotations

from typing import Callable

import streamlit as st

from cnn_dash.plots.curves import curves_figure, curves_frame
from cnn_dash.records import Status
from cnn_dash.registry import RunRegistry
from cnn_dash.runs import Run
from cnn_dash.ui.run_card import interrupted, results_table, run_summary
from cnn_dash.ui.training import LETTERS, session_registry


def _delete(run_id: str) -> None:
    session_registry().delete(run_id)


def run_title(run: Run) -> str:
    """'Run 2 (A 97.1%, B 93.4%)': a run's name with every model's final test accuracy, for the overlay."""
    if run.active:
        return run.name  # a title that stays put while it trains: the overlay's choice keeps it
    results = run.results
    accs = [f"{m.short} {results[m.label].test_acc:.1%}" for m in run.models
            if m.label in results and results[m.label].test_acc is not None]
    return f"{run.name} ({', '.join(accs)})" if accs else run.name


def runs_list(registry: RunRegistry) -> None:
    """Every run of the session: overlay curves, download CSV and weights, delete."""
    runs = [r for r in registry.runs() if r.history]
    if not runs:
        return
    st.subheader("Your runs")
    names = {run_title(r): r for r in runs}
    chosen = st.multiselect("Overlay the curves of", list(names), key="train_overlay",
                            placeholder="Pick runs to compare their curves") if len(names) > 1 else []
    chosen = [name for name in chosen if name in names]
    if chosen:
        frame = curves_frame({name: list(names[name].history) for name in chosen})
        st.plotly_chart(curves_figure(frame), width="stretch", key="train_overlay_chart")
    for run in reversed(registry.runs()):
        with st.expander(f"{run.name} · {run.status} · {run_summary(run)}"):
            if run.history:
                results_table(run)
            cols = st.columns(2 + len(run.models))
            cols[0].download_button("Curves (CSV)", run.curves_csv, f"{run.name.replace(' ', '_')}_curves.csv",
                                    "text/csv", key=f"train_csv_{run.id}", on_click="ignore",
                                    disabled=not run.history)
            for i, (col, m) in enumerate(zip(cols[1:], run.models)):
                col.download_button(f"Weights {LETTERS[i]}", _weights(run, m.label),
                                    f"{run.name.replace(' ', '_')}_{LETTERS[i]}.pt", "application/octet-stream",
                                    key=f"train_w_{run.id}_{i}", on_click="ignore", disabled=not run.has_weights,
                                    help=f"state_dict of {m.label}: torch.load(file, weights_only=True)")
            cols[-1].button("Delete", icon=":material/delete:", key=f"train_del_{run.id}", on_click=_delete,
                            args=(run.id,))
            if run.status == Status.INTERRUPTED:
                interrupted(run, registry, key="list_again")


def _weights(run: Run, label: str) -> Callable[[], bytes]:
    return lambda: run.weights_file(label)

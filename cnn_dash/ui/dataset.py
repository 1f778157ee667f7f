"""The dataset picker every page shares (in the sidebar) and the example-image grid."""
from __future__ import annotations

import streamlit as st

from cnn_dash.data import DATASETS, TITLES, DataSourceError, Dataset, is_loaded, load_dataset
from cnn_dash.ui.links import PageLink

DATASET_KEY = "dataset_title"  # widget key: the choice persists across pages
_NAMES = {title: name for name, title in TITLES.items()}


def dataset_sidebar() -> Dataset | None:
    """Render the dataset picker in the sidebar; say which source is in use and how many images it has.
    The choice is kept in the URL (?dataset_title=Fashion-MNIST+(clothing)), so every page's link carries it."""
    # Options are the titles themselves (no format_func), so AppTest and the fuzzer can pick any of them.
    with st.sidebar:
        title = PageLink(shared=True).selectbox("Dataset", [TITLES[n] for n in DATASETS], key=DATASET_KEY)
    dataset = selected_dataset(_NAMES[title])
    if dataset is not None:
        st.sidebar.caption(f"**{dataset.size_text}** from the {dataset.source}.")
        bad = [n for n in dataset.notes if "truncated" in n or "missing" in n or "cannot" in n or "bad" in n]
        for note in bad:
            st.sidebar.warning(f"Skipped a source: {note}")
    return dataset


def selected_dataset(name: str | None = None) -> Dataset | None:
    """The dataset chosen in the sidebar (loaded once per process); None, with an error shown, if none loads."""
    name = name or _NAMES.get(st.session_state.get(DATASET_KEY), DATASETS[0])
    try:
        if is_loaded(name):  # the usual case: no spinner (each one starts a thread on the server)
            return load_dataset(name)
        with st.spinner(f"Loading {TITLES[name]}…"):
            return load_dataset(name)
    except DataSourceError as exc:
        st.error(f"No copy of {TITLES[name]} could be loaded: {exc}")
        return None


def source_details(dataset: Dataset) -> None:
    """An expander listing why each earlier source was skipped."""
    with st.expander("Where the data comes from"):
        st.write(f"In use: the {dataset.source} — {dataset.size_text}.")
        for note in dataset.notes:
            st.write(f"- skipped {note}")
        st.caption("Set CNN_DASH_DATA_DIR to a folder in torchvision's layout (MNIST/raw, FashionMNIST/raw) "
                   "to use the full 60,000 / 10,000 images.")

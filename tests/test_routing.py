"""A page opened first by its own URL is still drawn by the router (sidebar, layout, navigation)."""
from __future__ import annotations

import pytest
from streamlit.runtime.pages_manager import PagesManager
from streamlit.testing.v1 import AppTest

from tests.conftest import APP


@pytest.mark.parametrize("page", ["pages/training.py", "pages/shapes.py"])
def test_a_fresh_server_whose_first_visitor_opens_a_page_url_runs_the_router(monkeypatch, page):
    monkeypatch.setenv("CNN_DASH_DOWNLOAD", "0")
    # As on a fresh server: Streamlit saw pages/ beside the main script and no script has called st.navigation.
    monkeypatch.setattr(PagesManager, "uses_pages_directory", True)
    at = AppTest.from_file(APP, default_timeout=60)
    at.switch_page(page).run()
    assert not at.exception
    assert at.sidebar.selectbox(key="dataset_title").value.startswith("MNIST")  # drawn by the router
    assert at.title[0].value == {"pages/training.py": "Train side by side", "pages/shapes.py": "Shape calculator"}[page]
    assert PagesManager.uses_pages_directory is False  # and every later visitor gets the router too

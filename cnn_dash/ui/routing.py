"""Every page goes through the router (streamlit_app.py), even when a visitor opens a page's own URL first."""
from __future__ import annotations

import types

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager
from streamlit.runtime.scriptrunner import get_script_run_ctx


def through_router() -> None:
    """Call first on every page.

    Streamlit treats a `pages/` folder beside the main script as an old-style multipage app until some script
    calls `st.navigation`, and that flag is process-wide. So when the first visitor after a server start opens
    a page's URL (a bookmark of /training, a reload), Streamlit runs that file on its own: no sidebar dataset
    picker, no wide layout, file names in the navigation, and the same for every later visitor. (AppTest
    resets the flag before every run, so there every page run starts this way.)

    This switches the flag off and runs the router in place, the way `st.Page.run` runs a page; its
    `st.navigation` runs this page again, now past this check. The run then stops here. Running in place
    rather than calling `st.rerun()` keeps the triggering click: a rerun would forget which button was pressed.
    """
    ctx = get_script_run_ctx()
    if not PagesManager.uses_pages_directory or ctx is None:
        return
    PagesManager.uses_pages_directory = False
    router = ctx.pages_manager.main_script_path
    module = types.ModuleType("__main__")
    module.__dict__["__file__"] = router
    exec(ctx.pages_manager.get_page_script_byte_code(router), module.__dict__)  # noqa: S102 - our own router
    st.stop()

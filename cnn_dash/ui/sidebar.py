"""The sidebar in a narrow desktop window: folded, so that it neither covers nor squeezes the page.

Streamlit folds the sidebar on its own only up to 768 px, and folds it after a page is picked only for a phone's
user agent. So a desktop window of 769-1,100 px (a laptop beside a projector's controls, 800×600, 1024×768) opened
every page squeezed into what the sidebar left (500 px at 800), and one of up to 768 px kept the sidebar over the
page after a page was picked from it. A small components-v2 script (inline in the page, no iframe) folds it in a
window narrower than NARROW_PX: when the page opens, when the window is resized, and after a page is picked from it
(there it is a menu, opened with its » button and folded once used). Streamlit remembers a fold the visitor makes
(localStorage): the script's own folds are not remembered, so the same browser in a wider window shows the sidebar
as Streamlit would.
"""
from __future__ import annotations

import streamlit as st

NARROW_PX = 1100  # below this width the sidebar starts folded (wider, it leaves the page at least 800 px)
KEY = "_sidebar_fold"  # the script's element (it shows nothing: style.py gives it no room)
JS = """
export default function ({ data }) {
  if (window.cnnDashSidebarFold) return;  // one set of listeners per page load (this runs on every script run)
  window.cnnDashSidebarFold = true;
  const narrow = () => window.innerWidth < data.narrow_px;
  const sidebar = () => document.querySelector("[data-testid='stSidebar']");
  const open = () => { const s = sidebar(); return !!s && s.getBoundingClientRect().right > 1; };
  let openedByVisitor = false;
  const fold = () => {
    const button = document.querySelector("[data-testid='stSidebarCollapseButton'] button");
    if (!narrow() || !open() || !button) return;
    let kept = null;  // Streamlit's remembered folds: this fold is ours, not the visitor's, so it is not kept
    try { kept = Object.entries(window.localStorage).filter(([k]) => k.startsWith("stSidebarCollapsed-")); }
    catch (e) { /* storage blocked: nothing is remembered anyway */ }
    button.click();
    openedByVisitor = false;
    if (kept === null) return;
    try {
      Object.keys(window.localStorage).filter((k) => k.startsWith("stSidebarCollapsed-"))
        .forEach((k) => window.localStorage.removeItem(k));
      kept.forEach(([k, v]) => window.localStorage.setItem(k, v));
    } catch (e) { /* nothing to restore */ }
  };
  document.addEventListener("click", (event) => {
    const target = event.target instanceof Element ? event.target : null;
    if (!target) return;
    if (target.closest("[data-testid='stExpandSidebarButton'], [data-testid='stSidebarCollapsedControl']"))
      openedByVisitor = true;
    if (target.closest("[data-testid='stSidebarNav'] a")) setTimeout(fold, 0);  // a page picked: the menu folds
  }, true);
  // Streamlit decides the sidebar again at every change of the window's width: fold after it, unless the
  // visitor has opened it to use it.
  window.addEventListener("resize", () => { if (!openedByVisitor) setTimeout(fold, 100); });
  requestAnimationFrame(fold);
}
"""
_fold = st.components.v2.component("cnn_dash_sidebar_fold", js=JS)


def fold_sidebar_when_narrow() -> None:
    """Fold the sidebar in a window narrower than NARROW_PX (see the module's docstring); shows nothing."""
    _fold(key=KEY, data={"narrow_px": NARROW_PX}, height="content")

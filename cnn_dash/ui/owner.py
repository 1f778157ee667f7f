"""Who owns the runs: a random token the browser keeps, so a reload or a new tab finds the same runs.

The token (256 random bits, URL-safe) lives in a first-party cookie and in localStorage, never in a URL, so a copied
link does not carry it. The handshake, on every page (the router calls `handshake`):

1. The server reads the cookie from the request that opened the session (`st.context.cookies`). A valid one is this
   session's token from the first script run on; otherwise the server proposes a fresh token.
2. A components-v2 component (inline JS in the page itself, no iframe) takes the cookie's token, else the one in
   localStorage, else the server's, writes it back to both (the cookie renewed for a year), and, when it differs
   from the server's, reports it over the session's websocket: the next script run adopts it. No token ever
   travels in a query string.

Over https the cookie is `SameSite=None; Secure; Partitioned`, so it is also kept where the app is framed by a page
of another site (cookies of a third-party frame, partitioned per top-level site: CHIPS); over http (localhost)
`SameSite=Lax`. Where a browser refuses the cookie, localStorage carries the token through step 2. On Streamlit
Community Cloud the app's page `https://<app>.streamlit.app` shows the app in an iframe of the same origin
(`/~/+/`), so the cookie is first-party there.
"""
from __future__ import annotations

import secrets

import streamlit as st
from streamlit.runtime import Runtime
from streamlit.runtime.scriptrunner import get_script_run_ctx

from cnn_dash.library import valid_token

COOKIE = "cnn_dash_owner"
MAX_AGE_S = 365 * 86400
TOKEN_KEY = "_owner_token"  # this session's owner token; no widget uses the key
HANDSHAKE_KEY = "_owner_handshake"
JS = """
export default function ({ data, setStateValue }) {
  const name = data.cookie, valid = (t) => typeof t === "string" && /^[A-Za-z0-9_-]{22,128}$/.test(t);
  const cookie = document.cookie.split("; ").find((c) => c.startsWith(name + "="));
  let stored = null;
  try { stored = window.localStorage.getItem(name); } catch (e) { /* storage blocked: the cookie alone */ }
  const token = [cookie && cookie.slice(name.length + 1), stored, data.token].find(valid);
  const attributes = location.protocol === "https:" ? "SameSite=None; Secure; Partitioned" : "SameSite=Lax";
  document.cookie = `${name}=${token}; Max-Age=${data.max_age}; Path=/; ${attributes}`;
  try { window.localStorage.setItem(name, token); } catch (e) { /* the cookie alone */ }
  if (token !== data.token) setStateValue("token", token);
}
"""
_handshake = st.components.v2.component("cnn_dash_owner_token", js=JS)


def owner_token() -> str:
    """This session's owner token: the browser's (cookie or handshake), or a fresh one the browser will keep."""
    state = st.session_state
    if TOKEN_KEY not in state:
        cookie = st.context.cookies.get(COOKIE)
        state[TOKEN_KEY] = cookie if valid_token(cookie) else secrets.token_urlsafe(32)
    return state[TOKEN_KEY]


def handshake() -> None:
    """Keep the token in the browser and adopt the one it already had (see the module's docstring)."""
    token = owner_token()
    result = _handshake(key=HANDSHAKE_KEY, data={"token": token, "cookie": COOKIE, "max_age": MAX_AGE_S},
                        default={"token": None}, height="content", on_token_change=lambda: None)
    reported = getattr(result, "token", None)
    if valid_token(reported) and reported != token:
        st.session_state[TOKEN_KEY] = reported


def session_id() -> str:
    """This browser session's id ('' outside a server)."""
    ctx = get_script_run_ctx()
    return ctx.session_id if ctx is not None else ""


def session_alive():
    """A callback telling whether this browser session is still connected (always True outside a server)."""
    sid = session_id()
    if not sid or not Runtime.exists():
        return lambda: True
    runtime = Runtime.instance()
    return lambda: runtime.is_active_session(sid)

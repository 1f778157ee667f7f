"""The process's runs by owner: each owner's registry, and any run by its id for a shared link.

An owner is a browser, known by the random token it keeps (cnn_dash.ui.owner). The store keeps only a hash of
the token, so reading the database gives no way to act as an owner. Every session of one owner (a reload, a
second tab) gets the same `RunRegistry`, so a run training when the page reloads is the same live object, and
its curves go on. An owner's registry is loaded from the store on first use and released from memory when no page
of that owner has been open for `release_after_s` and none of its runs trains (the store keeps them).
"""
from __future__ import annotations

import hashlib
import re
import threading
import time
from collections import OrderedDict

from cnn_dash.registry import RunRegistry
from cnn_dash.runs import Run
from cnn_dash.training import lookup_in
from cnn_dash.scheduler import Scheduler, scheduler
from cnn_dash.store import RunStore

TOKEN = re.compile(r"[A-Za-z0-9_-]{22,128}")  # an owner token: at least 128 random bits, URL-safe base64
RUN_ID = re.compile(r"[A-Za-z0-9_-]{22}")  # secrets.token_urlsafe(16): 128 random bits
RELEASE_AFTER_S = 600.0
SHARED_KEPT = 8  # runs opened by shared links, kept in memory (most recent first)


def owner_key(token: str) -> str:
    """What the store keeps of an owner token: its SHA-256, so the database never holds a token."""
    return hashlib.sha256(token.encode()).hexdigest()


def valid_token(token: object) -> bool:
    """True for a string shaped like an owner token (anything else is treated as no token)."""
    return isinstance(token, str) and TOKEN.fullmatch(token) is not None


def valid_run_id(run_id: object) -> bool:
    """True for a string shaped like a run id; a path, markup or anything longer is not."""
    return isinstance(run_id, str) and RUN_ID.fullmatch(run_id) is not None


class Library:
    """Owners' registries and shared runs over one store (None: runs live in memory only)."""

    def __init__(self, store: RunStore | None, scheduler_: Scheduler | None = None,
                 release_after_s: float = RELEASE_AFTER_S):
        self.store = store
        self._scheduler = scheduler_
        self.release_after_s = release_after_s
        self._owners: dict[str, RunRegistry] = {}
        self._shared: OrderedDict[str, Run] = OrderedDict()
        self._lock = threading.Lock()

    def registry(self, token: str) -> RunRegistry:
        """The registry of the owner holding `token` (a valid token: see `valid_token`), loaded on first use."""
        key = owner_key(token)
        self.release_idle()
        with self._lock:
            registry = self._owners.get(key)
            if registry is None:
                runs = [Run.restored(stored, self.store) for stored in self.store.runs_of(key)] if self.store else []
                registry = RunRegistry(self._scheduler, owner=key, store=self.store, runs=runs)
                for run in runs:
                    run.alive = registry.alive
                self._owners[key] = registry
            return registry

    def find(self, run_id: str) -> Run | None:
        """Any owner's run by its id, for a shared link; None for an id that is malformed or unknown."""
        if not valid_run_id(run_id):
            return None
        with self._lock:
            for registry in self._owners.values():
                try:
                    return registry.get(run_id)
                except KeyError:
                    continue
            if run_id in self._shared:
                self._shared.move_to_end(run_id)
                return self._shared[run_id]
        stored = self.store.get(run_id) if self.store else None
        if stored is None:
            return None
        run = Run.restored(stored, self.store)
        with self._lock:
            self._shared[run_id] = run
            while len(self._shared) > SHARED_KEPT:
                self._shared.popitem(last=False)
        return run

    def release_idle(self, now: float | None = None) -> None:
        """Drop from memory the registries of owners gone for `release_after_s` with nothing training."""
        now = time.monotonic() if now is None else now
        with self._lock:
            owners = list(self._owners.items())
        for key, registry in owners:
            if now - registry.last_seen > self.release_after_s and registry.active() is None \
                    and not registry.owner_alive():
                with self._lock:
                    self._owners.pop(key, None)


_library: Library | None = None
_library_lock = threading.Lock()


def library() -> Library:
    """The process-wide library over the store in CNN_DASH_STATE_DIR (opened on first use)."""
    global _library
    with _library_lock:
        if _library is None:
            store = RunStore()
            scheduler().lookup = lookup_in(store)  # a finished run's key is served from the store after a restart
            _library = Library(store)
        return _library

"""The run key in the store: after a restart (a fresh scheduler and store on the same folder) a request with a
finished run's key gets that run at once, with its records and weights; and a store file written before keys were
kept is upgraded in place."""
from __future__ import annotations

import sqlite3

from cnn_dash import codec
from cnn_dash.library import Library, owner_key
from cnn_dash.records import Status
from cnn_dash.registry import RunRegistry
from cnn_dash.training import lookup_in
from cnn_dash.scheduler import Scheduler
from cnn_dash.store import FILE_NAME, VERSION, RunStore, StoredRun
from tests.conftest import wait_for_run
from tests.test_identical_runs import numbers, same_weights
from tests.test_runs import PAIR, TINY

TOKEN, OTHER = "k" * 43, "l" * 43
# The runs table as the first store files have it (schema version 0): no key column.
VERSION_0 = """
CREATE TABLE runs (
    id TEXT PRIMARY KEY, owner TEXT NOT NULL, name TEXT NOT NULL,
    settings TEXT NOT NULL, models TEXT NOT NULL, sweep TEXT,
    status TEXT NOT NULL, error TEXT,
    created_at REAL NOT NULL, started_at REAL, ended_at REAL, updated_at REAL NOT NULL,
    bytes INTEGER NOT NULL DEFAULT 0, has_weights INTEGER NOT NULL DEFAULT 0);
CREATE INDEX runs_by_owner ON runs (owner, created_at);
CREATE TABLE progress (run_id TEXT NOT NULL, seq INTEGER NOT NULL, record TEXT NOT NULL,
    PRIMARY KEY (run_id, seq)) WITHOUT ROWID;
CREATE TABLE weights (run_id TEXT PRIMARY KEY, data BLOB NOT NULL);
CREATE TABLE evictions (run_id TEXT NOT NULL, owner TEXT NOT NULL, name TEXT NOT NULL,
    why TEXT NOT NULL, at REAL NOT NULL);
"""


def server(folder) -> Library:
    """A server process: its store on `folder`, its scheduler serving finished keys from that store."""
    store = RunStore(folder)
    return Library(store, Scheduler(max_running=1, cores=2, lookup=lookup_in(store)))


def test_after_a_restart_a_finished_runs_key_gets_that_run_at_once(tmp_path):
    first = wait_for_run(server(tmp_path).registry(TOKEN).start(TINY, PAIR))
    assert first.status == Status.FINISHED and first.training.key
    assert first.store.finished(first.training.key).id == first.id

    restarted = server(tmp_path)  # nothing of the first process is left but the file
    run = restarted.registry(OTHER).start(TINY, PAIR)
    assert run.reused and run.status == Status.FINISHED and run.training is not first.training
    assert run.identical_note.startswith("Identical settings and seed: the same numbers as an earlier run")
    assert restarted.registry(OTHER).scheduler.counts() == (0, 0)  # nothing queued, nothing trained
    assert numbers(run) == numbers(first) and same_weights(run, first)

    (kept,) = server(tmp_path).registry(OTHER).runs()  # the served run is stored as its visitor's own, weights too
    assert kept.id == run.id and kept.training.key == first.training.key
    assert numbers(kept) == numbers(first) and same_weights(kept, first)


def test_only_a_finished_run_with_weights_is_served(tmp_path):
    store = RunStore(tmp_path)
    sched = Scheduler(max_running=1, cores=2, lookup=lookup_in(store))
    registry = RunRegistry(sched, owner=owner_key(TOKEN), store=store)
    run = registry.start(TINY, PAIR)
    registry.stop(run.id)  # stopped, perhaps before its first step: never served as the finished run
    wait_for_run(run)
    assert store.finished(run.training.key) is None and store.finished("") is None
    again = RunRegistry(Scheduler(max_running=1, cores=2, lookup=lookup_in(store))).start(TINY, PAIR)
    assert not again.identical
    again.stop()
    wait_for_run(again)


def test_a_store_file_without_keys_is_upgraded_and_its_runs_kept(tmp_path):
    old = sqlite3.connect(tmp_path / FILE_NAME)  # a file as version 0 wrote it, with one finished run
    old.executescript(VERSION_0)
    old.execute("INSERT INTO runs (id, owner, name, settings, models, sweep, status, error, created_at, updated_at) "
                "VALUES (?,?,?,?,?,?,?,?,?,?)",
                ("r" * 22, "o", "Run 1", codec.dumps(TINY), codec.dumps(PAIR), None, "finished", None, 1.0, 1.0))
    old.commit()
    old.close()

    store = RunStore(tmp_path)
    assert store.available and store.problem is None
    (back,) = store.runs_of("o")
    assert back.name == "Run 1" and back.key == "" and back.settings == TINY
    db = sqlite3.connect(tmp_path / FILE_NAME)
    assert db.execute("PRAGMA user_version").fetchone()[0] == VERSION
    assert "key" in {row[1] for row in db.execute("PRAGMA table_info(runs)")}
    db.close()
    assert store.create(StoredRun("s" * 22, "o", "Run 2", TINY, PAIR, None, "finished", None, 2.0, key="abc"))
    store.save_weights("s" * 22, b"weights")
    assert store.finished("abc").id == "s" * 22 and store.finished("") is None
    assert RunStore(tmp_path).available  # opening an upgraded file again changes nothing


def test_a_file_from_a_newer_version_is_left_alone_and_runs_are_not_saved(tmp_path):
    db = sqlite3.connect(tmp_path / FILE_NAME)
    db.execute(f"PRAGMA user_version = {VERSION + 1}")
    db.close()
    store = RunStore(tmp_path)
    assert not store.available and "newer cnn-dash" in store.problem
    assert (tmp_path / FILE_NAME).exists() and not list(tmp_path.glob("*.corrupt-*"))

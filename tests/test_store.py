"""The run store: a run's round trip, a damaged file, the size cap and age limit, concurrent writers, a folder that
cannot be written; and the library that gives each owner its runs and finds a shared one by id."""
from __future__ import annotations

import sqlite3
import threading
import time
from dataclasses import replace

import pytest
import torch

from cnn_dash.data import normalize
from cnn_dash.library import Library, owner_key, valid_run_id, valid_token
from cnn_dash.records import Progress, Status
from cnn_dash.registry import RunRegistry
from cnn_dash.runs import Run
from cnn_dash.store import FILE_NAME, RunStore, StoredRun, default_folder
from tests.conftest import wait_for_run
from tests.test_train import PAIR, SMALL

TINY = replace(SMALL, epochs=1, evals_per_epoch=1)
TOKEN, OTHER = "a" * 43, "b" * 43


def record(step: int, label: str = "CNN", status: Status = Status.TRAINING) -> Progress:
    return Progress(label, step, 100, step / 10, 1.0 / step, 0.5, 1000.0, step / 7, 0.9, 0.8, status=status)


def stored(run_id: str, owner: str = "o", created_at: float = 1.0, status: str = "finished") -> StoredRun:
    return StoredRun(run_id, owner, f"Run {run_id}", TINY, PAIR, None, status, None, created_at)


def test_the_default_folder_is_per_user_and_the_env_var_wins(tmp_path):
    assert default_folder({"CNN_DASH_STATE_DIR": str(tmp_path)}) == tmp_path
    assert default_folder({"XDG_STATE_HOME": "/x/state"}).as_posix() == "/x/state/cnn-dash"
    assert default_folder({}).as_posix().endswith(".local/state/cnn-dash")


def test_a_finished_run_comes_back_equal_and_predicts_the_same(tmp_path, scheduler):
    store = RunStore(tmp_path)
    lib = Library(store, scheduler)
    run = wait_for_run(lib.registry(TOKEN).start(TINY, PAIR))
    assert run.status == "finished" and run.id in {r.id for r in store.runs_of(owner_key(TOKEN))}

    again = Library(RunStore(tmp_path), scheduler).registry(TOKEN)  # a restarted server: a new process's library
    (back,) = again.runs()
    assert (back.id, back.name, back.status, back.settings, back.models) == \
        (run.id, run.name, run.status, run.settings, run.models)
    assert back.history == run.history and back.results == run.results  # every record, every number
    assert back.created_at == run.created_at and back.ended_at == run.ended_at
    assert not back.modules and back.has_weights and again.trained() == [back]  # weights read when needed
    images, _ = back.test_set()
    x = normalize(images[:100], back.stats)
    before, after = run.trained_models(), back.trained_models()
    with torch.inference_mode():
        for label in before:
            assert torch.equal(before[label](x), after[label](x))


def test_the_owner_is_kept_as_a_hash_and_another_owner_sees_nothing(tmp_path, scheduler):
    lib = Library(RunStore(tmp_path), scheduler)
    run = wait_for_run(lib.registry(TOKEN).start(TINY, PAIR))
    assert lib.registry(OTHER).runs() == [] and lib.registry(TOKEN).runs() == [run]
    assert TOKEN not in (tmp_path / FILE_NAME).read_bytes().decode("latin-1")
    assert lib.find(run.id) is run  # a shared link reaches the run, and only by its exact id
    assert lib.find(run.id[:-1] + ("A" if run.id[-1] != "A" else "B")) is None


@pytest.mark.parametrize("bad", ["../../etc/passwd", "<script>alert(1)</script>", "", "a" * 23, "a" * 21,
                                 "abc def ghi jkl mno pqr", None, 42])
def test_malformed_run_ids_are_refused_before_any_lookup(bad):
    assert not valid_run_id(bad) and Library(None).find(bad) is None


@pytest.mark.parametrize("bad", ["../../etc/passwd", "<script>", "", "x" * 21, "x" * 129, "é" * 43, None])
def test_a_malformed_owner_token_is_no_token(bad):
    assert not valid_token(bad) and valid_token(TOKEN)


def test_a_run_training_when_the_server_stopped_comes_back_interrupted_at_its_last_step(tmp_path):
    store = RunStore(tmp_path)
    owner = owner_key(TOKEN)
    store.create(stored("r" * 22, owner, status="running"))
    store.update("r" * 22, status="running", error=None, started_at=2.0, ended_at=None,
                 records=enumerate([record(1), record(5), record(9)]))
    (run,) = Library(RunStore(tmp_path)).registry(TOKEN).runs()
    assert run.status == Status.INTERRUPTED and run.interrupted_at == 9 and [p.step for p in run.history] == [1, 5, 9]
    assert not run.active and not run.evaluable
    assert RunStore(tmp_path).get("r" * 22).status == "interrupted"  # and so it stays


def test_records_reach_the_store_while_a_run_trains(tmp_path, scheduler, monkeypatch):
    monkeypatch.setattr("cnn_dash.runs.FLUSH_S", 0.0)  # every record at once: the test need not wait seconds
    store = RunStore(tmp_path)
    run = wait_for_run(RunRegistry(scheduler, owner="o", store=store).start(TINY, PAIR))
    assert store.history(run.id) == run.history and store.get(run.id).status == "finished"


def test_a_damaged_file_is_moved_aside_and_a_fresh_store_started(tmp_path):
    (tmp_path / FILE_NAME).write_bytes(b"this is not a database" * 100)
    store = RunStore(tmp_path)
    assert store.available and store.runs_of("o") == [] and store.create(stored("x" * 22))
    assert "moved aside" in store.notices[0]
    assert [p.name.startswith(f"{FILE_NAME}.corrupt-") for p in tmp_path.iterdir()].count(True) == 1


def test_a_truncated_file_is_moved_aside_too(tmp_path):
    store = RunStore(tmp_path)
    for i in range(30):
        store.create(stored(f"{i:022d}", created_at=float(i)))
        store.save_weights(f"{i:022d}", bytes(20_000))
    store.close()  # then cut the file in half
    path = tmp_path / FILE_NAME
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    (tmp_path / f"{FILE_NAME}-wal").unlink(missing_ok=True)
    fresh = RunStore(tmp_path)
    assert fresh.available and fresh.notices and fresh.runs_of("o") == []


def test_the_size_cap_removes_the_oldest_finished_runs_and_tells_their_owners(tmp_path):
    store = RunStore(tmp_path)
    for i, (owner, status) in enumerate([("a", "finished"), ("b", "running"), ("a", "stopped"), ("b", "finished"),
                                         ("a", "finished")]):
        store.create(stored(f"{i:022d}", owner, created_at=float(i), status=status))
        store.save_weights(f"{i:022d}", bytes(1000))
    gone = store.evict(max_bytes=3000, max_age_s=1e12, keep=[f"{0:022d}"], now=10.0)
    # run 0 is kept on request and run 1 trains: runs 2 and 3 go, oldest first, until 3,000 bytes are left
    assert gone == [f"{2:022d}", f"{3:022d}"] and store.size() == 3000
    assert store.take_evictions("a") == {f"{2:022d}": f"Run {2:022d} (the oldest run, removed to keep the store "
                                                      f"under 0 MB)"}
    assert list(store.take_evictions("b")) == [f"{3:022d}"] and store.take_evictions("b") == {}  # told once
    assert store.weights(f"{2:022d}") is None and store.history(f"{2:022d}") == []


def test_runs_older_than_the_age_limit_are_removed(tmp_path):
    store = RunStore(tmp_path)
    store.create(stored("o" * 22, created_at=time.time() - 40 * 86400))
    store.create(stored("n" * 22, created_at=time.time()))
    assert store.evict(max_bytes=10**9, max_age_s=30 * 86400) == ["o" * 22]
    assert "older than 30 days" in store.take_evictions("o")["o" * 22]


def test_an_owner_with_a_registry_in_memory_forgets_its_evicted_runs(tmp_path, scheduler):
    lib = Library(RunStore(tmp_path), scheduler)
    registry = lib.registry(TOKEN)
    run = wait_for_run(registry.start(TINY, PAIR))
    lib.store.evict(max_bytes=0, max_age_s=1e12)
    assert registry.evictions() == [f"{run.name} (the oldest run, removed to keep the store under 0 MB)"]
    assert registry.runs() == []


def test_several_training_threads_write_at_once_and_lose_nothing(tmp_path):
    store = RunStore(tmp_path)
    ids = [f"{i:022d}" for i in range(8)]
    for run_id in ids:
        store.create(stored(run_id))

    def train(run_id: str) -> None:
        for start in range(0, 200, 10):  # 20 batched flushes of 10 records
            store.update(run_id, status="running", error=None, started_at=1.0, ended_at=None,
                         records=((i, record(i + 1)) for i in range(start, start + 10)))
        store.save_weights(run_id, run_id.encode() * 100)

    threads = [threading.Thread(target=train, args=(run_id,)) for run_id in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert store.available and store.problem is None
    for run_id in ids:
        assert [p.step for p in store.history(run_id)] == list(range(1, 201))
        assert store.weights(run_id) == run_id.encode() * 100


def test_a_folder_that_cannot_be_used_keeps_training_in_memory(tmp_path, scheduler):
    blocker = tmp_path / "file"
    blocker.write_text("a file where the folder should be")
    store = RunStore(blocker / "state")
    assert not store.available and "cannot be used" in store.problem
    lib = Library(store, scheduler)
    run = wait_for_run(lib.registry(TOKEN).start(TINY, PAIR))
    assert run.status == "finished" and lib.registry(TOKEN).trained() == [run]  # a reload in this process: kept


@pytest.mark.parametrize("error, words", [("attempt to write a readonly database", "is read-only"),
                                          ("database or disk is full", "is full"),
                                          ("database is locked", "is locked by another program")])
def test_a_store_that_fails_mid_run_turns_off_and_the_run_finishes(tmp_path, scheduler, monkeypatch, error, words):
    store = RunStore(tmp_path)
    registry = RunRegistry(scheduler, owner="o", store=store)

    def fail(*args, **kwargs):
        raise sqlite3.OperationalError(error)

    monkeypatch.setattr(store, "save_weights", lambda *a: store._do(fail, None))
    run = wait_for_run(registry.start(TINY, PAIR))
    assert run.status == "finished" and run.evaluable and not store.available and words in store.problem
    assert store.runs_of("o") == [] and store.get(run.id) is None  # off: nothing more is read or written


def test_a_new_run_takes_a_number_no_kept_run_uses(tmp_path, scheduler):
    store = RunStore(tmp_path)
    for run_id, name in (("1" * 22, "Run 2"), ("2" * 22, "Run 3 · sweep 1, 100 images")):  # Run 1 was deleted
        store.create(replace(stored(run_id, owner_key(TOKEN)), name=name))
    run = wait_for_run(Library(store, scheduler).registry(TOKEN).start(TINY, PAIR))
    assert run.name == "Run 4"


def test_an_owner_gone_for_a_while_leaves_memory_and_comes_back_from_the_store(tmp_path, scheduler):
    lib = Library(RunStore(tmp_path), scheduler, release_after_s=600)
    registry = lib.registry(TOKEN)
    tab = {"open": True}
    registry.seen("tab", lambda: tab["open"])
    run = wait_for_run(registry.start(TINY, PAIR))
    lib.release_idle(now=time.monotonic() + 601)
    assert lib.registry(TOKEN) is registry  # a page of it is still open
    tab["open"] = False
    lib.release_idle(now=time.monotonic() + 601)
    back = lib.registry(TOKEN)
    assert back is not registry and [r.id for r in back.runs()] == [run.id] and back.runs()[0] is not run

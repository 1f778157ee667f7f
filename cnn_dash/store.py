"""The run store: every run's settings, models, progress records, status and final weights in one SQLite file.

Plain SQL through the standard library's `sqlite3`, behind this one module, so that a shared database is a change
here and nowhere else. The file lives in `CNN_DASH_STATE_DIR` (default `$XDG_STATE_HOME/cnn-dash`, else
`~/.local/state/cnn-dash`). One lock serialises this process's writers (training threads, pages) and WAL mode lets
other processes read while one writes. Torch-free: weights come and go as bytes.

The store never raises to its callers. A corrupted or truncated file is moved aside and a fresh one started
(`notices` says so); a folder that cannot be written (read-only, full disk, a database locked by another program)
turns the store off for this process (`problem` says why): training goes on in memory.
"""
from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, TypeVar

from cnn_dash import codec
from cnn_dash.records import Progress, Status, SweepTag
from cnn_dash.specs import ModelConfig, TrainSettings

log = logging.getLogger(__name__)
T = TypeVar("T")
FILE_NAME = "runs.sqlite3"
STATE_VAR = "CNN_DASH_STATE_DIR"
ACTIVE = ("queued", "running")  # a run in these states is being trained by some process
VERSION = 1  # PRAGMA user_version of the file this code writes (0: the first files, without runs.key)
SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY, owner TEXT NOT NULL, name TEXT NOT NULL,
    settings TEXT NOT NULL, models TEXT NOT NULL, sweep TEXT,
    status TEXT NOT NULL, error TEXT,
    created_at REAL NOT NULL, started_at REAL, ended_at REAL, updated_at REAL NOT NULL,
    bytes INTEGER NOT NULL DEFAULT 0, has_weights INTEGER NOT NULL DEFAULT 0, key TEXT);
CREATE INDEX IF NOT EXISTS runs_by_owner ON runs (owner, created_at);
CREATE TABLE IF NOT EXISTS progress (run_id TEXT NOT NULL, seq INTEGER NOT NULL, record TEXT NOT NULL,
    PRIMARY KEY (run_id, seq)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS weights (run_id TEXT PRIMARY KEY, data BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS evictions (run_id TEXT NOT NULL, owner TEXT NOT NULL, name TEXT NOT NULL,
    why TEXT NOT NULL, at REAL NOT NULL);
"""
# Each step brings a file of version i (the index) to i + 1; a file's older runs keep NULL where a column is new.
MIGRATIONS = ("ALTER TABLE runs ADD COLUMN key TEXT",)
KEY_INDEX = "CREATE INDEX IF NOT EXISTS runs_by_key ON runs (key, status)"
CORRUPT = ("not a database", "malformed", "corrupt")  # sqlite's words for a damaged file


def default_folder(env: dict[str, str] | None = None) -> Path:
    """Where the store lives: CNN_DASH_STATE_DIR, else $XDG_STATE_HOME/cnn-dash, else ~/.local/state/cnn-dash."""
    env = os.environ if env is None else env
    if env.get(STATE_VAR):
        return Path(env[STATE_VAR]).expanduser()
    base = Path(env["XDG_STATE_HOME"]) if env.get("XDG_STATE_HOME") else Path.home() / ".local" / "state"
    return base / "cnn-dash"


@dataclass(frozen=True)
class StoredRun:
    """A run as the store keeps it (its history and weights are read separately)."""

    id: str
    owner: str  # a hash of the owner's token, never the token
    name: str
    settings: TrainSettings
    models: tuple[ModelConfig, ...]
    sweep: SweepTag | None
    status: str
    error: str | None
    created_at: float
    started_at: float | None = None
    ended_at: float | None = None
    updated_at: float = 0.0
    has_weights: bool = False
    key: str = ""  # what determines its numbers (cnn_dash.run_key); "" for a run never to be served again


def _problem(exc: BaseException, folder: Path) -> str:
    """Why the store cannot write, in words a teacher can act on."""
    text = str(exc).lower()
    if "readonly" in text or "read-only" in text or isinstance(exc, PermissionError) or \
            (folder.is_dir() and not os.access(folder, os.W_OK)):
        return f"the folder {folder} is read-only"
    if "full" in text or "no space" in text:
        return f"the disk holding {folder} is full"
    if "locked" in text or "busy" in text:
        return f"the run database in {folder} is locked by another program"
    return f"the run database in {folder} cannot be used ({exc})"


class RunStore:
    """One SQLite file of runs; every method is safe from any thread and never raises."""

    def __init__(self, folder: Path | str | None = None, timeout_s: float = 5.0):
        self.folder = Path(folder) if folder is not None else default_folder()
        self.path = self.folder / FILE_NAME
        self.problem: str | None = None  # why runs are not being stored; None while they are
        self.notices: list[str] = []  # what happened to the file at start (moved aside), for the log and page
        self._timeout = timeout_s
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        try:
            self._db = self._open()
        except sqlite3.DatabaseError as exc:
            if any(word in str(exc).lower() for word in CORRUPT):
                self._db = self._move_aside_and_open(exc)
            else:
                self._turn_off(exc)
        except OSError as exc:
            self._turn_off(exc)

    def close(self) -> None:
        """Close the file (the store is off afterwards)."""
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    @property
    def available(self) -> bool:
        """True while runs are being stored."""
        return self._db is not None

    def _open(self) -> sqlite3.Connection:
        self.folder.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, timeout=self._timeout, check_same_thread=False, isolation_level=None)
        try:
            db.execute("PRAGMA auto_vacuum = INCREMENTAL")  # before the first table: deleted runs give space back
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = NORMAL")  # WAL: a crash loses at most the last commits, never the file
            if db.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                raise sqlite3.DatabaseError("database disk image is malformed (quick_check)")
            _upgrade(db)
        except BaseException:
            db.close()
            raise
        return db

    def _move_aside_and_open(self, exc: BaseException) -> sqlite3.Connection | None:
        aside = self.path.with_name(f"{FILE_NAME}.corrupt-{time.strftime('%Y%m%d-%H%M%S')}")
        try:
            self.path.replace(aside)
            for suffix in ("-wal", "-shm"):
                Path(f"{self.path}{suffix}").unlink(missing_ok=True)
            db = self._open()
        except (OSError, sqlite3.Error) as again:
            self._turn_off(again)
            return None
        self.notices.append(f"The run database was damaged ({exc}); it was moved aside to {aside.name} and a fresh "
                            f"one started: earlier runs are not listed.")
        log.warning(self.notices[-1])
        return db

    def _turn_off(self, exc: BaseException) -> None:
        self.problem = _problem(exc, self.folder)
        log.warning("cnn-dash run store off: %s", self.problem)
        if self._db is not None:
            try:
                self._db.close()
            except sqlite3.Error:
                pass
        self._db = None

    def _do(self, work: Callable[[sqlite3.Connection], T], default: T, write: bool = True) -> T:
        """Run `work` in one transaction under the lock (a writer's from its start, so that another process
        cannot make it fail half-way); on failure turn the store off and return `default`."""
        with self._lock:
            if self._db is None:
                return default
            try:
                self._db.execute("BEGIN IMMEDIATE" if write else "BEGIN")
                try:
                    out = work(self._db)
                    self._db.execute("COMMIT")
                except BaseException:
                    if self._db.in_transaction:
                        self._db.execute("ROLLBACK")
                    raise
                return out
            except (sqlite3.Error, OSError) as exc:
                self._turn_off(exc)
                return default

    # ---- writing ------------------------------------------------------------------------------------------
    def create(self, run: StoredRun) -> bool:
        """Keep a new run; False when the store is off."""
        def work(db):
            db.execute("INSERT OR REPLACE INTO runs (id, owner, name, settings, models, sweep, status, error, "
                       "created_at, started_at, ended_at, updated_at, key) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                       (run.id, run.owner, run.name, codec.dumps(run.settings), codec.dumps(run.models),
                        codec.dumps(run.sweep) if run.sweep else None, run.status, run.error, run.created_at,
                        run.started_at, run.ended_at, time.time(), run.key or None))
            return True
        return self._do(work, False)

    def update(self, run_id: str, *, status: str, error: str | None, started_at: float | None,
               ended_at: float | None, records: Iterable[tuple[int, Progress]] = ()) -> None:
        """A run's status and times, and its new progress records as (index, record) pairs, in one commit."""
        rows = [(run_id, seq, codec.dumps(p)) for seq, p in records]

        def work(db):
            db.executemany("INSERT OR REPLACE INTO progress (run_id, seq, record) VALUES (?,?,?)", rows)
            db.execute("UPDATE runs SET status=?, error=?, started_at=?, ended_at=?, updated_at=?, "
                       "bytes = bytes + ? WHERE id=?", (status, error, started_at, ended_at, time.time(),
                                                       sum(len(r[2]) for r in rows), run_id))
        self._do(work, None)

    def save_weights(self, run_id: str, data: bytes) -> None:
        """A run's final weights (torch.save bytes)."""
        def work(db):
            db.execute("INSERT OR REPLACE INTO weights (run_id, data) VALUES (?,?)", (run_id, data))
            db.execute("UPDATE runs SET has_weights=1, bytes = bytes + ? WHERE id=?", (len(data), run_id))
        self._do(work, None)

    def delete(self, run_id: str) -> None:
        """Forget a run: its row, records and weights."""
        self._do(lambda db: _delete(db, [run_id]), None)

    def evict(self, max_bytes: int, max_age_s: float, keep: Iterable[str] = (), now: float | None = None) -> list[str]:
        """Remove runs older than `max_age_s`, then the oldest finished ones until the store holds at most
        `max_bytes` (runs in training and those in `keep` stay); each owner is told which (`take_evictions`).
        Returns the ids removed."""
        now = time.time() if now is None else now
        keep = set(keep)

        def work(db):
            rows = db.execute("SELECT id, owner, name, created_at, bytes, status FROM runs "
                              "ORDER BY created_at").fetchall()
            total, gone = sum(r[4] for r in rows), []
            for run_id, owner, name, created, size, status in rows:
                if run_id in keep or status in ACTIVE:
                    continue
                if created < now - max_age_s:
                    why = f"older than {max_age_s / 86400:g} days"
                elif total > max_bytes:
                    why = f"the oldest run, removed to keep the store under {max_bytes / 2**20:,.0f} MB"
                else:
                    continue
                gone.append(run_id)
                total -= size
                db.execute("INSERT INTO evictions (run_id, owner, name, why, at) VALUES (?,?,?,?,?)",
                           (run_id, owner, name, why, now))
            _delete(db, gone)
            return gone
        gone = self._do(work, [])
        if gone:
            self._do(lambda db: db.execute("PRAGMA incremental_vacuum").fetchall(), None)
        return gone

    # ---- reading ------------------------------------------------------------------------------------------
    def runs_of(self, owner: str) -> list[StoredRun]:
        """An owner's runs, oldest first; a row that cannot be read is skipped."""
        rows = self._do(lambda db: db.execute(f"SELECT {_COLUMNS} FROM runs WHERE owner=? ORDER BY created_at",
                                              (owner,)).fetchall(), [], write=False)
        return [run for run in map(_row, rows) if run is not None]

    def get(self, run_id: str) -> StoredRun | None:
        """The run with that id, or None."""
        row = self._do(lambda db: db.execute(f"SELECT {_COLUMNS} FROM runs WHERE id=?", (run_id,)).fetchone(), None, write=False)
        return _row(row) if row else None

    def finished(self, key: str) -> StoredRun | None:
        """The latest finished run with this key and its weights (any owner's: the numbers are the same for all), or
        None; an empty key is never found."""
        if not key:
            return None
        rows = self._do(lambda db: db.execute(f"SELECT {_COLUMNS} FROM runs WHERE key=? AND status='finished' AND "
                                              "has_weights=1 ORDER BY ended_at DESC LIMIT 5", (key,)).fetchall(),
                        [], write=False)
        return next((run for run in map(_row, rows) if run is not None), None)

    def history(self, run_id: str) -> list[Progress]:
        """A run's progress records in order."""
        rows = self._do(lambda db: db.execute("SELECT record FROM progress WHERE run_id=? ORDER BY seq",
                                              (run_id,)).fetchall(), [], write=False)
        try:
            return [codec.loads(r[0], Progress) for r in rows]
        except (ValueError, TypeError):
            return []

    def weights(self, run_id: str) -> bytes | None:
        """A run's final weights as stored, or None."""
        row = self._do(lambda db: db.execute("SELECT data FROM weights WHERE run_id=?", (run_id,)).fetchone(), None, write=False)
        return bytes(row[0]) if row else None

    def take_evictions(self, owner: str) -> dict[str, str]:
        """Run id -> 'Run 3 (older than 30 days)' for each of this owner's runs removed since the last call."""
        def work(db):
            rows = db.execute("SELECT run_id, name, why FROM evictions WHERE owner=? ORDER BY at", (owner,)).fetchall()
            if rows:
                db.execute("DELETE FROM evictions WHERE owner=?", (owner,))
            return {run_id: f"{name} ({why})" for run_id, name, why in rows}
        if not self._do(lambda db: db.execute("SELECT 1 FROM evictions WHERE owner=? LIMIT 1", (owner,)).fetchone(),
                        None, write=False):
            return {}  # the usual answer, read without taking the writer's lock
        return self._do(work, {})

    def size(self) -> int:
        """Bytes of records and weights held."""
        return self._do(lambda db: db.execute("SELECT COALESCE(SUM(bytes), 0) FROM runs").fetchone()[0], 0, write=False)


_COLUMNS = ("id, owner, name, settings, models, sweep, status, error, created_at, started_at, ended_at, "
            "updated_at, has_weights, key")


def _upgrade(db: sqlite3.Connection) -> None:
    """Create the tables, or bring an older file to VERSION, in one transaction (a crash half-way changes nothing)."""
    db.execute("BEGIN IMMEDIATE")  # before reading the version: two servers starting at once upgrade it once
    try:
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version > VERSION:
            raise sqlite3.DatabaseError(f"it was written by a newer cnn-dash (schema version {version})")
        fresh = db.execute("SELECT 1 FROM sqlite_master WHERE name='runs'").fetchone() is None
        for statement in filter(str.strip, SCHEMA.split(";")):
            db.execute(statement)  # IF NOT EXISTS: on an older file, only what it lacks
        for statement in () if fresh else MIGRATIONS[version:]:
            db.execute(statement)
        db.execute(KEY_INDEX)
        db.execute(f"PRAGMA user_version = {VERSION}")
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise


def _row(row: tuple[Any, ...]) -> StoredRun | None:
    try:
        run_id, owner, name, settings, models, sweep, *rest, has_weights, key = row
        Status(rest[0])  # a status this version knows
        return StoredRun(run_id, owner, name, codec.loads(settings, TrainSettings),
                         codec.loads(models, tuple[ModelConfig, ...]),
                         codec.loads(sweep, SweepTag) if sweep else None, *rest, has_weights=bool(has_weights),
                         key=key or "")
    except (ValueError, TypeError):  # written by another version of the app: not shown rather than a crash
        return None


def _delete(db: sqlite3.Connection, ids: list[str]) -> None:
    for table, column in (("progress", "run_id"), ("weights", "run_id"), ("runs", "id")):
        db.executemany(f"DELETE FROM {table} WHERE {column}=?", [(i,) for i in ids])

"""The sandbox's state: one SQLite file shared by every institution, keyed by slug.

Writes go through one connection guarded by a re-entrant lock, so handler threads and job
threads never interleave half-written changes, and SQLite's own file lock covers a second
process (`sandbox serve` next to a `--sandbox` run). Reads outside a transaction use a small
pool of extra connections: in WAL mode they see the last commit and run alongside the writer,
so a slow census page does not hold up other requests. Slow things (latency knobs, job pacing)
never happen while a connection is held.
"""

from __future__ import annotations

import hashlib
import json
import os
import queue
import sqlite3
import sys
import threading
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar, cast

if sys.platform != "win32":
    import fcntl

DB_NAME = "alma.sqlite3"

SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE institutions (
    slug TEXT PRIMARY KEY, alma_code TEXT NOT NULL, name TEXT NOT NULL, api_key TEXT NOT NULL
);
CREATE TABLE groups (
    inst TEXT NOT NULL, code TEXT NOT NULL, description TEXT NOT NULL,
    enabled INTEGER NOT NULL, is_default INTEGER NOT NULL, position INTEGER NOT NULL,
    update_date TEXT NOT NULL, PRIMARY KEY (inst, code)
);
CREATE TABLE deleted_groups (
    inst TEXT NOT NULL, code TEXT NOT NULL, deleted_at TEXT NOT NULL, PRIMARY KEY (inst, code)
);
CREATE TABLE mapping_rows (
    inst TEXT NOT NULL, table_name TEXT NOT NULL, position INTEGER NOT NULL, row TEXT NOT NULL
);
CREATE INDEX mapping_rows_by_table ON mapping_rows (inst, table_name, position);
CREATE TABLE users (
    inst TEXT NOT NULL, primary_id TEXT NOT NULL, user_group TEXT NOT NULL,
    last_name TEXT NOT NULL, first_name TEXT NOT NULL, words TEXT NOT NULL,
    loans INTEGER NOT NULL, requests INTEGER NOT NULL, fees REAL NOT NULL,
    manual TEXT NOT NULL, record BLOB NOT NULL, PRIMARY KEY (inst, primary_id)
);
CREATE INDEX users_by_group ON users (inst, user_group);
CREATE INDEX users_by_name ON users (inst, last_name, first_name, primary_id);
CREATE TABLE identifiers (
    inst TEXT NOT NULL, value TEXT NOT NULL, primary_id TEXT NOT NULL, PRIMARY KEY (inst, value)
) WITHOUT ROWID;
CREATE TABLE sets (
    inst TEXT NOT NULL, id TEXT NOT NULL, name TEXT NOT NULL, record TEXT NOT NULL,
    PRIMARY KEY (inst, id)
);
CREATE TABLE set_members (
    inst TEXT NOT NULL, set_id TEXT NOT NULL, position INTEGER NOT NULL, member TEXT NOT NULL,
    PRIMARY KEY (inst, set_id, member)
);
CREATE TABLE jobs (
    inst TEXT NOT NULL, id TEXT NOT NULL, position INTEGER NOT NULL, record TEXT NOT NULL,
    PRIMARY KEY (inst, id)
);
CREATE TABLE job_instances (
    inst TEXT NOT NULL, id TEXT NOT NULL, job_id TEXT NOT NULL, submit_time TEXT NOT NULL,
    status TEXT NOT NULL, api_started INTEGER NOT NULL, params TEXT NOT NULL,
    record TEXT NOT NULL, PRIMARY KEY (inst, id)
);
CREATE INDEX job_instances_by_job ON job_instances (inst, job_id, submit_time);
CREATE TABLE job_events (
    inst TEXT NOT NULL, instance_id TEXT NOT NULL, seq INTEGER NOT NULL, record TEXT NOT NULL,
    PRIMARY KEY (inst, instance_id, seq)
);
CREATE TABLE profiles (
    inst TEXT NOT NULL, id TEXT NOT NULL, record TEXT NOT NULL, PRIMARY KEY (inst, id)
);
CREATE TABLE analytics_rows (
    inst TEXT NOT NULL, path TEXT NOT NULL, seq INTEGER NOT NULL, columns TEXT NOT NULL,
    PRIMARY KEY (inst, path, seq)
);
CREATE TABLE quota (inst TEXT NOT NULL, day TEXT NOT NULL, used INTEGER NOT NULL,
    PRIMARY KEY (inst, day));
CREATE TABLE sequences (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""

# How many times each user's group changed since the database was made, whoever changed it
# (a PUT, the bulk job, a SIS sync): tests prove with it that nobody was moved twice. Every
# writer replaces the whole `users` row, so the count is kept by a trigger on that insert.
# IF NOT EXISTS: a database made before the counter existed gets it when next opened.
GROUP_CHANGES = """
CREATE TABLE IF NOT EXISTS group_changes (
    inst TEXT NOT NULL, primary_id TEXT NOT NULL, changes INTEGER NOT NULL,
    PRIMARY KEY (inst, primary_id)
);
CREATE TRIGGER IF NOT EXISTS count_group_changes BEFORE INSERT ON users
WHEN EXISTS (
    SELECT 1 FROM users
    WHERE inst = NEW.inst AND primary_id = NEW.primary_id AND user_group <> NEW.user_group
)
BEGIN
    INSERT INTO group_changes VALUES (NEW.inst, NEW.primary_id, 1)
    ON CONFLICT (inst, primary_id) DO UPDATE SET changes = changes + 1;
END;
"""


@contextmanager
def state_lock(state_dir: Path) -> Iterator[None]:
    """Hold an exclusive lock on the state folder while the database is made or extended.

    Two first `--sandbox` runs at once would both find no database and seed it together (one
    deleting the file under the other: "database is locked", "disk I/O error"). Seeding takes
    this lock and checks again inside it, so the second run waits and then uses the first
    run's database. The lock is on the folder itself (no lock file), released on close.
    """
    state_dir.mkdir(parents=True, exist_ok=True)
    if sys.platform == "win32":  # pragma: no cover - no flock there
        yield
        return
    descriptor = os.open(state_dir, os.O_RDONLY)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)


def dumps(value: Any) -> str:
    """Compact JSON, the on-disk form of every stored record."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


T = TypeVar("T")
# Results kept by Store.derived (search shuffles, ordered ids, group words). A plan of all 40
# at scale 0.1 asks some 600 (a count per group is a search); at 256 the cache started again
# two or three times a plan, and each restart recomputed the big orders in one burst that held
# the listener's loop for up to 190 ms (a 429 in one plan of three). Most entries are a
# search's few ids; all of them together hold about two ids per user of the consortium.
DERIVED_KEPT = 4096


class Store:
    """The SQLite database of one sandbox: open it, then read or write under its lock."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.RLock()
        self._writing = threading.local()  # is this thread inside tx()? then read what it wrote
        self._readers: queue.LifoQueue[sqlite3.Connection] = queue.LifoQueue()
        self._all_readers: list[sqlite3.Connection] = []
        # check_same_thread=False: the lock, not the thread, guards the writing connection.
        self._conn = self._connect()
        self._generation = 0  # commits through tx(), for caches of what the rows say
        self._derived: dict[Hashable, tuple[tuple[int, int], Any]] = {}  # see derived()
        self._conn.execute("PRAGMA journal_mode = WAL")
        self._conn.execute("PRAGMA synchronous = NORMAL")
        if self._conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'users'"
        ).fetchone():
            self._conn.executescript(GROUP_CHANGES)

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        conn.execute("PRAGMA busy_timeout = 10000")
        return conn

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        if getattr(self._writing, "active", False):
            with self._lock:
                yield self._conn
            return
        try:
            conn = self._readers.get_nowait()
        except queue.Empty:
            conn = self._connect()
            with self._lock:
                self._all_readers.append(conn)
        try:
            yield conn
        finally:
            self._readers.put(conn)

    @classmethod
    def create(cls, path: Path) -> Store:
        """A new, empty database (any old file at `path` is removed first)."""
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        store = cls(path)
        # Seeding is one huge transaction into an empty file: a rollback journal costs nothing
        # there, while WAL would write every page twice. Serving reopens the file in WAL mode.
        store._conn.execute("PRAGMA journal_mode = DELETE")
        store._conn.execute("PRAGMA synchronous = OFF")
        store._conn.execute("PRAGMA cache_size = -262144")
        store._conn.executescript(SCHEMA + GROUP_CHANGES)
        return store

    def close(self) -> None:
        with self._lock:
            for reader in self._all_readers:
                reader.close()
            self._all_readers.clear()
            self._conn.close()

    @contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        """One atomic unit of work: everything inside commits together or not at all."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            self._writing.active = True
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            finally:
                self._writing.active = False
            self._conn.execute("COMMIT")
            self._generation += 1

    def derived(self, key: Hashable, compute: Callable[[], T]) -> T:
        """`compute()`, kept under `key` until a row may have changed (version()).

        For what is costly to work out from the rows and asked again and again (a search's
        shuffle, a list's order, an institution's group words). At most DERIVED_KEPT are kept;
        past that the whole cache starts again, which costs one recomputation each.
        """
        version = self.version()
        cached = self._derived.get(key)
        if cached is not None and cached[0] == version:
            return cast(T, cached[1])
        value = compute()
        if len(self._derived) >= DERIVED_KEPT:
            self._derived.clear()
        self._derived[key] = (version, value)
        return value

    def version(self) -> tuple[int, int]:
        """Changes whenever any row may have: a commit here (tx) or by another connection or
        process (SQLite's data_version, as the writing connection sees it)."""
        with self._lock:
            row = self._conn.execute("PRAGMA data_version").fetchone()
            return self._generation, int(row[0])

    def all(self, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self._read() as conn:
            return list(conn.execute(sql, args).fetchall())

    def one(self, sql: str, args: tuple[Any, ...] = ()) -> tuple[Any, ...] | None:
        with self._read() as conn:
            cursor = conn.execute(sql, args)
            row = cursor.fetchone()
            cursor.close()  # ends the read: a pooled connection must not keep an old snapshot
            return tuple(row) if row is not None else None

    def next_id(self, name: str, start: int) -> int:
        """A counter that survives restarts, for Alma-style long numeric ids."""
        with self.tx() as conn:
            row = conn.execute("SELECT value FROM sequences WHERE name = ?", (name,)).fetchone()
            value = (int(row[0]) if row else start) + 1
            conn.execute(
                "INSERT INTO sequences (name, value) VALUES (?, ?)"
                " ON CONFLICT(name) DO UPDATE SET value = excluded.value",
                (name, value),
            )
            return value

    def meta(self, key: str) -> str | None:
        row = self.one("SELECT value FROM meta WHERE key = ?", (key,))
        return str(row[0]) if row else None

    def group_changes(self, inst: str) -> dict[str, int]:
        """primary ID → how many times that user's group changed (users never changed absent)."""
        return {
            str(pid): int(n)
            for pid, n in self.all(
                "SELECT primary_id, changes FROM group_changes WHERE inst = ?", (inst,)
            )
        }

    def content_hash(self) -> str:
        """A digest of every table's rows in a stable order: equal seeds give equal hashes."""
        digest = hashlib.sha256()
        with self._lock:
            tables = [
                r[0]
                for r in self._conn.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
                )
            ]
            for table in tables:
                digest.update(table.encode())
                width = len(self._conn.execute(f"PRAGMA table_info({table})").fetchall())
                order = ", ".join(str(i) for i in range(1, width + 1))
                for row in self._conn.execute(f"SELECT * FROM {table} ORDER BY {order}"):  # noqa: S608
                    digest.update(repr(row).encode())
        return digest.hexdigest()

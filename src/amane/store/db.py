"""Engines and sessions.

SQLite (embedded default) runs in WAL mode with ``synchronous=FULL`` and foreign keys on;
write transactions start with ``BEGIN IMMEDIATE`` so that two writers never deadlock on a
lock upgrade. PostgreSQL needs nothing special. Dialect differences stay in this package.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: SQLite's busy handler alone
    fcntl = None  # type: ignore[assignment]

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker


def normalise_url(url: str) -> str:
    """Accept ``postgresql://`` and ``postgres://`` and use psycopg 3 for them."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def _sqlite_setup(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event issue BEGIN itself (pysqlite would otherwise defer it).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA cache_size=-65536")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        if mode:  # "" (Database.statement_engine): no transaction, each statement stands alone
            conn.exec_driver_sql(f"BEGIN {mode}")


class _FileWriteLock:
    """Serialises SQLite writers across threads and processes with a kernel lock (``flock``).

    SQLite's own busy handler makes a blocked writer sleep and retry (up to 100 ms a time), which
    under several server processes turns into long stalls; waiting on ``flock`` instead wakes the
    next writer the moment the lock is released."""

    def __init__(self, path: str) -> None:
        self._thread_lock = threading.Lock()
        self._fd = os.open(path + ".writelock", os.O_RDWR | os.O_CREAT, 0o600)

    @contextmanager
    def hold(self, timeout: float = 60.0) -> Iterator[None]:
        if not self._thread_lock.acquire(timeout=timeout):
            raise TimeoutError("the database stayed locked for writing")
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._thread_lock.release()


class Database:
    """One database: a read engine and a write engine (same pool; writes begin IMMEDIATE on SQLite)."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = normalise_url(url)
        u = make_url(self.url)
        self.dialect = u.get_backend_name()
        kwargs: dict[str, Any] = {"echo": echo, "future": True}
        if self.dialect == "sqlite":
            if u.database and u.database != ":memory:":
                Path(u.database).parent.mkdir(parents=True, exist_ok=True)
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
            kwargs["pool_size"] = 32
            kwargs["max_overflow"] = 32
        else:
            kwargs["pool_size"] = 20
            kwargs["max_overflow"] = 20
            kwargs["pool_pre_ping"] = True
            # psycopg prepares a statement after 5 runs and keeps a generic plan made from the
            # statistics of that moment; a bulk import that starts on an empty table then keeps
            # scanning the whole table for each chunk's existing-id look-up. Plan every time.
            kwargs["connect_args"] = {"prepare_threshold": None}
        self.engine = create_engine(self.url, **kwargs)
        self.write_engine: Engine = self.engine
        self._write_lock: _FileWriteLock | None = None
        if self.dialect == "sqlite":
            _sqlite_setup(self.engine)
            self.write_engine = self.engine.execution_options(sqlite_begin="IMMEDIATE")
            if u.database and u.database != ":memory:" and fcntl is not None:
                self._write_lock = _FileWriteLock(u.database)
        #: For hot reads of one statement: no BEGIN and no ROLLBACK around it (on PostgreSQL two
        #: round trips less; on SQLite two statements less), each statement its own snapshot.
        self.statement_engine: Engine = (self.engine.execution_options(sqlite_begin="") if self.dialect == "sqlite"
                                         else self.engine.execution_options(isolation_level="AUTOCOMMIT"))
        self._read = sessionmaker(self.engine, expire_on_commit=False)
        self._write = sessionmaker(self.write_engine, expire_on_commit=False)
        self._wal_path: str | None = None
        self._group_lock = threading.Lock()
        self._group_engine: Engine | None = None
        self._group_dbapi: Any = None
        self._group_dbapi_lock = threading.Lock()
        if self._write_lock is not None and u.database:
            self._wal_path = u.database + "-wal"

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self._read() as s:
            yield s

    @contextmanager
    def _writer_turn(self) -> Iterator[None]:
        if self._write_lock is None:
            yield
        else:
            with self._write_lock.hold():
                yield

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A write transaction: committed when the block ends, rolled back on any error."""
        with self._writer_turn(), self._write() as s, s.begin():
            yield s

    @contextmanager
    def write_connection(self) -> Iterator[Connection]:
        """A Core write transaction (for hot paths that need no ORM session)."""
        with self._writer_turn(), self.write_engine.begin() as conn:
            yield conn

    @contextmanager
    def group_write_connection(self) -> Iterator[Connection]:
        """A Core write transaction for group commit (the audit writer): durable when the block ends,
        like :meth:`write_connection`, but on a SQLite file the flush to disk happens after the
        writer's turn is handed on.

        The transaction commits with ``synchronous=NORMAL`` (appended to the write-ahead log, not yet
        flushed), the write lock is released, and only then is the log file flushed with ``fsync``:
        the next writer, in this process or another, appends its batch while this one waits on the
        disk. The guarantee is that of ``synchronous=FULL``: the block returns only once every frame
        of the transaction is on stable storage. If a checkpoint copied the frames into the database
        in between, SQLite flushed the log before copying them (it does so in NORMAL mode) and the
        database file after; if the log file was then removed, there is nothing left to flush.
        PostgreSQL and in-memory SQLite: a plain :meth:`write_connection`."""
        if self._wal_path is None:
            with self.write_connection() as conn:
                yield conn
            return
        with self._writer_turn(), self._group_engine_once().begin() as conn:
            yield conn
        self._sync_wal()

    def _group_engine_once(self) -> Engine:
        if self._group_engine is None:
            with self._group_lock:
                if self._group_engine is None:
                    self._group_engine = self._make_group_engine()
        return self._group_engine

    @property
    def has_group_cursor(self) -> bool:
        """Whether :meth:`group_write_cursor` is available (a SQLite file or PostgreSQL; not an
        in-memory SQLite database, whose connections are per thread)."""
        return self._wal_path is not None or self.dialect == "postgresql"

    @contextmanager
    def group_write_cursor(self) -> Iterator[Any]:
        """:meth:`group_write_connection` without SQLAlchemy: a DBAPI cursor in a write transaction
        on one connection kept for the group-commit writer, committed and durable (same guarantee)
        when the block ends, rolled back on any error. For the audit writer, whose batches are
        small and many: SQLAlchemy's per-statement and per-transaction machinery cost more CPU than
        the writes themselves (bench/core.py). Parameters are ``?`` on SQLite, ``%s`` on PostgreSQL;
        a SQLite ``DateTime`` is bound as text (:func:`amane.store.bulk.sqlite_value`)."""
        if not self.has_group_cursor:
            raise RuntimeError("no group cursor on an in-memory SQLite database")
        with self._group_dbapi_lock:
            conn = self._group_dbapi
            if conn is None:
                engine = self._group_engine_once() if self._wal_path is not None else self.engine
                conn = engine.raw_connection()
                self._group_dbapi = conn
            try:
                with self._writer_turn():
                    cur = conn.cursor()
                    try:
                        if self._wal_path is not None:
                            cur.execute("BEGIN IMMEDIATE")
                        yield cur
                        if self._wal_path is not None:
                            cur.execute("COMMIT")
                        else:
                            conn.commit()
                    except BaseException:
                        try:
                            conn.rollback()
                        except Exception:  # noqa: BLE001 - the connection is gone; it is replaced below
                            pass
                        raise
                    finally:
                        cur.close()
            except BaseException:
                # a failed batch may have left the connection broken (server restart, disk error):
                # the next batch takes a fresh one
                self._group_dbapi = None
                try:
                    conn.invalidate()
                except Exception:  # noqa: BLE001
                    pass
                raise
        if self._wal_path is not None:
            self._sync_wal()

    def _make_group_engine(self) -> Engine:
        engine = create_engine(self.url, future=True, pool_size=2, max_overflow=2,
                               connect_args={"check_same_thread": False, "timeout": 30})
        _sqlite_setup(engine)

        @event.listens_for(engine, "connect")
        def _flush_after_commit(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.execute("PRAGMA synchronous=NORMAL")

        return engine.execution_options(sqlite_begin="IMMEDIATE")

    def _sync_wal(self) -> None:
        assert self._wal_path is not None
        try:
            fd = os.open(self._wal_path, os.O_RDONLY)
        except FileNotFoundError:  # checkpointed (flushed by SQLite) and removed: nothing to flush
            return
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def refresh_statistics(self) -> None:
        """Let the query planner see the data after a bulk load (a plan made on an empty table
        keeps scanning it). PostgreSQL: VACUUM (ANALYZE) the record tables; SQLite: PRAGMA optimize."""
        if not self.is_sqlite:
            # VACUUM too: it sets the visibility map, so index-only scans of the key index (person
            # search) need not visit the table; it cannot run inside a transaction
            with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
                c.exec_driver_sql("VACUUM (ANALYZE) entities, entity_keys, entity_refs, entity_versions")
            return
        with self._writer_turn(), self.engine.connect() as c:
            c.exec_driver_sql("PRAGMA optimize")
            c.commit()

    def dispose(self) -> None:
        with self._group_dbapi_lock:
            if self._group_dbapi is not None:
                self._group_dbapi.close()
                self._group_dbapi = None
        self.engine.dispose()
        if self._group_engine is not None:
            self._group_engine.dispose()

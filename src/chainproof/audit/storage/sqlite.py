"""SQLite backend: one file, WAL journal, ``BEGIN IMMEDIATE`` to serialise appenders."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chainproof.audit.storage._sql import SCHEMA, SQLStore
from chainproof.audit.storage.interface import Coord
from chainproof.errors import InputError, NotFoundError

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

_NODE_SQL = "SELECT hash FROM audit_nodes WHERE shard_id = ? AND level = ? AND idx = ?"
#: Appenders queue on the write lock; a minute covers a burst of admission replicas.
BUSY_TIMEOUT_MS = 60_000


class SQLiteStore(SQLStore):
    def __init__(self, path: str | Path, *, create: bool) -> None:
        self.path = Path(path)
        self.description = f"sqlite {self.path}"
        if not create and not self.path.is_file():
            raise NotFoundError(f"audit log {self.path} does not exist")
        try:
            self._conn = sqlite3.connect(
                self.path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000
            )
            self._conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            self._conn.execute("PRAGMA journal_mode = WAL")
            # FULL: a decision reported as logged must survive power loss, not only a crash.
            self._conn.execute("PRAGMA synchronous = FULL")
            if create:
                with self.writing():
                    for ddl in SCHEMA:
                        self._conn.execute(ddl.format(blob="BLOB", without_rowid=" WITHOUT ROWID"))
            elif not self._execute("SELECT name FROM sqlite_master WHERE name = 'audit_shards'"):
                raise InputError(f"{self.path} is not a chainproof audit log")
        except sqlite3.DatabaseError as exc:
            raise InputError(f"cannot open audit log {self.path}: {exc}") from None

    @contextlib.contextmanager
    def _transaction(self, begin: str) -> Iterator[None]:
        self._conn.execute(begin)
        try:
            yield
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

    def writing(self) -> contextlib.AbstractContextManager[None]:
        return self._transaction("BEGIN IMMEDIATE")

    def reading(self) -> contextlib.AbstractContextManager[None]:
        return self._transaction("BEGIN")

    def close(self) -> None:
        self._conn.close()

    def _execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self._conn.execute(sql, params).fetchall()

    def get_nodes(self, shard_id: int, coords: Sequence[Coord]) -> dict[Coord, bytes]:
        # In-process SQLite has no round trips: one cached prepared statement per node
        # beats building (and re-planning) a fresh multi-node query for every proof.
        out: dict[Coord, bytes] = {}
        execute = self._conn.execute
        for level, idx in coords:
            row = execute(_NODE_SQL, (shard_id, level, idx)).fetchone()
            if row is not None:
                out[(level, idx)] = bytes(row[0])
        return out

    def _executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self._conn.executemany(sql, rows)

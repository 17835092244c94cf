"""PostgreSQL backend for several writers: same schema, appends serialised by an advisory lock.

The lock is transaction-scoped (``pg_advisory_xact_lock``), so a writer that dies mid-append
releases it with its rolled-back transaction.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from chainproof.audit.storage._sql import SCHEMA, SQLStore
from chainproof.errors import InputError, UnsupportedError

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

#: Arbitrary but fixed: every chainproof appender on a database contends for this lock.
LOCK_KEY = 0x636861696E70  # "chainp"


class PostgresStore(SQLStore):
    def __init__(self, url: str, *, create: bool) -> None:
        try:
            import psycopg
        except ImportError:
            raise UnsupportedError(
                "PostgreSQL audit logs need psycopg: pip install 'chainproof[postgres]'"
            ) from None
        parts = urlsplit(url)
        self.description = f"postgresql {parts.hostname or 'localhost'}{parts.path}"
        self._psycopg = psycopg
        try:
            self._conn = psycopg.connect(url, autocommit=True, connect_timeout=10)
        except psycopg.Error as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise InputError(f"cannot connect to {self.description}: {first}") from None
        # Skip DDL (and its lock) on every open once the schema exists.
        if create and not self._execute("SELECT to_regclass('audit_prunes')")[0][0]:
            with self.writing():
                for ddl in SCHEMA:
                    self._conn.execute(ddl.format(blob="BYTEA", without_rowid=""))
        if not self._execute("SELECT to_regclass('audit_shards')")[0][0]:
            raise InputError(f"{self.description} holds no chainproof audit log")

    @contextlib.contextmanager
    def _tx(self, *, write: bool) -> Iterator[None]:
        try:
            with self._conn.transaction():
                if write:
                    self._conn.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))
                else:
                    self._conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
                yield
        except self._psycopg.OperationalError as exc:
            raise InputError(f"{self.description}: {str(exc).strip()}") from None

    def writing(self) -> contextlib.AbstractContextManager[None]:
        return self._tx(write=True)

    def reading(self) -> contextlib.AbstractContextManager[None]:
        return self._tx(write=False)

    def close(self) -> None:
        self._conn.close()

    def _execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        cur = self._conn.execute(sql.replace("?", "%s"), params)
        return cur.fetchall() if cur.description else []

    def _executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        with self._conn.cursor() as cur:
            cur.executemany(sql.replace("?", "%s"), rows)

"""The schema and queries shared by the SQLite and PostgreSQL backends."""

from __future__ import annotations

import abc
from typing import TYPE_CHECKING, Any

from chainproof.audit.storage.interface import CheckpointRow, Coord, LogStore, PruneRow, ShardRow

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

SCHEMA_VERSION = "1"
#: Rows fetched per round trip when streaming entries or nodes during verification.
PAGE = 5000

# {blob} is BLOB on SQLite and BYTEA on PostgreSQL; {without_rowid} is SQLite's clustered
# primary key (one B-tree per table instead of table + index: half the writes per append),
# empty on PostgreSQL. Everything else is identical.
SCHEMA = (
    "CREATE TABLE IF NOT EXISTS audit_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """CREATE TABLE IF NOT EXISTS audit_shards (
        shard_id BIGINT PRIMARY KEY, origin TEXT NOT NULL UNIQUE, period TEXT NOT NULL,
        first_index BIGINT NOT NULL, size BIGINT NOT NULL, newest_time TEXT NOT NULL,
        frozen SMALLINT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS audit_entries (
        shard_id BIGINT NOT NULL, idx BIGINT NOT NULL, body {blob} NOT NULL,
        PRIMARY KEY (shard_id, idx)){without_rowid}""",
    """CREATE TABLE IF NOT EXISTS audit_nodes (
        shard_id BIGINT NOT NULL, level SMALLINT NOT NULL, idx BIGINT NOT NULL,
        hash {blob} NOT NULL, PRIMARY KEY (shard_id, level, idx)){without_rowid}""",
    """CREATE TABLE IF NOT EXISTS audit_checkpoints (
        shard_id BIGINT NOT NULL, size BIGINT NOT NULL, note TEXT NOT NULL,
        created TEXT NOT NULL, PRIMARY KEY (shard_id, size))""",
    """CREATE TABLE IF NOT EXISTS audit_prunes (
        seq BIGINT PRIMARY KEY, note TEXT NOT NULL, created TEXT NOT NULL)""",
)


class SQLStore(LogStore):
    """Queries written with ``?``; PostgreSQL rewrites them to ``%s``."""

    @abc.abstractmethod
    def _execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]: ...

    @abc.abstractmethod
    def _executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None: ...

    def get_meta(self) -> dict[str, str]:
        return {str(k): str(v) for k, v in self._execute("SELECT key, value FROM audit_meta")}

    def set_meta(self, values: dict[str, str]) -> None:
        for key, value in values.items():
            self._execute("DELETE FROM audit_meta WHERE key = ?", (key,))
            self._execute("INSERT INTO audit_meta (key, value) VALUES (?, ?)", (key, value))

    def shards(self) -> list[ShardRow]:
        rows = self._execute(
            "SELECT shard_id, origin, period, first_index, size, newest_time, frozen "
            "FROM audit_shards ORDER BY shard_id"
        )
        return [ShardRow(int(a), b, c, int(d), int(e), f, bool(g)) for a, b, c, d, e, f, g in rows]

    def insert_shard(self, shard: ShardRow) -> None:
        self._execute(
            "INSERT INTO audit_shards (shard_id, origin, period, first_index, size, newest_time, "
            "frozen) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                shard.shard_id,
                shard.origin,
                shard.period,
                shard.first_index,
                shard.size,
                shard.newest_time,
                int(shard.frozen),
            ),
        )

    def update_shard(self, shard_id: int, size: int, newest_time: str, frozen: bool) -> None:
        self._execute(
            "UPDATE audit_shards SET size = ?, newest_time = ?, frozen = ? WHERE shard_id = ?",
            (size, newest_time, int(frozen), shard_id),
        )

    def delete_shard(self, shard_id: int) -> None:
        for table in ("audit_entries", "audit_nodes", "audit_checkpoints", "audit_shards"):
            self._execute(f"DELETE FROM {table} WHERE shard_id = ?", (shard_id,))  # noqa: S608

    def insert_entries(self, shard_id: int, rows: Sequence[tuple[int, bytes]]) -> None:
        self._executemany(
            "INSERT INTO audit_entries (shard_id, idx, body) VALUES (?, ?, ?)",
            [(shard_id, i, b) for i, b in rows],
        )

    def insert_nodes(self, shard_id: int, rows: Sequence[tuple[int, int, bytes]]) -> None:
        self._executemany(
            "INSERT INTO audit_nodes (shard_id, level, idx, hash) VALUES (?, ?, ?, ?)",
            [(shard_id, lv, i, h) for lv, i, h in rows],
        )

    def get_nodes(self, shard_id: int, coords: Sequence[Coord]) -> dict[Coord, bytes]:
        out: dict[Coord, bytes] = {}
        # Grouped by level so each query is a plain IN list every SQL engine plans well.
        by_level: dict[int, list[int]] = {}
        for level, idx in coords:
            by_level.setdefault(level, []).append(idx)
        if not by_level:
            return out
        # One indexed lookup per level, glued with UNION ALL: an OR across levels makes
        # SQLite fall back to scanning the shard.
        parts = []
        params: list[Any] = []
        for level, idxs in by_level.items():
            parts.append(
                "SELECT level, idx, hash FROM audit_nodes WHERE shard_id = ? AND level = ? "  # noqa: S608 - only placeholders are interpolated
                f"AND idx IN ({', '.join('?' * len(idxs))})"
            )
            params.extend([shard_id, level, *idxs])
        rows = self._execute(" UNION ALL ".join(parts), params)
        for level, idx, h in rows:
            out[(int(level), int(idx))] = bytes(h)
        return out

    def get_entry(self, shard_id: int, index: int) -> bytes | None:
        rows = self._execute(
            "SELECT body FROM audit_entries WHERE shard_id = ? AND idx = ?", (shard_id, index)
        )
        return bytes(rows[0][0]) if rows else None

    def iter_entries(
        self, shard_id: int, start: int = 0
    ) -> Iterator[tuple[int, bytes, bytes | None]]:
        while True:
            rows = self._execute(
                "SELECT e.idx, e.body, n.hash FROM audit_entries e LEFT JOIN audit_nodes n "
                "ON n.shard_id = e.shard_id AND n.level = 0 AND n.idx = e.idx "
                "WHERE e.shard_id = ? AND e.idx >= ? ORDER BY e.idx LIMIT ?",
                (shard_id, start, PAGE),
            )
            for idx, body, h in rows:
                yield int(idx), bytes(body), None if h is None else bytes(h)
            if len(rows) < PAGE:
                return
            start = int(rows[-1][0]) + 1

    def iter_nodes(self, shard_id: int, level: int) -> Iterator[tuple[int, bytes]]:
        start = 0
        while True:
            rows = self._execute(
                "SELECT idx, hash FROM audit_nodes WHERE shard_id = ? AND level = ? AND idx >= ? "
                "ORDER BY idx LIMIT ?",
                (shard_id, level, start, PAGE),
            )
            for idx, h in rows:
                yield int(idx), bytes(h)
            if len(rows) < PAGE:
                return
            start = int(rows[-1][0]) + 1

    def insert_checkpoint(self, row: CheckpointRow) -> None:
        self._execute(
            "DELETE FROM audit_checkpoints WHERE shard_id = ? AND size = ?",
            (row.shard_id, row.size),
        )
        self._execute(
            "INSERT INTO audit_checkpoints (shard_id, size, note, created) VALUES (?, ?, ?, ?)",
            (row.shard_id, row.size, row.note, row.created),
        )

    def checkpoints(self, shard_id: int) -> list[CheckpointRow]:
        rows = self._execute(
            "SELECT shard_id, size, note, created FROM audit_checkpoints WHERE shard_id = ? "
            "ORDER BY size",
            (shard_id,),
        )
        return [CheckpointRow(int(a), int(b), str(c), str(d)) for a, b, c, d in rows]

    def checkpoint(
        self, shard_id: int, *, size: int | None = None, at_least: int | None = None
    ) -> CheckpointRow | None:
        base = "SELECT shard_id, size, note, created FROM audit_checkpoints WHERE shard_id = ? "
        if size is not None:
            rows = self._execute(base + "AND size = ?", (shard_id, size))
        elif at_least is not None:
            rows = self._execute(base + "AND size >= ? ORDER BY size LIMIT 1", (shard_id, at_least))
        else:
            rows = self._execute(base + "ORDER BY size DESC LIMIT 1", (shard_id,))
        if not rows:
            return None
        a, b, c, d = rows[0]
        return CheckpointRow(int(a), int(b), str(c), str(d))

    def insert_prune(self, note: str, created: str) -> None:
        rows = self._execute("SELECT COALESCE(MAX(seq), 0) FROM audit_prunes")
        self._execute(
            "INSERT INTO audit_prunes (seq, note, created) VALUES (?, ?, ?)",
            (int(rows[0][0]) + 1, note, created),
        )

    def prunes(self) -> list[PruneRow]:
        rows = self._execute("SELECT seq, note, created FROM audit_prunes ORDER BY seq")
        return [PruneRow(int(a), str(b), str(c)) for a, b, c in rows]

"""Where an audit log lives. Every backend implements the same schema (docs/audit.md).

Writes happen only inside :meth:`LogStore.writing`, which serialises appenders across
processes (SQLite: ``BEGIN IMMEDIATE``; PostgreSQL: a transaction-scoped advisory lock) and
commits atomically or not at all. :meth:`LogStore.reading` gives one consistent snapshot.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence
    from contextlib import AbstractContextManager

Coord = tuple[int, int]


@dataclass(frozen=True)
class ShardRow:
    shard_id: int
    origin: str
    period: str
    first_index: int
    size: int
    newest_time: str
    frozen: bool


@dataclass(frozen=True)
class CheckpointRow:
    shard_id: int
    size: int
    note: str
    created: str


@dataclass(frozen=True)
class PruneRow:
    seq: int
    note: str
    created: str


class LogStore(abc.ABC):
    """Primitive operations; the Merkle logic lives in :mod:`chainproof.audit.log`."""

    #: Shown in messages ("sqlite /path", "postgresql host/db").
    description: str

    @abc.abstractmethod
    def writing(self) -> AbstractContextManager[None]:
        """An exclusive, atomic write transaction."""

    @abc.abstractmethod
    def reading(self) -> AbstractContextManager[None]:
        """A read-only snapshot."""

    @abc.abstractmethod
    def close(self) -> None: ...

    @abc.abstractmethod
    def get_meta(self) -> dict[str, str]: ...

    @abc.abstractmethod
    def set_meta(self, values: dict[str, str]) -> None: ...

    @abc.abstractmethod
    def shards(self) -> list[ShardRow]:
        """All shards, oldest first."""

    @abc.abstractmethod
    def insert_shard(self, shard: ShardRow) -> None: ...

    @abc.abstractmethod
    def update_shard(self, shard_id: int, size: int, newest_time: str, frozen: bool) -> None: ...

    @abc.abstractmethod
    def delete_shard(self, shard_id: int) -> None:
        """The shard with its entries, nodes and checkpoints."""

    @abc.abstractmethod
    def insert_entries(self, shard_id: int, rows: Sequence[tuple[int, bytes]]) -> None: ...

    @abc.abstractmethod
    def insert_nodes(self, shard_id: int, rows: Sequence[tuple[int, int, bytes]]) -> None: ...

    @abc.abstractmethod
    def get_nodes(self, shard_id: int, coords: Sequence[Coord]) -> dict[Coord, bytes]: ...

    @abc.abstractmethod
    def get_entry(self, shard_id: int, index: int) -> bytes | None: ...

    @abc.abstractmethod
    def iter_entries(
        self, shard_id: int, start: int = 0
    ) -> Iterator[tuple[int, bytes, bytes | None]]:
        """(index, body, stored leaf hash or None) in index order, streamed."""

    @abc.abstractmethod
    def iter_nodes(self, shard_id: int, level: int) -> Iterator[tuple[int, bytes]]:
        """(index, hash) of one level in index order, streamed."""

    @abc.abstractmethod
    def insert_checkpoint(self, row: CheckpointRow) -> None: ...

    @abc.abstractmethod
    def checkpoints(self, shard_id: int) -> list[CheckpointRow]:
        """Stored checkpoints of a shard, smallest size first."""

    @abc.abstractmethod
    def checkpoint(
        self, shard_id: int, *, size: int | None = None, at_least: int | None = None
    ) -> CheckpointRow | None:
        """The checkpoint of exactly ``size``, else the smallest one covering ``at_least``
        entries, else the newest."""

    @abc.abstractmethod
    def insert_prune(self, note: str, created: str) -> None: ...

    @abc.abstractmethod
    def prunes(self) -> list[PruneRow]: ...

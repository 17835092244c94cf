"""Audit log storage backends, chosen by the ``--log`` value."""

from __future__ import annotations

from chainproof.audit.storage.interface import LogStore


def is_postgres(spec: str) -> bool:
    return spec.startswith(("postgresql://", "postgres://"))


def open_store(spec: str, *, create: bool) -> LogStore:
    """``postgresql://…`` / ``postgres://…`` → PostgreSQL; anything else is a SQLite path."""
    if is_postgres(spec):
        from chainproof.audit.storage.postgres import PostgresStore

        return PostgresStore(spec, create=create)
    from chainproof.audit.storage.sqlite import SQLiteStore

    return SQLiteStore(spec, create=create)


__all__ = ["LogStore", "is_postgres", "open_store"]

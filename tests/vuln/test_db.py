from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from chainproof.errors import InputError, MalformedError, UnsupportedError
from chainproof.vuln.db import SCHEMA_VERSION, AdvisoryDB
from chainproof.vuln.interface import FeedBatch, SourceInfo
from chainproof.vuln.load import read_path

from .conftest import DATA


def test_new_database_is_migrated_and_indexed(tmp_path: Path) -> None:
    with AdvisoryDB(tmp_path / "a.db") as db:
        conn = db.connection
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        indexes = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='index'")}
        assert {"affected_by_package", "msrc_by_product_build", "msrc_by_kind"} <= indexes
        plan = conn.execute(
            "EXPLAIN QUERY PLAN SELECT * FROM affected WHERE ecosystem='NuGet' AND name_key='x'"
        ).fetchall()
        assert "affected_by_package" in str(plan)


def test_newer_schema_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "future.db"
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(UnsupportedError, match="newer than this chainproof supports"):
        AdvisoryDB(path)
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION + 1
    conn.close()


def test_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "junk.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(MalformedError):
        AdvisoryDB(path)


def test_missing_database_for_reading(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no advisory database"):
        AdvisoryDB(tmp_path / "none.db", create=False)


def test_failed_import_rolls_back(tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    with AdvisoryDB(path) as db:
        db.import_batches(read_path(DATA / "osv"))
        before = db.status()
        good = list(read_path(DATA / "osv"))

        def batches() -> Iterator[tuple[FeedBatch, str]]:
            yield from good
            yield FeedBatch(SourceInfo("osv", "x", "")), "x"
            raise MalformedError("half-way failure")

        with pytest.raises(MalformedError):
            db.import_batches(batches())
        after = db.status()
    assert (after.advisories, after.sources) == (before.advisories, before.sources)


def test_reimport_replaces_records(tmp_path: Path) -> None:
    with AdvisoryDB(tmp_path / "a.db") as db:
        db.import_batches(read_path(DATA / "osv"))
        db.import_batches(read_path(DATA / "osv"))
        status = db.status()
    assert status.advisories == 2
    assert status.affected_packages == 4


def test_status(fixture_db: Path) -> None:
    with AdvisoryDB(fixture_db, create=False) as db:
        status = db.status()
    assert status.msrc_fixes > 800
    assert status.advisories == 4
    assert status.newest == "2024-10-09T01:07:53Z"
    assert {s.feed for s in status.sources} == {"msrc", "osv"}
    assert status.age_days() is not None and status.age_days() > 0  # type: ignore[operator]

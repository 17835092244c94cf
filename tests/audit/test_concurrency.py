"""Several writer processes, and writers killed mid-append, on SQLite and real PostgreSQL."""

from __future__ import annotations

import multiprocessing
import os
import signal
import sqlite3
import time
from pathlib import Path

import pytest

from chainproof.audit import init_log, open_log
from tests.audit import _workers

_CTX = multiprocessing.get_context("spawn")
WRITERS = 4
PER_WRITER = 40


def _run_writers(spec: str, batch: int) -> None:
    procs = [
        _CTX.Process(target=_workers.append_many, args=(spec, w, PER_WRITER, batch))
        for w in range(WRITERS)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
        assert p.exitcode == 0, f"writer exited with {p.exitcode}"


def _check_complete(spec: str, key: Path) -> None:
    with open_log(spec, key_path=str(key)) as log:
        report = log.verify(log.trusted_verifiers())
        assert report.ok, report.findings
        (shard,) = log.shards()
        assert shard.size == 1 + WRITERS * PER_WRITER  # shard-start + every verdict
        refs = set()
        with log.store.reading():
            for _, body, _ in log.store.iter_entries(shard.shard_id):
                refs.add(body)
        assert len(refs) == shard.size  # nothing lost, nothing duplicated


def _init(spec: str, key: Path) -> None:
    init_log(spec, origin="audit.test/concurrent", key_path=str(key), checkpoint_every=25).close()


@pytest.mark.parametrize("batch", [1, 10])
def test_sqlite_concurrent_appenders(tmp_path: Path, ed_key: Path, batch: int) -> None:
    spec = str(tmp_path / "audit.db")
    _init(spec, ed_key)
    _run_writers(spec, batch)
    _check_complete(spec, ed_key)
    with sqlite3.connect(spec) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


@pytest.mark.integration
@pytest.mark.parametrize("batch", [1, 10])
def test_postgres_concurrent_appenders(pg_url: str, ed_key: Path, batch: int) -> None:
    _init(pg_url, ed_key)
    _run_writers(pg_url, batch)
    _check_complete(pg_url, ed_key)


def _die_inside_append(spec: str, key: Path) -> None:
    _init(spec, key)
    proc = _CTX.Process(target=_workers.die_inside_append, args=(spec,))
    proc.start()
    proc.join(timeout=60)
    assert proc.exitcode == -signal.SIGKILL
    with open_log(spec) as log:
        report = log.verify(log.trusted_verifiers())
        assert report.ok, report.findings
        assert log.shards()[0].size == 2  # the half-written append left nothing behind
        log.append([{"schema": "chainproof.audit.entry/v1", "time": "2026-01-10T12:00:01.000Z"}])
        assert log.verify(log.trusted_verifiers()).ok


def test_sqlite_killed_inside_append_transaction(tmp_path: Path, ed_key: Path) -> None:
    _die_inside_append(str(tmp_path / "audit.db"), ed_key)


@pytest.mark.integration
def test_postgres_killed_inside_append_transaction(pg_url: str, ed_key: Path) -> None:
    _die_inside_append(pg_url, ed_key)


def _kill_busy_writer(spec: str, key: Path) -> None:
    _init(spec, key)
    proc = _CTX.Process(target=_workers.append_forever, args=(spec,))
    proc.start()
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with open_log(spec) as log:
                shards = log.shards()
            if shards and shards[0].size > 200:
                break
            time.sleep(0.05)
        else:
            pytest.fail("writer made no progress")
    finally:
        assert proc.pid is not None
        os.kill(proc.pid, signal.SIGKILL)
        proc.join(timeout=30)
    with open_log(spec) as log:
        report = log.verify(log.trusted_verifiers())
        assert report.ok, report.findings
        assert (log.shards()[0].size - 1) % 20 == 0  # only whole batches survive


def test_sqlite_writer_killed_while_appending(tmp_path: Path, ed_key: Path) -> None:
    _kill_busy_writer(str(tmp_path / "audit.db"), ed_key)


@pytest.mark.integration
def test_postgres_writer_killed_while_appending(pg_url: str, ed_key: Path) -> None:
    _kill_busy_writer(pg_url, ed_key)


@pytest.mark.integration
def test_postgres_tamper_detected(pg_url: str, ed_key: Path) -> None:
    import psycopg

    _init(pg_url, ed_key)
    _workers.append_many(pg_url, 0, 30, 1)
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("DELETE FROM audit_entries WHERE idx = 12")
    with open_log(pg_url, key_path=str(ed_key)) as log:
        report = log.verify(log.trusted_verifiers())
    assert report.first is not None
    assert (report.first.kind, report.first.index) == ("missing-entry", 12)

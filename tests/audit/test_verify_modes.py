"""verify without a trusted key (fails closed unless --no-checkpoints), the re-checked
newest-entry time behind prune, and prune records held to a required retention."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from chainproof.audit import init_log, open_log, record_verdict
from chainproof.audit.note import sign_note
from chainproof.audit.retention import PrunedShard, PruneRecord
from chainproof.audit.verify import verify_export
from chainproof.errors import IntegrityError
from tests.audit.conftest import T0, make_verdict
from tests.audit.test_log import _rewrite_tree

ORIGIN = "audit.test/log"
Cli = Callable[..., tuple[int, str, str]]


@pytest.fixture
def db(tmp_path: Path) -> str:
    return str(tmp_path / "audit.db")


def _unsigned_log(db: str, count: int = 10) -> None:
    init_log(db, origin=ORIGIN).close()
    for i in range(count):
        record_verdict(db, make_verdict(i), now=T0 + timedelta(minutes=i))


def test_verify_without_any_key_fails_closed_but_checks_the_tree(db: str, cli: Cli) -> None:
    _unsigned_log(db)
    code, out, err = cli("audit", "verify", "--log", db)
    assert code == 1 and not err
    assert "NOT VERIFIED" in out and "no checkpoint signature could be checked" in out
    code, out, _ = cli("audit", "verify", "--log", db, "--format", "json")
    report = json.loads(out)
    assert code == 1 and report["ok"] and not report["verified"]
    assert report["signatures_checked"] is False and report["entries"] == 11
    code, out, _ = cli("audit", "verify", "--log", db, "--no-checkpoints")
    assert code == 0 and "OK without signatures" in out
    # The tree is still recomputed: an edited entry fails even with --no-checkpoints.
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE audit_entries SET body = CAST('{}' AS BLOB) WHERE idx = 4")
    code, out, _ = cli("audit", "verify", "--log", db, "--no-checkpoints")
    assert code == 1 and "first divergence at entry 4 (edited-entry)" in out


def test_no_checkpoints_is_explicit_and_log_only(db: str, cli: Cli, ed_key: Path) -> None:
    _unsigned_log(db)
    code, _, err = cli("audit", "verify", "--log", db, "--no-checkpoints", "--key", str(ed_key))
    assert code == 2 and "exclude each other" in err
    code, _, err = cli("audit", "verify", "--proof", db, "--no-checkpoints")
    assert code == 2 and "signed checkpoint" in err
    code, _, err = cli("audit", "verify", "--proof", db)
    assert code == 2 and "pass --key" in err


def test_missing_configured_key_file_is_reported_and_fails_closed(
    db: str, cli: Cli, ed_key: Path
) -> None:
    init_log(db, origin=ORIGIN, key_path=str(ed_key), checkpoint_every=3).close()
    for i in range(7):
        record_verdict(db, make_verdict(i), now=T0 + timedelta(minutes=i))
    assert cli("audit", "verify", "--log", db)[0] == 0  # the configured key is used
    ed_key.rename(ed_key.with_suffix(".gone"))
    code, out, _ = cli("audit", "verify", "--log", db)
    assert code == 1 and "key not loaded" in out and "no such file" in out
    code, out, _ = cli("audit", "verify", "--log", db, "--no-checkpoints", "--format", "json")
    report = json.loads(out)
    assert code == 0 and report["unsigned_checkpoints"] == 2 and report["checkpoints"] == 0


def test_unsigned_check_compares_checkpoint_roots(db: str, ed_key: Path) -> None:
    init_log(db, origin=ORIGIN, key_path=str(ed_key), checkpoint_every=5).close()
    for i in range(19):
        record_verdict(db, make_verdict(i), now=T0 + timedelta(minutes=i))
    _rewrite_tree(db, 7)  # entry and every hash rewritten consistently
    with open_log(db, key_path="") as log:
        report = log.verify([])
    assert not report.signatures_checked
    assert report.first is not None
    assert (report.first.kind, report.first.index) == ("checkpoint-mismatch", 5)


def _monthly(db: str, key: Path, months: int = 8) -> None:
    init_log(db, origin=ORIGIN, key_path=str(key)).close()
    for i in range(months * 3):
        record_verdict(db, make_verdict(i), now=T0 + timedelta(days=10 * i))


def test_rewritten_newest_time_is_found_and_blocks_prune(db: str, ed_key: Path) -> None:
    _monthly(db, ed_key)
    with sqlite3.connect(db) as conn:
        # Make the March shard look as old as January to get it pruned early.
        conn.execute(
            "UPDATE audit_shards SET newest_time = '2026-01-01T00:00:00.000Z' WHERE shard_id = 3"
        )
    with open_log(db) as log:
        report = log.verify(log.trusted_verifiers())
        assert report.first is not None
        third = log.shards()[2]
        assert (report.first.kind, report.first.index) == (
            "rewritten-newest-time",
            third.first_index,
        )
        # Pruning at a time when only January and February are old enough: March is refused.
        with pytest.raises(IntegrityError, match=r"refusing to prune .*2026-03.*newest entry time"):
            log.prune(timedelta(days=30), T0 + timedelta(days=95))


def test_prune_records_newest_time_from_entries(db: str, ed_key: Path) -> None:
    _monthly(db, ed_key)
    with open_log(db) as log:
        jan = log.shards()[0]
        note, pruned = log.prune(timedelta(days=60), T0 + timedelta(days=150))
        assert note is not None and pruned[0].origin == jan.origin
        record = log.prune_records()[0][1]
        assert record.shards[0].newest_time == jan.newest_time
        assert log.verify(log.trusted_verifiers()).ok


def test_prune_record_age_is_rechecked_and_retention_enforced(
    db: str, ed_key: Path, cli: Cli
) -> None:
    _monthly(db, ed_key)
    with open_log(db) as log:
        log.prune(timedelta(days=30), T0 + timedelta(days=100))
        assert log.verify(log.trusted_verifiers()).ok
        # The auditor's rule is 180 days: everything this prune deleted was kept for less.
        strict = log.verify(log.trusted_verifiers(), min_retention=timedelta(days=180))
        assert strict.first is not None and strict.first.kind == "retention-violation"
        assert strict.first.index == 0
        assert log.verify(log.trusted_verifiers(), min_retention=timedelta(days=30)).ok
    code, out, _ = cli("audit", "verify", "--log", db, "--retention", "180d")
    assert code == 1 and "retention-violation" in out
    assert cli("audit", "verify", "--log", db, "--retention", "30d")[0] == 0


def test_signed_but_premature_prune_record_is_reported(db: str, ed_key: Path) -> None:
    _monthly(db, ed_key, months=2)
    with open_log(db) as log:
        signer = log.require_signer("test")
        # A record (validly signed) claiming a 180-day limit for a shard only 10 days old.
        record = PruneRecord(
            ORIGIN,
            "2026-03-01T00:00:00.000Z",
            180 * 86400,
            (PrunedShard("x/2026-00", 0, 0, b"\0" * 32, "2026-02-19T00:00:00.000Z"),),
        )
        log.store.insert_prune(sign_note(record.body(), [signer]), record.time)
        report = log.verify(log.trusted_verifiers())
    kinds = {f.kind for f in report.findings}
    assert "premature-prune" in kinds


def test_export_header_newest_time_is_checked(
    db: str, ed_key: Path, tmp_path: Path, cli: Cli
) -> None:
    _monthly(db, ed_key, months=2)
    out = tmp_path / "jan.jsonl"
    with open_log(db) as log:
        records = list(log.export_lines("2026-01"))
        keys = log.trusted_verifiers()
    out.write_text("".join(json.dumps(r) + "\n" for r in records))
    assert verify_export(out, keys).ok
    original = records[0]["newest_time"]
    records[0]["newest_time"] = "2025-01-01T00:00:00.000Z"
    out.write_text("".join(json.dumps(r) + "\n" for r in records))
    report = verify_export(out, keys)
    assert report.first is not None and report.first.kind == "rewritten-newest-time"
    assert verify_export(out, []).signatures_checked is False
    # Without a key the CLI fails closed on an export too, unless told otherwise.
    records[0]["newest_time"] = original
    out.write_text("".join(json.dumps(r) + "\n" for r in records))
    assert cli("audit", "verify", "--export", str(out))[0] == 1
    assert cli("audit", "verify", "--export", str(out), "--no-checkpoints")[0] == 0

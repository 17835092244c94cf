"""The stored log on SQLite: appends, proofs, sharding, retention, export and tampering."""

from __future__ import annotations

import itertools
import json
import sqlite3
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from chainproof.audit import init_log, open_log, record_verdict
from chainproof.audit.checkpoint import open_checkpoint, parse_checkpoint
from chainproof.audit.entries import canonical, verdict_entry
from chainproof.audit.log import AuditLog
from chainproof.audit.merkle import leaf_hash
from chainproof.audit.note import Signer, load_private_key, open_note
from chainproof.audit.verify import verify_bundle, verify_export
from chainproof.errors import IntegrityError, NotFoundError, UsageError
from tests.audit.conftest import T0, make_verdict

ORIGIN = "audit.test/log"


@pytest.fixture
def db(tmp_path: Path) -> str:
    return str(tmp_path / "audit.db")


def _filled(db: str, key: Path, count: int = 19, every: int = 5) -> AuditLog:
    init_log(db, origin=ORIGIN, key_path=str(key), checkpoint_every=every).close()
    for i in range(count):
        record_verdict(db, make_verdict(i, fail=i % 3 == 0), now=T0 + timedelta(minutes=i))
    log = open_log(db)
    log.checkpoint(T0 + timedelta(hours=1))
    return log


def test_entry_format_is_canonical_and_complete(db: str, ed_key: Path) -> None:
    init_log(db, origin=ORIGIN, key_path=str(ed_key)).close()
    index = record_verdict(
        db, make_verdict(7, fail=True), policy_digest="sha256:ab", requester="system:kube", now=T0
    )
    assert index == 1  # entry 0 starts the shard
    with open_log(db) as log:
        shard, leaf, body = log.entry(index)
    entry = json.loads(body)
    assert body == canonical(entry)
    assert entry["kind"] == "admission"
    assert entry["time"] == "2026-01-10T12:00:00.000Z"
    assert entry["image"]["digest"] == f"sha256:{7:064x}"
    assert entry["verdict"] == "fail"
    assert entry["failing"] == [{"id": "integrity.layer", "severity": "high", "status": "fail"}]
    assert entry["policy_digest"] == "sha256:ab"
    assert entry["chainproof_version"]
    assert (shard.origin, leaf) == (f"{ORIGIN}/2026-01", 1)
    start = json.loads(open_log(db).entry(0)[2])
    assert start["kind"] == "shard-start"
    assert start["previous"] is None


def test_clean_log_verifies_and_checkpoints_are_signed(db: str, ed_key: Path) -> None:
    with _filled(db, ed_key) as log:
        report = log.verify(log.trusted_verifiers())
        assert report.ok, report.findings
        assert report.entries == 20
        cps = log.checkpoints(log.shard(None))
        assert [c.size for c in cps] == [5, 10, 15, 20]
        cp = open_checkpoint(cps[-1].note, log.trusted_verifiers())
        assert cp.origin == f"{ORIGIN}/2026-01"
        assert cp.root == log.root(log.shard(None))


def test_ecdsa_key_works_end_to_end(db: str, ec_key: Path) -> None:
    with _filled(db, ec_key) as log:
        assert log.verify(log.trusted_verifiers()).ok
        bundle = log.inclusion_proof(3)
        assert verify_bundle(bundle, log.trusted_verifiers())["leaf_index"] == 3


def test_inclusion_and_consistency_bundles(db: str, ed_key: Path) -> None:
    with _filled(db, ed_key) as log:
        verifiers = log.trusted_verifiers()
        for index in range(20):
            result = verify_bundle(log.inclusion_proof(index), verifiers)
            assert result["index"] == index
        for size1 in range(1, 21):
            result = verify_bundle(log.consistency_proof(size1), verifiers)
            assert (result["size1"], result["size2"]) == (size1, 20)
        signed_old = log.consistency_proof(10)
        assert verify_bundle(signed_old, verifiers)["old_checkpoint_signed"] is True
        bundle = log.inclusion_proof(4)
        bundle["entry"] = bundle["entry"].replace("app:3", "app:Z")
        assert "app:Z" in bundle["entry"]
        with pytest.raises(IntegrityError):
            verify_bundle(bundle, verifiers)


def test_proof_without_checkpoint_or_key_is_a_clear_error(db: str) -> None:
    record_verdict(db, make_verdict(1), now=T0)
    with open_log(db) as log:
        with pytest.raises(NotFoundError, match="no checkpoint covers entry 1"):
            log.inclusion_proof(1)
        with pytest.raises(UsageError, match="signing key"):
            log.checkpoint(T0)


def test_monthly_shards_chain_prune_and_stay_verifiable(db: str, ed_key: Path) -> None:
    init_log(db, origin=ORIGIN, key_path=str(ed_key), checkpoint_every=1000).close()
    indices = [
        record_verdict(db, make_verdict(i), now=T0 + timedelta(days=10 * i)) for i in range(30)
    ]
    assert indices == sorted(indices)
    with open_log(db) as log:
        shards = log.shards()
        assert [s.period for s in shards][:3] == ["2026-01", "2026-02", "2026-03"]
        assert all(s.frozen for s in shards[:-1]) and not shards[-1].frozen
        for a, b in itertools.pairwise(shards):
            assert b.first_index == a.first_index + a.size
            cps = log.checkpoints(a)
            assert cps[-1].size == a.size  # final checkpoint at freeze
        assert log.verify(log.trusted_verifiers()).ok
        now = T0 + timedelta(days=300)
        note, pruned = log.prune(timedelta(days=180), now)
        assert note is not None
        assert [s.period for s in pruned] == ["2026-01", "2026-02", "2026-03", "2026-04"]
        text = open_note(note, log.trusted_verifiers()).text
        assert text.startswith("chainproof.audit/prune/v1\n")
        report = log.verify(log.trusted_verifiers())
        assert report.ok, report.findings
        assert report.prune_records == 1
        # Pruned entries are gone; survivors keep their global numbers.
        with pytest.raises(NotFoundError):
            log.entry(0)
        survivor = log.shards()[0].first_index
        assert json.loads(log.entry(survivor)[2])["previous"]["origin"] == f"{ORIGIN}/2026-04"
        assert log.prune(timedelta(days=180), now)[1] == []  # idempotent


def test_prune_needs_key_and_refuses_tampered_shard(db: str, ed_key: Path) -> None:
    init_log(db, origin=ORIGIN, key_path=str(ed_key)).close()
    for i in range(6):
        record_verdict(db, make_verdict(i), now=T0 + timedelta(days=20 * i))
    with sqlite3.connect(db) as conn:
        body = canonical({**verdict_entry(make_verdict(99), T0)})
        conn.execute("UPDATE audit_entries SET body = ? WHERE shard_id = 1 AND idx = 1", (body,))
    with open_log(db) as log, pytest.raises(IntegrityError, match="refusing to prune"):
        log.prune(timedelta(days=30), T0 + timedelta(days=400))
    with open_log(db, key_path="") as log, pytest.raises(UsageError):
        log.prune(timedelta(days=30), T0 + timedelta(days=400))


def test_export_verifies_offline_and_detects_edit(db: str, ed_key: Path, tmp_path: Path) -> None:
    with _filled(db, ed_key) as log:
        out = tmp_path / "shard.jsonl"
        with out.open("w") as handle:
            for rec in log.export_lines(None):
                handle.write(json.dumps(rec) + "\n")
        verifiers = log.trusted_verifiers()
    report = verify_export(out, verifiers)
    assert report.ok and report.entries == 20 and report.checkpoints == 4
    lines = out.read_text().splitlines()
    lines[8] = lines[8].replace("registry.example", "registry.evil")
    out.write_text("\n".join(lines) + "\n")
    bad = verify_export(out, verifiers)
    assert bad.first is not None
    assert bad.first.kind == "checkpoint-mismatch"
    assert bad.first.index == 5  # entry 7 edited: divergence in the checkpoint span 5..9


def _tamper(db: str, *statements: tuple[str, tuple[object, ...]]) -> None:
    with sqlite3.connect(db) as conn:
        for sql, params in statements:
            conn.execute(sql, params)


def _first(db: str, key: Path) -> tuple[str, int | None]:
    with open_log(db, key_path=str(key)) as log:
        report = log.verify(log.trusted_verifiers())
    assert not report.ok
    first = report.first
    assert first is not None
    return first.kind, first.index


def _body(db: str, idx: int) -> bytes:
    with sqlite3.connect(db) as conn:
        row = conn.execute("SELECT body FROM audit_entries WHERE idx = ?", (idx,)).fetchone()
    return bytes(row[0])


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("edit", ("edited-entry", 7)),
        ("edit-and-rehash-leaf", ("rewritten-hash", 6)),
        ("rewrite-node", ("rewritten-hash", 4)),
        ("delete", ("missing-entry", 9)),
        ("reorder", ("edited-entry", 3)),
        ("truncate", ("truncated", 15)),
        ("forge-checkpoint", ("forged-checkpoint", 9)),
        ("replace-checkpoint-other-key", ("unknown-key", 14)),
        ("non-canonical", ("malformed-entry", 11)),
        ("rewrite-entry-and-whole-tree", ("checkpoint-mismatch", 5)),
    ],
)
def test_tampering_is_detected_at_the_right_index(
    name: str,
    expected: tuple[str, int],
    db: str,
    ed_key: Path,
    other_key: Path,
) -> None:
    _filled(db, ed_key).close()
    edits: dict[str, Callable[[], None]] = {
        "edit": lambda: _tamper(
            db,
            (
                "UPDATE audit_entries SET body = ? WHERE idx = 7",
                (_body(db, 7).replace(b"app:6", b"app:X"),),
            ),
        ),
        "edit-and-rehash-leaf": lambda: _tamper(
            db,
            (
                "UPDATE audit_entries SET body = ? WHERE idx = 7",
                (_body(db, 7).replace(b"app:6", b"app:X"),),
            ),
            (
                "UPDATE audit_nodes SET hash = ? WHERE level = 0 AND idx = 7",
                (leaf_hash(_body(db, 7).replace(b"app:6", b"app:X")),),
            ),
        ),
        "rewrite-node": lambda: _tamper(
            db, ("UPDATE audit_nodes SET hash = ? WHERE level = 2 AND idx = 1", (bytes(32),))
        ),
        "delete": lambda: _tamper(db, ("DELETE FROM audit_entries WHERE idx = 9", ())),
        "reorder": lambda: _tamper(
            db,
            ("UPDATE audit_entries SET body = ? WHERE idx = 3", (_body(db, 4),)),
            ("UPDATE audit_entries SET body = ? WHERE idx = 4", (_body(db, 3),)),
        ),
        "truncate": lambda: _tamper(
            db,
            ("DELETE FROM audit_entries WHERE idx >= 15", ()),
            ("DELETE FROM audit_nodes WHERE ((idx + 1) << level) > 15", ()),
            ("UPDATE audit_shards SET size = 15", ()),
            ("DELETE FROM audit_checkpoints WHERE size > 15 AND size < 20", ()),
        ),
        "forge-checkpoint": lambda: _forge_checkpoint(db, 10),
        "replace-checkpoint-other-key": lambda: _resign_checkpoint(db, 15, other_key),
        "non-canonical": lambda: _rewrite_non_canonical(db, 11),
        "rewrite-entry-and-whole-tree": lambda: _rewrite_tree(db, 7),
    }
    edits[name]()
    assert _first(db, ed_key) == expected


def _forge_checkpoint(db: str, size: int) -> None:
    with sqlite3.connect(db) as conn:
        (note,) = conn.execute(
            "SELECT note FROM audit_checkpoints WHERE size = ?", (size,)
        ).fetchone()
        lines = note.split("\n")
        lines[2] = "A" * 43 + "="
        conn.execute(
            "UPDATE audit_checkpoints SET note = ? WHERE size = ?", ("\n".join(lines), size)
        )


def _resign_checkpoint(db: str, size: int, key: Path) -> None:
    with sqlite3.connect(db) as conn:
        (note,) = conn.execute(
            "SELECT note FROM audit_checkpoints WHERE size = ?", (size,)
        ).fetchone()
        cp, _ = parse_checkpoint(note)
        forged = cp.sign([load_private_key(key, ORIGIN)])
        conn.execute("UPDATE audit_checkpoints SET note = ? WHERE size = ?", (forged, size))


def _rewrite_tree(db: str, idx: int) -> None:
    """The strongest attacker without the key: edit an entry and recompute every hash."""
    from chainproof.audit.merkle import CompactRange

    with sqlite3.connect(db) as conn:
        conn.execute(
            "UPDATE audit_entries SET body = ? WHERE idx = ?",
            (_body(db, idx).replace(b"app:6", b"app:X"), idx),
        )
        bodies = [bytes(b) for (b,) in conn.execute("SELECT body FROM audit_entries ORDER BY idx")]
        conn.execute("DELETE FROM audit_nodes")
        cr = CompactRange()

        def store(level: int, index: int, h: bytes) -> None:
            conn.execute("INSERT INTO audit_nodes VALUES (1, ?, ?, ?)", (level, index, h))

        for body in bodies:
            cr.append(leaf_hash(body), store)


def _rewrite_non_canonical(db: str, idx: int) -> None:
    # Same JSON value, different bytes: the leaf hash is recomputed too, so only the
    # canonical-form rule and the parent hashes can tell.
    body = json.dumps(json.loads(_body(db, idx)), indent=1).encode()
    _tamper(
        db,
        ("UPDATE audit_entries SET body = ? WHERE idx = ?", (body, idx)),
        ("UPDATE audit_nodes SET hash = ? WHERE level = 0 AND idx = ?", (leaf_hash(body), idx)),
    )


def test_deleted_middle_shard_is_detected(db: str, ed_key: Path) -> None:
    init_log(db, origin=ORIGIN, key_path=str(ed_key)).close()
    for i in range(9):
        record_verdict(db, make_verdict(i), now=T0 + timedelta(days=12 * i))
    with open_log(db) as log:
        middle = log.shards()[1]
    _tamper(
        db,
        *(
            (f"DELETE FROM {t} WHERE shard_id = ?", (middle.shard_id,))  # noqa: S608
            for t in ("audit_entries", "audit_nodes", "audit_checkpoints", "audit_shards")
        ),
    )
    assert _first(db, ed_key) == ("missing-entry", middle.first_index)


def test_unknown_verifier_key_reports_every_checkpoint(
    db: str, ed_key: Path, other_key: Path
) -> None:
    with _filled(db, ed_key) as log:
        report = log.verify([Signer(ORIGIN, load_private_key(other_key, ORIGIN).key).verifier])
    assert not report.ok
    assert {f.kind for f in report.findings} == {"unknown-key"}
    assert len(report.findings) == 4


def test_configuration_is_fixed_once_entries_exist(db: str, ed_key: Path) -> None:
    init_log(db, origin=ORIGIN, period="day").close()
    record_verdict(db, make_verdict(1), now=T0)
    with pytest.raises(UsageError, match="origin"):
        init_log(db, origin="audit.test/other")
    with pytest.raises(UsageError, match="period"):
        init_log(db, period="month")
    # The key and checkpoint interval may change at any time.
    with init_log(db, key_path=str(ed_key), checkpoint_every=7) as log:
        assert log.config.checkpoint_every == 7
        assert log.config.key_path == str(ed_key.resolve())
        assert log.config.period == "day"


def test_lagging_clock_never_reopens_a_frozen_shard(db: str, ed_key: Path) -> None:
    init_log(db, origin=ORIGIN, key_path=str(ed_key)).close()
    record_verdict(db, make_verdict(1), now=T0)
    with open_log(db) as log:
        frozen = log.roll(T0 + timedelta(days=40))  # a writer with a February clock
        assert [s.period for s in frozen] == ["2026-01"]
    # A writer still in January appends after the freeze: a new shard, chained, not a reopen.
    index = record_verdict(db, make_verdict(2), now=T0 + timedelta(days=1))
    with open_log(db) as log:
        shards = log.shards()
        assert [s.period for s in shards] == ["2026-01", "2026-01.2"]
        assert shards[0].size == 2 and shards[0].frozen
        assert log.locate(index)[0].origin == f"{ORIGIN}/2026-01.2"
        # Appends from a clock ahead of it then go to the newest shard as usual.
        record_verdict(db, make_verdict(3), now=T0 - timedelta(days=1))
        assert len(log.shards()) == 2
        assert log.verify(log.trusted_verifiers()).ok


def test_empty_log_verifies(db: str, ed_key: Path) -> None:
    with init_log(db, key_path=str(ed_key)) as log:
        report = log.verify(log.trusted_verifiers())
    assert report.ok and report.entries == 0


def test_time_based_checkpoints(db: str, ed_key: Path) -> None:
    init_log(db, key_path=str(ed_key), checkpoint_every=0, checkpoint_seconds=3600).close()
    for minutes in (0, 10, 20, 70, 80):
        record_verdict(db, make_verdict(minutes), now=T0 + timedelta(minutes=minutes))
    with open_log(db) as log:
        sizes = [c.size for c in log.checkpoints(log.shard(None))]
    # First append signs at once; the next signature waits until the hour has passed.
    assert sizes == [2, 5]

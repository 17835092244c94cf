"""ML-DSA-44 checkpoint cosignatures (C2SP tlog-cosignature, signature type 0x06)."""

from __future__ import annotations

import base64
import hashlib
import json
import sqlite3
import struct
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519, mldsa

from chainproof.audit import init_log, open_log, record_verdict
from chainproof.audit.checkpoint import Checkpoint, open_checkpoint, parse_checkpoint
from chainproof.audit.note import (
    SIG_MLDSA44_COSIGNATURE,
    MissingSignatureError,
    NoteSignature,
    SignatureError,
    Signer,
    UnknownKeyError,
    Verifier,
    cosigned_message,
    load_private_key,
    load_verifier,
    parse_note,
    parse_vkey,
)
from chainproof.audit.verify import verify_bundle
from chainproof.errors import InputError, IntegrityError, MalformedError
from tests.audit.conftest import T0, make_verdict, write_key

ORIGIN = "audit.test/pq"
DATA = Path(__file__).parent / "data"


@pytest.fixture
def pq_key(tmp_path: Path) -> Path:
    return write_key(tmp_path / "mldsa44.pem", mldsa.MLDSA44PrivateKey.generate())


def _torchwood() -> tuple[str, str]:
    vkey, note = (DATA / "torchwood-mldsa44.txt").read_text().split("\n", 1)
    return vkey, note


def test_go_torchwood_cosignature_verifies() -> None:
    vkey, note = _torchwood()
    verifier = parse_vkey(vkey)
    assert verifier.post_quantum and verifier.name == "example.com/mldsa-log"
    cp = open_checkpoint(note, [verifier])
    assert (cp.origin, cp.size) == ("example.com/mldsa-log", 1)
    # The root is the RFC 6962 record hash of "testonly" (gentest/mldsa.go).
    assert cp.root == hashlib.sha256(b"\x00testonly").digest()
    assert verifier.vkey("example.com/mldsa-log") == vkey
    # A different size, root or timestamp breaks the cosignature.
    bad_size = note.replace("\n1\n", "\n2\n", 1)
    with pytest.raises(SignatureError):
        open_checkpoint(bad_size, [verifier])
    sig = parse_note(note).signatures[0]
    later = struct.pack(">Q", 1) + sig.signature[8:]
    moved = note.split("\n\n")[0] + "\n\n" + NoteSignature(sig.name, sig.key_id, later).line()
    with pytest.raises(SignatureError):
        open_checkpoint(moved, [verifier])


def test_cosigned_message_layout() -> None:
    root = bytes(range(32))
    text = Checkpoint("example.com/log", 20852163, root).body()
    msg = cosigned_message("w.example/1", 1679315147, text)
    assert msg == (
        b"subtree/v1\n\x00"
        + bytes([11])
        + b"w.example/1"
        + struct.pack(">Q", 1679315147)
        + bytes([15])
        + b"example.com/log"
        + struct.pack(">QQ", 0, 20852163)
        + root
    )
    assert cosigned_message("x" * 256, 0, text) is None
    assert cosigned_message("n", 1 << 63, text) is None
    assert cosigned_message("n", 0, "not a checkpoint\n") is None


def test_key_id_and_vkey_use_type_0x06(pq_key: Path) -> None:
    signer = load_private_key(pq_key, ORIGIN, post_quantum=True)
    assert isinstance(signer.key, mldsa.MLDSA44PrivateKey)
    raw = signer.key.public_key().public_bytes_raw()
    sig = signer.sign(Checkpoint(f"{ORIGIN}/2026-01", 3, b"\x01" * 32).body(), 1700000000)
    expected = hashlib.sha256(ORIGIN.encode() + b"\n\x06" + raw).digest()[:4]
    assert struct.pack(">I", sig.key_id) == expected
    assert len(sig.signature) == 8 + 2420
    assert struct.unpack(">Q", sig.signature[:8])[0] == 1700000000
    vkey = signer.verifier.vkey(ORIGIN)
    blob = base64.b64decode(vkey.split("+", 2)[2])
    assert blob[0] == SIG_MLDSA44_COSIGNATURE and blob[1:] == raw
    assert parse_vkey(vkey).key.public_bytes_raw() == raw  # type: ignore[union-attr]
    # A PEM public or private ML-DSA-44 key loads as a verifier too.
    assert load_verifier(str(pq_key)).post_quantum
    with pytest.raises(InputError, match="only Ed25519 and ECDSA"):
        load_private_key(pq_key, ORIGIN)
    ed = write_key(pq_key.with_name("ed.pem"), ed25519.Ed25519PrivateKey.generate())
    with pytest.raises(InputError, match="must be ML-DSA-44"):
        load_private_key(ed, ORIGIN, post_quantum=True)


def _log(db: str, ed_key: Path, pq_key: Path, count: int = 12) -> None:
    init_log(
        db, origin=ORIGIN, key_path=str(ed_key), cosign_key_path=str(pq_key), checkpoint_every=4
    ).close()
    for i in range(count):
        record_verdict(db, make_verdict(i), now=T0 + timedelta(minutes=i))


def _keys(ed_key: Path, pq_key: Path) -> list[Verifier]:
    return [
        load_private_key(ed_key, ORIGIN).verifier,
        load_private_key(pq_key, ORIGIN, post_quantum=True).verifier,
    ]


def test_every_checkpoint_carries_both_signatures(
    tmp_path: Path, ed_key: Path, pq_key: Path
) -> None:
    db = str(tmp_path / "a.db")
    _log(db, ed_key, pq_key)
    with open_log(db) as log:
        assert log.cosigner is not None
        cps = log.checkpoints(log.shards()[0])
        assert [c.size for c in cps] == [4, 8, 12]
        for cp in cps:
            sigs = parse_checkpoint(cp.note)[1].signatures
            assert [s.name for s in sigs] == [ORIGIN, ORIGIN]
            assert len(sigs[1].signature) == 8 + 2420
            assert sigs[0].key_id != sigs[1].key_id
        report = log.verify(_keys(ed_key, pq_key))
        assert report.ok and report.checkpoints == 3, report.findings
        bundle = log.inclusion_proof(5)
    # A proof verifies with the classic key, the PQ key alone, or both.
    ed_v, pq_v = _keys(ed_key, pq_key)
    for keys in ([ed_v], [pq_v], [ed_v, pq_v]):
        assert verify_bundle(bundle, keys)["leaf_index"] == 5


def _rewrite_note(db: str, size: int, edit: Callable[[str], str]) -> None:
    with sqlite3.connect(db) as conn:
        (note,) = conn.execute(
            "SELECT note FROM audit_checkpoints WHERE size = ?", (size,)
        ).fetchone()
        conn.execute("UPDATE audit_checkpoints SET note = ? WHERE size = ?", (edit(note), size))


def _strip_cosignature(note: str) -> str:
    return "".join(note.splitlines(keepends=True)[:-1])


def _forge_cosignature(note: str) -> str:
    lines = note.splitlines(keepends=True)
    parsed = parse_note(note)
    sig = parsed.signatures[1]
    flipped = sig.signature[:20] + bytes([sig.signature[20] ^ 1]) + sig.signature[21:]
    return "".join(lines[:-1]) + NoteSignature(sig.name, sig.key_id, flipped).line()


def _other_cosigner(note: str) -> str:
    other = Signer(ORIGIN, mldsa.MLDSA44PrivateKey.generate())
    text = parse_note(note).text
    return _strip_cosignature(note) + other.sign(text, 1).line()


@pytest.mark.parametrize(
    ("edit", "kind"),
    [
        (_strip_cosignature, "missing-cosignature"),
        (_forge_cosignature, "forged-checkpoint"),
        (_other_cosigner, "missing-cosignature"),
    ],
)
def test_cosignature_tampering_is_detected(
    tmp_path: Path, ed_key: Path, pq_key: Path, edit: Callable[[str], str], kind: str
) -> None:
    db = str(tmp_path / "a.db")
    _log(db, ed_key, pq_key)
    _rewrite_note(db, 8, edit)
    with open_log(db, key_path="", cosign_key_path="") as log:
        report = log.verify(_keys(ed_key, pq_key))
        assert report.first is not None
        assert (report.first.kind, report.first.index) == (kind, 7)
        assert len(report.findings) == 1
        if kind == "missing-cosignature":
            # Not required by whoever trusts only the classic key (signed-note semantics).
            assert log.verify(_keys(ed_key, pq_key)[:1]).ok


def test_stripped_signatures_fail_a_proof(tmp_path: Path, ed_key: Path, pq_key: Path) -> None:
    db = str(tmp_path / "a.db")
    _log(db, ed_key, pq_key)
    with open_log(db) as log:
        bundle = log.inclusion_proof(2)
    note = bundle["checkpoint"]
    bundle["checkpoint"] = _strip_cosignature(note)
    with pytest.raises(MissingSignatureError, match="lacks the ML-DSA-44 cosignature"):
        verify_bundle(bundle, _keys(ed_key, pq_key))
    with pytest.raises(UnknownKeyError):
        verify_bundle(bundle, _keys(ed_key, pq_key)[1:])
    # The classic signature removed instead: required as soon as a classic key is trusted.
    lines = note.splitlines(keepends=True)
    bundle["checkpoint"] = "".join(lines[:-2] + lines[-1:])
    with pytest.raises(MissingSignatureError, match="lacks the Ed25519/ECDSA signature"):
        verify_bundle(bundle, _keys(ed_key, pq_key))
    assert verify_bundle(bundle, _keys(ed_key, pq_key)[1:])["type"] == "inclusion"


def test_cli_keygen_init_and_verify_with_cosignature(
    tmp_path: Path, cli: Callable[..., tuple[int, str, str]]
) -> None:
    db = str(tmp_path / "a.db")
    ed, pq = tmp_path / "ck.pem", tmp_path / "pq.pem"
    assert cli("audit", "keygen", "-o", str(ed))[0] == 0
    code, out, _ = cli("audit", "keygen", "--algorithm", "mldsa-44", "-o", str(pq))
    assert code == 0 and "mldsa-44" in out
    assert pq.stat().st_mode & 0o777 == 0o600
    assert cli("audit", "keygen", "-o", str(pq))[0] == 2  # never overwrites a key
    code, out, _ = cli(
        "audit", "init", "--log", db, "--origin", ORIGIN, "--key", str(ed),
        "--cosign-key", str(pq), "--format", "json",
    )  # fmt: skip
    assert code == 0
    info = json.loads(out)
    assert parse_vkey(info["cosign_vkey"]).post_quantum
    record_verdict(db, make_verdict(1), now=T0)
    assert cli("audit", "checkpoint", "--log", db)[0] == 0
    pub = ["--key", f"{ed}.pub", "--key", info["cosign_vkey"]]
    code, out, _ = cli("audit", "verify", "--log", db, *pub)
    assert code == 0 and "OK" in out
    _rewrite_note(db, 2, _strip_cosignature)
    code, out, _ = cli("audit", "verify", "--log", db, *pub)
    assert code == 1 and "missing-cosignature" in out
    # A cosignature key without a checkpoint key is refused.
    code, _, err = cli("audit", "init", "--log", str(tmp_path / "b.db"), "--cosign-key", str(pq))
    assert code == 2 and "needs a checkpoint key" in err


def test_cli_keygen_installs_keys_in_a_log(
    tmp_path: Path, cli: Callable[..., tuple[int, str, str]]
) -> None:
    db = str(tmp_path / "a.db")
    assert cli("audit", "init", "--log", db, "--origin", ORIGIN)[0] == 0
    code, out, _ = cli("audit", "keygen", "--log", db, "-o", str(tmp_path / "k.pem"))
    assert code == 0 and f"{ORIGIN} checkpoint key: {ORIGIN}+" in out
    code, out, _ = cli(
        "audit", "keygen", "--log", db, "--algorithm", "mldsa-44", "-o", str(tmp_path / "q.pem"),
        "--format", "json",
    )  # fmt: skip
    assert code == 0 and parse_vkey(json.loads(out)["vkey"]).post_quantum
    record_verdict(db, make_verdict(1), now=T0)
    with open_log(db) as log:
        note = log.checkpoint(T0)
        assert len(parse_note(note).signatures) == 2
        assert log.verify(log.trusted_verifiers()).ok


@pytest.mark.integration
def test_postgres_cosigned_log_and_stripped_cosignature(
    pg_url: str, ed_key: Path, pq_key: Path
) -> None:
    import psycopg

    _log(pg_url, ed_key, pq_key, count=9)
    with open_log(pg_url) as log:
        assert log.verify(_keys(ed_key, pq_key)).checkpoints == 2
    with psycopg.connect(pg_url, autocommit=True) as conn:
        row = conn.execute("SELECT note FROM audit_checkpoints WHERE size = 4").fetchone()
        assert row is not None
        conn.execute(
            "UPDATE audit_checkpoints SET note = %s WHERE size = 4",
            (_strip_cosignature(row[0]),),
        )
    with open_log(pg_url) as log:
        report = log.verify(_keys(ed_key, pq_key))
    assert report.first is not None
    assert (report.first.kind, report.first.index) == ("missing-cosignature", 3)


def test_long_vkey_without_slashes_loads() -> None:
    # A vkey is tried as a file name first; ~1,800 characters must not raise ENAMETOOLONG.
    vkey, _ = _torchwood()
    name, key_id, _ = vkey.split("+", 2)
    assert load_verifier(vkey).post_quantum
    padded = f"{name}+{key_id}+" + "A" * 2000
    with pytest.raises(MalformedError):
        load_verifier(padded)


def test_cosignature_key_added_later(tmp_path: Path, ed_key: Path, pq_key: Path) -> None:
    db = str(tmp_path / "a.db")
    init_log(db, origin=ORIGIN, key_path=str(ed_key)).close()
    for i in range(4):
        record_verdict(db, make_verdict(i), now=T0 + timedelta(days=20 * i))
    init_log(db, cosign_key_path=str(pq_key)).close()
    record_verdict(db, make_verdict(9), now=T0 + timedelta(days=100))
    with open_log(db) as log:
        report = log.verify(_keys(ed_key, pq_key))
        kinds = {f.kind for f in report.findings}
        assert kinds == {"missing-cosignature"}  # the January/February final checkpoints
        assert log.verify(_keys(ed_key, pq_key)[:1]).ok
        with pytest.raises(IntegrityError, match=r"refusing to prune .*lacks the ML-DSA-44"):
            log.prune(timedelta(days=30), T0 + timedelta(days=120))

"""``chainproof audit …`` through the real entry point: output, exit codes, one-line errors."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from chainproof.audit import record_verdict
from chainproof.audit.note import load_private_key
from tests.audit.conftest import T0, make_verdict

Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def log(tmp_path: Path, ed_key: Path, cli: Run) -> str:
    spec = str(tmp_path / "audit.db")
    code, out, _ = cli(
        "audit",
        "init",
        "--log",
        spec,
        "--origin",
        "audit.test/cli",
        "--key",
        str(ed_key),
        "--checkpoint-every",
        "4",
    )
    assert code == 0 and "audit.test/cli+" in out  # prints the vkey to hand to auditors
    for i in range(10):
        record_verdict(spec, make_verdict(i), now=T0 + timedelta(minutes=i))
    return spec


@pytest.fixture
def pubkey(tmp_path: Path, ed_key: Path) -> Path:
    key = load_private_key(ed_key, "x").key.public_key()
    path = tmp_path / "pub.pem"
    path.write_bytes(
        key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return path


def _one_line_error(err: str, match: str) -> None:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("chainproof: error: ")
    assert match in lines[0], lines[0]


def test_verify_show_checkpoint(cli: Run, log: str, pubkey: Path) -> None:
    code, out, _ = cli("audit", "checkpoint", "--log", log)
    assert code == 0 and out.startswith("audit.test/cli/2026-01\n11\n")
    code, out, _ = cli("audit", "verify", "--log", log, "--key", str(pubkey))
    assert code == 0 and "OK: 1 shard(s), 11 entries" in out
    code, out, _ = cli("audit", "verify", "--log", log, "--format", "json")
    assert code == 0 and json.loads(out)["ok"] is True
    code, out, _ = cli("audit", "show", "--log", log, "--format", "json")
    shard = json.loads(out)["shards"][0]
    assert (shard["size"], shard["latest_checkpoint"]["size"]) == (11, 11)
    code, out, _ = cli("audit", "show", "--log", log, "--entry", "3", "--format", "json")
    assert json.loads(out)["entry"]["image"]["reference"] == "registry.example/app:2"


def test_verify_reports_tampering_with_exit_1(cli: Run, log: str) -> None:
    cli("audit", "checkpoint", "--log", log)
    with sqlite3.connect(log) as conn:
        conn.execute("DELETE FROM audit_entries WHERE idx = 6")
    code, out, _ = cli("audit", "verify", "--log", log)
    assert code == 1
    assert "first divergence at entry 6 (missing-entry)" in out
    code, out, _ = cli("audit", "verify", "--log", log, "--format", "json")
    assert json.loads(out)["first_divergence"]["index"] == 6


def test_proof_round_trip_and_bad_proofs(
    cli: Run, log: str, pubkey: Path, other_key: Path, tmp_path: Path
) -> None:
    proof = tmp_path / "p.json"
    code, _, _ = cli("audit", "proof", "--log", log, "--entry", "5", "-o", str(proof))
    assert code == 0
    code, out, _ = cli("audit", "verify", "--proof", str(proof), "--key", str(pubkey))
    assert code == 0 and "entry 5 is leaf 5" in out
    bundle = json.loads(proof.read_text())

    def check(mutated: dict[str, object], key: Path, want: int, match: str) -> None:
        proof.write_text(json.dumps(mutated))
        code, _, err = cli("audit", "verify", "--proof", str(proof), "--key", str(key))
        assert code == want, err
        _one_line_error(err, match)

    check({**bundle, "hashes": bundle["hashes"][:-1]}, pubkey, 2, "inclusion proof has")
    check({**bundle, "checkpoint": "garbage\n"}, pubkey, 2, "checkpoint")
    check(
        {**bundle, "checkpoint": bundle["checkpoint"].replace("\n\n", "\n")},
        pubkey,
        2,
        "blank line",
    )
    check(bundle, other_key, 2, "unknown keys")
    flipped = bundle["hashes"][0][:-2] + ("A=" if not bundle["hashes"][0].endswith("A=") else "Q=")
    check({**bundle, "hashes": [flipped, *bundle["hashes"][1:]]}, pubkey, 1, "leads to root")

    code, out, _ = cli("audit", "proof", "--log", log, "--from", "3")
    assert code == 0
    proof.write_text(out)
    code, out, _ = cli("audit", "verify", "--proof", str(proof), "--key", str(pubkey))
    assert code == 0 and "size 3 is a prefix" in out


def test_export_and_prune(cli: Run, tmp_path: Path, ed_key: Path, pubkey: Path) -> None:
    spec = str(tmp_path / "old.db")
    cli("audit", "init", "--log", spec, "--key", str(ed_key))
    for i in range(4):
        record_verdict(spec, make_verdict(i), now=T0 - timedelta(days=400 - 40 * i))
    record_verdict(spec, make_verdict(9))  # now: keeps the current shard open
    out = tmp_path / "shard.jsonl"
    code, _, _ = cli("audit", "export", "--log", spec, "--shard", "2024-12", "-o", str(out))
    assert code == 0
    code, text, _ = cli("audit", "verify", "--export", str(out), "--key", str(pubkey))
    assert code == 0 and "OK" in text
    code, text, _ = cli("audit", "prune", "--log", spec, "--older-than", "180d", "--dry-run")
    assert code == 0 and "would prune" in text
    code, text, _ = cli("audit", "prune", "--log", spec, "--older-than", "180d", "--format", "json")
    data = json.loads(text)
    assert code == 0 and len(data["pruned"]) == 4 and "prune/v1" in data["record"]
    code, text, _ = cli("audit", "verify", "--log", spec, "--key", str(pubkey))
    assert code == 0 and "1 prune record(s)" in text


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (("audit", "show", "--log", "/nonexistent/audit.db"), "does not exist"),
        (("audit", "prune", "--log", "{log}", "--older-than", "half a year"), "duration"),
        (("audit", "verify", "--proof", "/nonexistent.json", "--key", "{key}"), "no such file"),
        (("audit", "verify", "--log", "{log}", "--key", "nobody+deadbeef+AAAA"), "not supported"),
        (("audit", "show", "--log", "{log}", "--entry", "999"), "not in the log"),
        (("audit", "verify", "--log", "{log}", "--proof", "x"), "exactly one"),
        (("audit", "init", "--log", "{log}", "--key", "/nonexistent.pem"), "no such file"),
    ],
)
def test_bad_input_is_one_line_exit_2(
    cli: Run, log: str, pubkey: Path, args: tuple[str, ...], match: str
) -> None:
    argv = [a.format(log=log, key=pubkey) for a in args]
    code, _, err = cli(*argv)
    assert code == 2
    _one_line_error(err, match)


def test_not_an_audit_log(cli: Run, tmp_path: Path) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not sqlite" * 100)
    code, _, err = cli("audit", "verify", "--log", str(junk))
    assert code == 2
    _one_line_error(err, "junk.db")


def test_auditor_without_private_key_uses_printed_vkey(
    cli: Run, tmp_path: Path, ed_key: Path
) -> None:
    spec = str(tmp_path / "a.db")
    code, out, _ = cli("audit", "init", "--log", spec, "--key", str(ed_key), "--format", "json")
    vkey = json.loads(out)["vkey"]
    record_verdict(spec, make_verdict(1))
    cli("audit", "checkpoint", "--log", spec)
    proof = tmp_path / "p.json"
    assert cli("audit", "proof", "--log", spec, "--entry", "1", "-o", str(proof))[0] == 0
    ed_key.unlink()  # the auditor has the log and the vkey, never the private key
    code, out, _ = cli("audit", "verify", "--log", spec, "--key", vkey)
    assert code == 0 and "OK" in out
    code, out, _ = cli("audit", "verify", "--proof", str(proof), "--key", vkey)
    assert code == 0 and "entry 1 is leaf 1" in out
    code, out, _ = cli("audit", "show", "--log", spec)
    assert code == 0
    code, _, err = cli("audit", "checkpoint", "--log", spec)
    assert code == 2 and "no such file" in err

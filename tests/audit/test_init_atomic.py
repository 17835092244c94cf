"""A failed ``audit init`` leaves nothing behind, and a failed reconfiguration changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519, mldsa

from chainproof.audit.storage import open_store
from tests.audit.conftest import write_key

Cli = Callable[..., tuple[int, str, str]]


def _meta(spec: str) -> dict[str, str]:
    store = open_store(spec, create=True)
    try:
        return store.get_meta()
    finally:
        store.close()


@pytest.fixture
def pq_key(tmp_path: Path) -> Path:
    return write_key(tmp_path / "pq.pem", mldsa.MLDSA44PrivateKey.generate())


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--key", "{dir}/absent.pem"], "no such file"),
        (["--key", "{pq}"], "only Ed25519 and ECDSA"),  # an ML-DSA key cannot sign checkpoints
        (["--cosign-key", "{pq}"], "needs a checkpoint key"),
        (["--key", "{ed}", "--cosign-key", "{ed}"], "must be ML-DSA-44"),
        (["--checkpoint-interval", "soon"], "duration"),
    ],
)
def test_failed_init_leaves_no_file_and_can_be_retried(
    cli: Cli, tmp_path: Path, ed_key: Path, *, pq_key: Path, extra: list[str], message: str
) -> None:
    log = tmp_path / "audit.db"
    args = [a.format(dir=tmp_path, pq=pq_key, ed=ed_key) for a in extra]
    code, _, err = cli("audit", "init", "--log", str(log), *args)
    assert code == 2 and message in err, err
    assert not log.exists()
    assert not list(tmp_path.glob("audit.db*")), "SQLite companions left behind"
    code, out, err = cli("audit", "init", "--log", str(log), "--key", str(ed_key))
    assert code == 0, err
    assert "checkpoint key" in out


def test_failed_reconfiguration_keeps_the_log_as_it_was(
    cli: Cli, tmp_path: Path, ed_key: Path, pq_key: Path
) -> None:
    log = tmp_path / "audit.db"
    assert cli("audit", "init", "--log", str(log), "--key", str(ed_key))[0] == 0
    before = _meta(str(log))
    code, _, err = cli("audit", "init", "--log", str(log), "--cosign-key", str(ed_key))
    assert code == 2 and "must be ML-DSA-44" in err
    assert _meta(str(log)) == before
    assert cli("audit", "init", "--log", str(log), "--cosign-key", str(pq_key))[0] == 0


def test_failed_postgres_init_writes_no_configuration(
    cli: Cli, pg_url: str, tmp_path: Path
) -> None:
    bad = write_key(tmp_path / "pq-as-signer.pem", mldsa.MLDSA44PrivateKey.generate())
    code, _, err = cli("audit", "init", "--log", pg_url, "--key", str(bad))
    assert code == 2 and "only Ed25519 and ECDSA" in err
    assert _meta(pg_url) == {}, "a failed init committed a configuration"
    good = write_key(tmp_path / "ed.pem", ed25519.Ed25519PrivateKey.generate())
    assert cli("audit", "init", "--log", pg_url, "--key", str(good))[0] == 0


def test_audit_keygen_writes_both_files_or_neither(cli: Cli, tmp_path: Path) -> None:
    key = tmp_path / "audit.pem"
    (tmp_path / "audit.pem.pub").write_bytes(b"not ours")
    code, _, err = cli("audit", "keygen", "-o", str(key))
    assert code == 2 and "refusing to overwrite a key" in err
    assert not key.exists()
    (tmp_path / "audit.pem.pub").unlink()
    assert cli("audit", "keygen", "-o", str(key))[0] == 0
    assert key.stat().st_mode & 0o077 == 0 and (tmp_path / "audit.pem.pub").is_file()


def test_failed_export_leaves_no_file(cli: Cli, tmp_path: Path, ed_key: Path) -> None:
    log = tmp_path / "audit.db"
    assert cli("audit", "init", "--log", str(log), "--key", str(ed_key))[0] == 0
    out = tmp_path / "shard.jsonl"
    code, _, err = cli("audit", "export", "--log", str(log), "--shard", "nope", "-o", str(out))
    assert code == 2, err
    assert not out.exists() and not list(tmp_path.glob(".shard.jsonl*"))

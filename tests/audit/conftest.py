"""Audit-log fixtures: keys, verdicts, a CLI runner, and a real PostgreSQL server."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, mldsa

from chainproof.checks.interface import CheckResult, Severity, Status
from chainproof.cli import main as cli_main
from chainproof.report.verdict import ImageIdentity, Verdict
from tests.audit import _pgserver

T0 = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)


def write_key(
    path: Path,
    key: ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey | mldsa.MLDSA44PrivateKey,
) -> Path:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return path


@pytest.fixture
def ed_key(tmp_path: Path) -> Path:
    return write_key(tmp_path / "ed25519.pem", ed25519.Ed25519PrivateKey.generate())


@pytest.fixture
def ec_key(tmp_path: Path) -> Path:
    return write_key(tmp_path / "p256.pem", ec.generate_private_key(ec.SECP256R1()))


@pytest.fixture
def other_key(tmp_path: Path) -> Path:
    return write_key(tmp_path / "other.pem", ed25519.Ed25519PrivateKey.generate())


def make_verdict(n: int, *, fail: bool = False) -> Verdict:
    status = Status.FAIL if fail else Status.PASS
    return Verdict(
        ImageIdentity(
            f"registry.example/app:{n}", f"sha256:{n:064x}", "windows/amd64", "10.0.20348.2700"
        ),
        (CheckResult("integrity.layer", status, Severity.HIGH, f"layer check {n}"),),
    )


@pytest.fixture
def cli(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Callable[..., tuple[int, str, str]]:
    """Run ``chainproof ARGS`` in-process through the real main(); (code, stdout, stderr)."""
    del monkeypatch

    def run(*args: str) -> tuple[int, str, str]:
        code = cli_main.main(list(args))
        out, err = capsys.readouterr()
        return code, out, err

    return run


# ----------------------------------------------------------------------- PostgreSQL


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[_pgserver.Server]:
    pytest.importorskip("psycopg")
    try:
        server = _pgserver.Server()
    except _pgserver.Unavailable as exc:
        pytest.skip(str(exc))
    except RuntimeError as exc:
        pytest.fail(str(exc))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def pg_url(postgres_server: _pgserver.Server) -> str:
    return postgres_server.new_database()

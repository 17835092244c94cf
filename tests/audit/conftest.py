"""Audit-log fixtures: keys, verdicts, a CLI runner, and a real PostgreSQL server."""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from chainproof.checks.interface import CheckResult, Severity, Status
from chainproof.cli import main as cli_main
from chainproof.verdict import ImageIdentity, Verdict

T0 = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)


def write_key(path: Path, key: ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey) -> Path:
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
    # Other commands are merged from other branches; this one is what we test.
    monkeypatch.setattr(cli_main, "COMMAND_MODULES", ("chainproof.cli.audit_cmd",))

    def run(*args: str) -> tuple[int, str, str]:
        code = cli_main.main(list(args))
        out, err = capsys.readouterr()
        return code, out, err

    return run


# ----------------------------------------------------------------------- PostgreSQL


def _pg_binary(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = [Path("/usr/local/bin") / name]
    candidates += sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), reverse=True)
    for c in candidates:
        if c.is_file() and os.access(c, os.X_OK):
            return str(c)
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _unprivileged() -> pwd.struct_passwd | None:
    """initdb and postgres refuse to run as root: pick an existing unprivileged account."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name)
    pytest.skip("running as root and no 'postgres' or 'nobody' account to run PostgreSQL as")


class PostgresServer:
    def __init__(self, base: Path, port: int, proc: subprocess.Popen[bytes]) -> None:
        self.base = base
        self.port = port
        self.proc = proc
        self._n = 0

    def url(self, db: str = "postgres") -> str:
        return f"postgresql://chainproof@127.0.0.1:{self.port}/{db}"

    def new_database(self) -> str:
        import psycopg

        self._n += 1
        name = f"audit_{self._n}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return self.url(name)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    pytest.importorskip("psycopg")
    import psycopg

    initdb, postgres = _pg_binary("initdb"), _pg_binary("postgres")
    if not initdb or not postgres:
        pytest.skip("PostgreSQL server binaries not found (Debian package 'postgresql')")
    account = _unprivileged()
    # Not under pytest's tmp dir: that is 0700 root-owned, so the server account could not
    # reach it. /tmp is world-traversable; the data dir itself stays private to the account.
    base = Path(tempfile.mkdtemp(prefix="chainproof-pg-"))
    kwargs: dict[str, object] = {}
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C", "LANG": "C"}
    if account is not None:
        os.chown(base, account.pw_uid, account.pw_gid)
        kwargs = {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}
        env["HOME"] = str(base)
    data = base / "data"
    init = subprocess.run(
        [
            initdb,
            "-D",
            str(data),
            "-A",
            "trust",
            "-U",
            "chainproof",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        ],
        capture_output=True,
        env=env,
        check=False,
        **kwargs,  # type: ignore[call-overload]
    )
    if init.returncode != 0:
        shutil.rmtree(base, ignore_errors=True)
        pytest.fail(f"initdb failed: {init.stderr.decode(errors='replace')[-2000:]}")
    port = _free_port()
    log = (base / "server.log").open("wb")
    if account is not None:
        os.chown(base / "server.log", account.pw_uid, account.pw_gid)
    proc = subprocess.Popen(
        [
            postgres,
            "-D",
            str(data),
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
            "-k",
            str(base),
            "-c",
            "fsync=off",
            "-c",
            "max_connections=60",
            "-c",
            "shared_buffers=16MB",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
        **kwargs,  # type: ignore[call-overload]
    )
    server = PostgresServer(base, port, proc)
    deadline = time.monotonic() + 60
    while True:
        try:
            psycopg.connect(server.url(), connect_timeout=2).close()
            break
        except psycopg.OperationalError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                text = (base / "server.log").read_text(errors="replace")[-2000:]
                shutil.rmtree(base, ignore_errors=True)
                pytest.fail(f"postgres did not start: {text}")
            time.sleep(0.2)
    try:
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def pg_url(postgres_server: PostgresServer) -> str:
    return postgres_server.new_database()

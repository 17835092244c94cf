"""Start a throw-away PostgreSQL server on a loopback port (tests and bench/audit.py).

Robust on a fresh Debian CI machine running as root: the server binaries refuse to run as
root, so they run as the ``postgres`` account (created by Debian's package) or ``nobody``.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any


class Unavailable(Exception):
    """No PostgreSQL server binaries (or no account to run them as) on this machine."""


def binary(name: str) -> str | None:
    """PATH first, then /usr/local/bin, then Debian's /usr/lib/postgresql/<ver>/bin."""
    found = shutil.which(name)
    if found:
        return found
    candidates = [Path("/usr/local/bin") / name]
    candidates += sorted(
        Path("/usr/lib/postgresql").glob(f"*/bin/{name}"),
        key=lambda p: int(p.parts[-3]) if p.parts[-3].isdigit() else 0,
        reverse=True,
    )
    for c in candidates:
        if c.is_file() and os.access(c, os.X_OK):
            return str(c)
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _account() -> pwd.struct_passwd | None:
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name)
    raise Unavailable("running as root and no 'postgres' or 'nobody' account to run PostgreSQL")


class Server:
    def __init__(self) -> None:
        initdb, postgres = binary("initdb"), binary("postgres")
        if not initdb or not postgres:
            raise Unavailable("PostgreSQL server binaries not found (Debian package 'postgresql')")
        account = _account()
        # Not under pytest's tmp dir: that is 0700 and root-owned, unreachable for the server
        # account. /tmp is world-traversable; the data dir stays private to the account.
        self.base = Path(tempfile.mkdtemp(prefix="chainproof-pg-"))
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C", "LANG": "C"}
        as_user: dict[str, Any] = {}
        if account is not None:
            os.chown(self.base, account.pw_uid, account.pw_gid)
            as_user = {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}
            env["HOME"] = str(self.base)
        data = self.base / "data"
        init = subprocess.run(
            [initdb, "-D", str(data), "-A", "trust", "-U", "chainproof", "-E", "UTF8",
             "--locale=C", "--no-sync"],
            capture_output=True, env=env, check=False, **as_user,
        )  # fmt: skip
        if init.returncode != 0:
            self._remove()
            raise RuntimeError(f"initdb failed: {init.stderr.decode(errors='replace')[-1500:]}")
        self.port = _free_port()
        self._log = (self.base / "server.log").open("wb")
        self.proc = subprocess.Popen(
            [postgres, "-D", str(data), "-h", "127.0.0.1", "-p", str(self.port),
             "-k", str(self.base), "-c", "fsync=off", "-c", "max_connections=60",
             "-c", "shared_buffers=32MB"],
            stdout=self._log, stderr=subprocess.STDOUT, env=env, **as_user,
        )  # fmt: skip
        self._n = 0
        self._wait_ready()

    def _wait_ready(self) -> None:
        import psycopg

        deadline = time.monotonic() + 60
        while True:
            try:
                psycopg.connect(self.url(), connect_timeout=2).close()
                return
            except psycopg.OperationalError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    text = (self.base / "server.log").read_text(errors="replace")[-1500:]
                    self.stop()
                    raise RuntimeError(f"postgres did not start: {text}") from None
                time.sleep(0.2)

    def url(self, db: str = "postgres") -> str:
        return f"postgresql://chainproof@127.0.0.1:{self.port}/{db}"

    def new_database(self) -> str:
        import psycopg

        self._n += 1
        name = f"audit_{self._n}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def stop(self) -> None:
        if self.proc.poll() is None:
            # SIGINT is PostgreSQL's "fast" shutdown: it does not wait for clients to leave.
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
        self._remove()

    def _remove(self) -> None:
        shutil.rmtree(self.base, ignore_errors=True)

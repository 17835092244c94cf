"""The shared file helpers: bounded reads of user-named files, all-or-nothing writes."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest

from chainproof._files import creating, read_bounded, write_atomic, write_new_files
from chainproof.errors import InputError, MalformedError, NotFoundError, UsageError


def test_reads_a_regular_file_up_to_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "key.pem"
    path.write_bytes(b"x" * 10)
    assert read_bounded(path, "key file", 10) == b"x" * 10
    with pytest.raises(MalformedError, match=r"key file .* exceeds the 9-byte limit"):
        read_bounded(path, "key file", 9)


def test_missing_directory_and_unreadable(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="no such file"):
        read_bounded(tmp_path / "absent", "trust policy", 100)
    with pytest.raises(InputError, match="is a directory"):
        read_bounded(tmp_path, "trust policy", 100)
    secret = tmp_path / "secret"
    secret.write_bytes(b"s")
    secret.chmod(0)
    if os.geteuid() != 0:  # root reads anything
        with pytest.raises(InputError, match="cannot read"):
            read_bounded(secret, "key file", 100)


def test_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    outcome: list[BaseException] = []

    def attempt() -> None:
        try:
            read_bounded(fifo, "predicate", 100)
        except InputError as exc:
            outcome.append(exc)

    reader = threading.Thread(target=attempt, daemon=True)
    reader.start()
    reader.join(timeout=10)
    assert not reader.is_alive(), "reading a FIFO blocked"
    assert outcome and "is a FIFO, not a regular file" in str(outcome[0])


def test_a_device_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="character device"):
        read_bounded("/dev/zero", "Dockerfile", 100)


def test_write_atomic_sets_the_mode_and_leaves_no_temporary(tmp_path: Path) -> None:
    path = tmp_path / "out.json"
    path.write_bytes(b"old")
    write_atomic(path, b"new", mode=0o600)
    assert path.read_bytes() == b"new"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]
    with pytest.raises(FileNotFoundError):
        write_atomic(tmp_path / "missing-dir" / "x", b"data")
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]


def test_write_new_files_is_all_or_nothing(tmp_path: Path) -> None:
    first, second = tmp_path / "a.key", tmp_path / "a.pub"
    second.write_bytes(b"someone else's")
    with pytest.raises(UsageError, match="exists"):
        write_new_files({first: (b"k", 0o600), second: (b"p", 0o644)})
    assert not first.exists() and second.read_bytes() == b"someone else's"
    second.unlink()
    blocked = tmp_path / "dir"
    blocked.mkdir()
    with pytest.raises(InputError, match="cannot write"):
        # The second target is a directory: the first, already written, is removed again.
        write_new_files({first: (b"k", 0o600), blocked: (b"p", 0o644)}, force=True)
    assert not first.exists()
    write_new_files({first: (b"k", 0o600), second: (b"p", 0o644)})
    assert stat.S_IMODE(first.stat().st_mode) == 0o600 and second.read_bytes() == b"p"


def test_creating_removes_a_failed_store_but_never_an_existing_one(tmp_path: Path) -> None:
    store = tmp_path / "audit.db"
    with pytest.raises(RuntimeError), creating(store) as path:
        path.write_bytes(b"half")
        path.with_name("audit.db-wal").write_bytes(b"wal")
        raise RuntimeError("failed half way")
    assert list(tmp_path.iterdir()) == []
    store.write_bytes(b"a real log")
    with pytest.raises(RuntimeError), creating(store):
        raise RuntimeError("reconfiguring failed")
    assert store.read_bytes() == b"a real log"


@pytest.mark.parametrize(
    "argv",
    [
        ["lint", "{fifo}"],
        ["lint", "--config", "{fifo}", "{dockerfile}"],
        ["keygen", "--password-file", "{fifo}", "--output-key-prefix", "{dir}/k"],
        ["verify-bundle", "--bundle", "{fifo}", "--key", "{fifo}", "sha256:" + "0" * 64],
        ["audit", "verify", "--proof", "{fifo}", "--key", "{fifo}"],
        ["scan", "--sbom", "{fifo}", "--db", "{dir}/none.db"],
    ],
)
def test_commands_refuse_a_fifo_in_place_of_a_file(
    argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from chainproof.cli.main import main

    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text("FROM scratch\n")
    args = [a.format(fifo=fifo, dockerfile=dockerfile, dir=tmp_path) for a in argv]
    codes: list[int] = []
    runner = threading.Thread(target=lambda: codes.append(main(args)), daemon=True)
    runner.start()
    runner.join(timeout=20)
    assert not runner.is_alive(), f"{argv[0]} blocked on a FIFO"
    err = capsys.readouterr().err.strip().splitlines()
    assert codes == [2], err
    assert len(err) == 1 and err[0].startswith("chainproof: error: "), err
    assert "is a FIFO, not a regular file" in err[0], err

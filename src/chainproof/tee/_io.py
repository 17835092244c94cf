"""Reading evidence, certificates and key sets from files: bounded, regular files only."""

from __future__ import annotations

import stat
from pathlib import Path

from chainproof.errors import InputError, MalformedError, NotFoundError

#: A report is 1184 bytes, a TDX quote a few KiB, an MAA token or TDX collateral tens of KiB.
MAX_INPUT_BYTES = 1 << 20


def read_input(path: str | Path, what: str, *, max_bytes: int = MAX_INPUT_BYTES) -> bytes:
    """The bytes of ``path``, refusing anything but a regular file of at most ``max_bytes``."""
    target = Path(path)
    try:
        info = target.stat()
    except FileNotFoundError:
        raise NotFoundError(f"{what} {target}: no such file") from None
    except OSError as exc:
        raise InputError(f"{what} {target}: {exc.strerror}") from None
    # A FIFO or device would block or never end; only regular files are evidence.
    if not stat.S_ISREG(info.st_mode):
        raise InputError(f"{what} {target}: not a regular file")
    if info.st_size > max_bytes:
        raise MalformedError(f"{what} {target}: {info.st_size} bytes exceeds {max_bytes}")
    try:
        with target.open("rb") as handle:
            data = handle.read(max_bytes + 1)
    except OSError as exc:
        raise InputError(f"{what} {target}: {exc.strerror}") from None
    if len(data) > max_bytes:
        raise MalformedError(f"{what} {target}: exceeds {max_bytes} bytes")
    return data

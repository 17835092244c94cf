"""Files a user names: read them bounded, write them whole or not at all.

:func:`read_bounded` is how every module reads a small input file (a key, a policy, a certificate,
a Dockerfile, a predicate): a regular file only, never more than its limit, every failure a
one-line :class:`~chainproof.errors.InputError`. It opens with ``O_NONBLOCK`` and checks the open
file, so a FIFO or a device named in place of a file is refused instead of blocking or streaming
forever, with no window between the check and the read.

:func:`write_atomic` and :func:`creating` are how commands create files and stores: the result
appears complete under its name, or nothing is left behind.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from chainproof.errors import InputError, MalformedError, NotFoundError, UsageError

if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import IO

_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


def _kind(mode: int) -> str:
    return next((name for test, name in _KINDS if test(mode)), "something else")


def read_bounded(path: str | Path, what: str, limit: int) -> bytes:
    """The bytes of the regular file ``path``, at most ``limit`` of them.

    ``what`` names the file in errors ("key file", "trust policy"). Missing: NotFoundError;
    not a regular file or unreadable: InputError; larger than ``limit``: MalformedError.
    """
    path = Path(path)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except FileNotFoundError:
        raise NotFoundError(f"{what} {path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{what} {path} is a directory, not a file") from None
    except OSError as exc:
        raise InputError(f"cannot read {what} {path}: {exc.strerror}") from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise InputError(f"{what} {path} is {_kind(mode)}, not a regular file")
    with os.fdopen(fd, "rb") as handle:
        try:
            # The size may change between fstat and read: bound the read itself.
            data = handle.read(limit + 1)
        except OSError as exc:
            raise InputError(f"cannot read {what} {path}: {exc.strerror}") from None
    if len(data) > limit:
        raise MalformedError(f"{what} {path} exceeds the {limit}-byte limit")
    return data


@contextlib.contextmanager
def open_atomic(
    path: str | Path, *, mode: int = 0o644, replace: bool = True
) -> Iterator[IO[bytes]]:
    """A binary handle whose content appears at ``path`` only when the block completes.

    It writes a temporary file in the same directory, then fsyncs and renames it: readers see
    the old file or the new one, never a part, and a failure leaves neither. ``mode`` applies
    from the start (a private key is never readable by others, not even briefly). With
    ``replace=False`` an existing ``path`` is never overwritten, even one created meanwhile
    (FileExistsError).
    """
    path = Path(path)
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        if replace:
            Path(temporary).replace(path)
        else:
            os.link(temporary, path)  # fails if path exists: no clobbering race
            Path(temporary).unlink()
    except BaseException:
        with contextlib.suppress(OSError):
            Path(temporary).unlink()
        raise


def write_atomic(path: str | Path, data: bytes, *, mode: int = 0o644, replace: bool = True) -> None:
    """Write ``data`` to ``path`` whole or not at all (see :func:`open_atomic`)."""
    with open_atomic(path, mode=mode, replace=replace) as handle:
        handle.write(data)


def write_new_files(
    files: dict[Path, tuple[bytes, int]],
    *,
    force: bool = False,
    exists: str = "{path} exists (use --force to overwrite)",
) -> None:
    """Create several files (path → (data, mode)) together: all of them or none.

    Without ``force`` an existing target is a UsageError (message ``exists``) before anything is
    written, and none is overwritten even if it appears meanwhile. Each file is written
    atomically; when one fails, those already written are removed again.
    """
    if not force:
        for path in files:
            if path.exists() or path.is_symlink():
                raise UsageError(exists.format(path=path))
    written: list[Path] = []
    try:
        for path, (data, mode) in files.items():
            try:
                write_atomic(path, data, mode=mode, replace=force)
            except FileExistsError:
                raise UsageError(exists.format(path=path)) from None
            except OSError as exc:
                raise InputError(f"cannot write {path}: {exc.strerror}") from None
            written.append(path)
    except BaseException:
        for path in written:
            with contextlib.suppress(OSError):
                path.unlink()
        raise


@contextlib.contextmanager
def creating(path: str | Path) -> Iterator[Path]:
    """Remove what the body left at ``path`` if it fails and ``path`` did not exist before.

    For stores created in place (an SQLite database, whose engine writes the file itself): a
    failed creation leaves nothing behind (the file and SQLite's ``-wal`` / ``-shm`` /
    ``-journal`` companions), so a second attempt does not find a half-made store. An existing
    store is never removed.
    """
    path = Path(path)
    existed = path.exists() or path.is_symlink()
    try:
        yield path
    except BaseException:
        if not existed:
            for leftover in (path, *(path.with_name(path.name + s) for s in _SQLITE_COMPANIONS)):
                with contextlib.suppress(OSError):
                    leftover.unlink()
        raise


_SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")

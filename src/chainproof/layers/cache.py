"""A content-addressed cache of verified layers, so re-verifying costs documents only.

Streaming a layer proves three facts about the blob with digest D: its bytes match D and the
descriptor's size, they inflate to content whose digest is the config's diff_id, and the tar
walk found these unsafe entries (maybe none). Those facts are properties of the content, so a
second verification of any image that names D can reuse them; so can each consumer of the
layer pass (SBOM catalogers, Windows hive and Authenticode readers) whose per-layer result
depends on the layer's content alone. This module stores them, and nothing else.

What makes a cached entry count (:meth:`LayerCache.lookup`), all re-checked on every use:

* **its MAC**: every entry is HMAC-SHA256 authenticated with a key that lives outside the
  cache directory (default: the user's config dir, mode 0600). Whoever can write the cache
  but not read the key cannot make a failing layer pass: a forged or edited entry fails the
  MAC and is ignored (the layer is streamed again).
* **the descriptor**: the entry names the digest, size and compression it was verified
  under; the manifest's descriptor (itself verified against the manifest digest) must match.
* **the bytes at rest**: local sources give a fingerprint of the stored blob (device, inode,
  size, mtime, ctime); an edited or replaced blob file misses. Registries serve by digest,
  their fingerprint is ``""``.
* **the config**: the caller only takes a hit whose diff_id equals ``rootfs.diff_ids[i]``.
* **versions**: the layer pass's own rules (:data:`SCAN_RULES_VERSION`) are in the key, and a
  consumer's state is stored under its ``layer_cache_key`` (name and version), so upgrading a
  cataloger makes its old states invisible.

Only layers that verified (digest, size and diff_id) and were walked are stored; failures
are never cached. Problems with the cache itself (unreadable database, read-only directory,
full disk) never fail a verification: they are collected in :attr:`LayerCache.problems` and
the layer is streamed as if there were no cache.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import os
import secrets
import sqlite3
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from chainproof.errors import InputError
from chainproof.layers.walker import UnsafeEntry
from chainproof.oci.digest import Digest

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping
    from typing import IO

    from chainproof.layers.walker import LayerEntry
    from chainproof.oci.model import Descriptor

FORMAT = "chainproof.layer-cache/v1"
#: Bump when the layer pass's rules change (unsafe-entry detection, name normalisation):
#: entries verified under older rules are then never used.
SCAN_RULES_VERSION = "2"
DEFAULT_MAX_BYTES = 512 * 1024 * 1024
#: One consumer's serialised state for one layer; a bigger one is not stored.
MAX_STATE_BYTES = 64 * 1024 * 1024
MAX_ENTRY_BYTES = 256 * 1024 * 1024
_KEY_FILE_MAX = 4096
_MIN_KEY_BYTES = 32
_DB_NAME = "layers.sqlite"


class LayerCacheError(InputError):
    """The cache location or its key cannot be used (bad input: exit 2)."""


@runtime_checkable
class CacheableConsumer(Protocol):
    """An ``EntryConsumer`` whose per-layer result can be stored and replayed.

    ``layer_cache_key`` names the consumer and the version of its output ("sbom/3"): change
    it whenever the same layer would produce a different state. ``layer_state(layer)`` is
    called right after layer ``layer`` was walked and returns what the consumer derived
    from that layer alone (it must not depend on other layers or on the layer's index);
    ``restore_layer(layer, state)`` replays it instead of a walk, in layer order.
    A consumer without these three members disables the warm path for the whole run: every
    layer is streamed again, so its results stay exactly what a cold run gives.
    """

    layer_cache_key: str

    def wants(self, entry: LayerEntry) -> bool: ...

    def consume(
        self, layer: int, entry: LayerEntry, open_file: Callable[[], IO[bytes]]
    ) -> None: ...

    def layer_state(self, layer: int) -> bytes: ...

    def restore_layer(self, layer: int, state: bytes) -> None: ...


def consumer_cache_key(consumer: object) -> str | None:
    """The consumer's cache key, or None if it does not opt in (or declares it badly)."""
    key = getattr(consumer, "layer_cache_key", None)
    if not isinstance(key, str) or not key or len(key) > 200:
        return None
    if not callable(getattr(consumer, "layer_state", None)) or not callable(
        getattr(consumer, "restore_layer", None)
    ):
        return None
    return key


@dataclass(frozen=True)
class CachedLayer:
    """What an earlier pass established about one layer blob."""

    digest: Digest
    size: int
    compression: str
    diff_id: Digest
    uncompressed_size: int
    unsafe: tuple[UnsafeEntry, ...]
    #: consumer ``layer_cache_key`` → that consumer's state for this layer
    states: Mapping[str, bytes] = field(default_factory=dict, hash=False)


def default_directory() -> Path:
    from platformdirs import user_cache_path

    return user_cache_path("chainproof") / "layers"


def default_key_file() -> Path:
    from platformdirs import user_config_path

    return user_config_path("chainproof") / "layer-cache.key"


def _read_key(path: Path) -> bytes:
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise LayerCacheError(f"layer cache key {path}: {exc.strerror}") from None
    with os.fdopen(descriptor, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise LayerCacheError(f"layer cache key {path} is not a regular file")
        if info.st_mode & 0o026:
            # Others able to read it could forge entries; others able to write it, replace it.
            raise LayerCacheError(
                f"layer cache key {path} is readable or writable by others "
                f"(mode {stat.S_IMODE(info.st_mode):o}): chmod 600 it"
            )
        text = handle.read(_KEY_FILE_MAX + 1)
    try:
        key = bytes.fromhex(text.decode("ascii").strip())
    except (UnicodeDecodeError, ValueError):
        raise LayerCacheError(f"layer cache key {path}: expected hex text") from None
    if len(key) < _MIN_KEY_BYTES:
        raise LayerCacheError(f"layer cache key {path}: fewer than {_MIN_KEY_BYTES} bytes")
    return key


def load_or_create_key(path: Path) -> bytes:
    """The HMAC key in ``path``; a new random one (mode 0600) if the file does not exist."""
    try:
        return _read_key(path)
    except FileNotFoundError:
        pass
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read_key(path)  # another process created it meanwhile
    except OSError as exc:
        raise LayerCacheError(f"cannot create layer cache key {path}: {exc.strerror}") from None
    with os.fdopen(descriptor, "w") as handle:
        handle.write(secrets.token_hex(32) + "\n")
    return _read_key(path)


class LayerCache:
    """Verified layers in one SQLite file; see the module docstring for what is trusted.

    Safe for several processes at once (SQLite locking); a read-only cache still serves hits.
    """

    def __init__(
        self,
        directory: Path,
        *,
        key: bytes | None = None,
        key_file: Path | None = None,
        max_bytes: int = DEFAULT_MAX_BYTES,
        lazy: bool = False,
    ) -> None:
        """``key`` (bytes) or ``key_file`` (hex text, created if absent); ``lazy`` defers
        opening until the first layer is looked up, and then turns any problem into
        :attr:`problems` (the cache is off) instead of an error."""
        if key is not None and len(key) < _MIN_KEY_BYTES:
            raise LayerCacheError(f"layer cache key: fewer than {_MIN_KEY_BYTES} bytes")
        self.directory = directory
        self.max_bytes = max_bytes
        self.problems: list[str] = []
        self.hits = 0
        self.misses = 0
        self._key = key or b""
        self._key_file = key_file or default_key_file()
        self._key_id = ""
        self._db: sqlite3.Connection | None = None
        self._failed = False
        if not lazy:
            self._open()

    @classmethod
    def open(
        cls,
        directory: Path | None = None,
        *,
        key_file: Path | None = None,
        max_bytes: int = DEFAULT_MAX_BYTES,
        lazy: bool = False,
    ) -> LayerCache:
        """The cache in ``directory`` (default: the user cache dir) keyed by ``key_file``
        (default: ``layer-cache.key`` in the user config dir, created on first use)."""
        return cls(
            directory or default_directory(), key_file=key_file, max_bytes=max_bytes, lazy=lazy
        )

    def _open(self) -> sqlite3.Connection:
        if self._db is None:
            if not self._key:
                self._key = load_or_create_key(self._key_file)
            self._key_id = hashlib.sha256(
                b"chainproof layer cache key id\0" + self._key
            ).hexdigest()[:16]
            self._db = self._connect(self.directory)
        return self._db

    def _ready(self) -> sqlite3.Connection | None:
        """The open database, or None once opening failed (recorded in problems)."""
        if self._db is not None or self._failed:
            return self._db
        try:
            return self._open()
        except LayerCacheError as exc:
            self._failed = True
            self.problems.append(str(exc))
            return None

    def _connect(self, directory: Path) -> sqlite3.Connection:
        try:
            directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as exc:
            raise LayerCacheError(f"layer cache {directory}: {exc.strerror}") from None
        if not directory.is_dir():
            raise LayerCacheError(f"layer cache {directory} is not a directory")
        path = directory / _DB_NAME
        with contextlib.suppress(FileNotFoundError):
            if not stat.S_ISREG(path.stat().st_mode):
                raise LayerCacheError(f"layer cache {path} is not a regular file")
        try:
            db = sqlite3.connect(path, timeout=5.0, isolation_level=None)
            # The file may be shared: never run code (triggers, views) stored in it.
            db.execute("PRAGMA trusted_schema=OFF")
            with contextlib.suppress(sqlite3.OperationalError):  # read-only: keep its mode
                db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            with contextlib.suppress(sqlite3.OperationalError):  # read-only: table exists
                db.execute(
                    "CREATE TABLE IF NOT EXISTS layers (key TEXT PRIMARY KEY, body BLOB NOT "
                    "NULL, mac BLOB NOT NULL, bytes INTEGER NOT NULL, used INTEGER NOT NULL)"
                )
        except sqlite3.Error as exc:
            raise LayerCacheError(f"layer cache {path}: {exc}") from None
        return db

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    def __enter__(self) -> LayerCache:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- entries ----------------------------------------------------------------------

    def _row_key(
        self, descriptor: Descriptor, compression: str, fingerprint: str, windows: bool
    ) -> str:
        parts = (
            FORMAT,
            SCAN_RULES_VERSION,
            self._key_id,
            str(descriptor.digest),
            str(descriptor.size),
            compression,
            "windows" if windows else "linux",
            fingerprint,
        )
        return hashlib.sha256("\0".join(parts).encode()).hexdigest()

    def _mac(self, body: bytes) -> bytes:
        return hmac.new(self._key, body, hashlib.sha256).digest()

    def _problem(self, what: str, exc: BaseException) -> None:
        message = f"layer cache {self.directory}: {what}: {exc}"
        if message not in self.problems and len(self.problems) < 20:
            self.problems.append(message)

    def _read(self, row_key: str) -> dict[str, Any] | None:
        assert self._db is not None  # noqa: S101 - callers hold an open database
        row = self._db.execute(
            "SELECT body, mac FROM layers WHERE key = ? AND length(body) <= ?",
            (row_key, MAX_ENTRY_BYTES),
        ).fetchone()
        if row is None:
            return None
        body, mac = row
        if not isinstance(body, bytes) or not isinstance(mac, bytes):
            return None
        if not hmac.compare_digest(self._mac(body), mac):
            self._problem("ignored an entry whose MAC does not match", ValueError(row_key[:16]))
            return None
        document = json.loads(body)
        return document if isinstance(document, dict) else None

    def lookup(
        self, descriptor: Descriptor, compression: str, fingerprint: str, *, windows: bool
    ) -> CachedLayer | None:
        """The authenticated entry for this blob as stored now, or None."""
        db = self._ready()
        if db is None:
            return None
        row_key = self._row_key(descriptor, compression, fingerprint, windows)
        try:
            document = self._read(row_key)
            entry = None if document is None else self._decode(document)
        except (sqlite3.Error, ValueError, KeyError, TypeError) as exc:
            self._problem("lookup failed", exc)
            entry = None
        if (
            entry is None
            or entry.digest != descriptor.digest
            or entry.size != descriptor.size
            or entry.compression != compression
            or document is None
            or document.get("fingerprint") != fingerprint
            or document.get("windows") is not windows
        ):
            self.misses += 1
            return None
        self.hits += 1
        try:
            db.execute("UPDATE layers SET used = ? WHERE key = ?", (int(time.time()), row_key))
        except sqlite3.Error as exc:  # a read-only shared cache still serves hits
            self._problem("could not record use", exc)
        return entry

    @staticmethod
    def _decode(document: dict[str, Any]) -> CachedLayer | None:
        if document.get("format") != FORMAT or document.get("rules") != SCAN_RULES_VERSION:
            return None
        states = {
            str(key): base64.b64decode(value, validate=True)
            for key, value in dict(document["states"]).items()
        }
        return CachedLayer(
            Digest.parse(document["digest"]),
            int(document["size"]),
            str(document["compression"]),
            Digest.parse(document["diff_id"]),
            int(document["uncompressed_size"]),
            tuple(UnsafeEntry(str(name), str(reason)) for name, reason in document["unsafe"]),
            states,
        )

    def store(
        self,
        descriptor: Descriptor,
        compression: str,
        fingerprint: str,
        *,
        windows: bool,
        diff_id: Digest,
        uncompressed_size: int,
        unsafe: Iterable[UnsafeEntry],
        states: Mapping[str, bytes],
    ) -> None:
        """Record a layer that verified (and was walked); keeps other consumers' states."""
        db = self._ready()
        if db is None:
            return
        row_key = self._row_key(descriptor, compression, fingerprint, windows)
        kept = {k: v for k, v in states.items() if len(v) <= MAX_STATE_BYTES}
        try:
            old = self._read(row_key)
            previous = None if old is None else self._decode(old)
            if previous is not None and previous.diff_id == diff_id:
                kept = {**previous.states, **kept}
        except (sqlite3.Error, ValueError, KeyError, TypeError):
            pass
        document = {
            "format": FORMAT,
            "rules": SCAN_RULES_VERSION,
            "digest": str(descriptor.digest),
            "size": descriptor.size,
            "compression": compression,
            "windows": windows,
            "fingerprint": fingerprint,
            "diff_id": str(diff_id),
            "uncompressed_size": uncompressed_size,
            "unsafe": [[u.tar_name, u.reason] for u in unsafe],
            "states": {k: base64.b64encode(v).decode("ascii") for k, v in sorted(kept.items())},
        }
        body = json.dumps(document, separators=(",", ":"), sort_keys=True).encode()
        if len(body) > MAX_ENTRY_BYTES:
            return
        try:
            db.execute(
                "INSERT OR REPLACE INTO layers (key, body, mac, bytes, used) VALUES (?,?,?,?,?)",
                (row_key, body, self._mac(body), len(body), int(time.time())),
            )
            self._evict(db)
        except sqlite3.Error as exc:
            self._problem("could not store a verified layer", exc)

    def _evict(self, db: sqlite3.Connection) -> None:
        (total,) = db.execute("SELECT coalesce(sum(bytes), 0) FROM layers").fetchone()
        if total <= self.max_bytes:
            return
        target = self.max_bytes * 9 // 10
        rows = db.execute("SELECT key, bytes FROM layers ORDER BY used").fetchall()
        doomed = []
        for key, size in rows:
            if total <= target:
                break
            doomed.append((key,))
            total -= size
        db.executemany("DELETE FROM layers WHERE key = ?", doomed)

    def clear(self) -> None:
        """Forget every entry (``chainproof`` never needs this for correctness)."""
        db = self._ready()
        if db is not None:
            db.execute("DELETE FROM layers")

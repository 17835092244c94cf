"""What a user can tell the registry client: trust, TLS floor, credentials, retries."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from chainproof.errors import UsageError

if TYPE_CHECKING:
    import httpx

TLS_VERSIONS = ("1.2", "1.3")


def default_authfile() -> Path:
    """``$DOCKER_CONFIG/config.json`` if set, else ``~/.docker/config.json`` (Docker's rule)."""
    directory = os.environ.get("DOCKER_CONFIG")
    if directory:
        return Path(directory) / "config.json"
    return Path.home() / ".docker" / "config.json"


def normalize_host(host: str) -> str:
    """Lowercase ``host[:port]`` with any scheme or path a user may paste stripped."""
    text = host.strip().lower()
    if "://" in text:
        text = text.split("://", 1)[1]
    return text.split("/", 1)[0]


@dataclass(frozen=True)
class RegistryOptions:
    """Registry access policy. The defaults are the secure ones; every relaxation is explicit.

    ``insecure_registries``: ``host[:port]`` entries that may be spoken to over plain HTTP
    (HTTPS is still tried first). Nothing is implicitly insecure, loopback included.
    ``foreign_hosts``: hosts (``host`` or ``host:port``) whose HTTPS ``urls`` of foreign /
    non-distributable layers may be fetched.
    ``transport``: an :class:`httpx.BaseTransport` replacing the network (tests, proxies);
    when set, TLS settings are the transport's business.
    """

    insecure_registries: frozenset[str] = frozenset()
    min_tls: str = "1.3"
    ca_file: Path | None = None
    authfile: Path | None = None
    foreign_hosts: frozenset[str] = frozenset()
    retries: int = 3
    backoff_base: float = 0.5
    backoff_max: float = 10.0
    timeout: float = 60.0
    credential_helper_timeout: float = 30.0
    transport: httpx.BaseTransport | None = field(default=None, compare=False)
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.min_tls not in TLS_VERSIONS:
            raise UsageError(
                f"--min-tls must be one of {', '.join(TLS_VERSIONS)}, not {self.min_tls!r}"
            )
        if self.retries < 0 or self.backoff_base < 0 or self.backoff_max < 0:
            raise UsageError("retries and backoff must not be negative")
        # Accept any iterable of strings from callers but store normalised frozensets.
        object.__setattr__(
            self,
            "insecure_registries",
            frozenset(normalize_host(h) for h in self.insecure_registries),
        )
        object.__setattr__(
            self, "foreign_hosts", frozenset(normalize_host(h) for h in self.foreign_hosts)
        )
        if self.ca_file is not None:
            object.__setattr__(self, "ca_file", Path(self.ca_file))
        if self.authfile is not None:
            object.__setattr__(self, "authfile", Path(self.authfile))

    @property
    def resolved_authfile(self) -> Path:
        return self.authfile if self.authfile is not None else default_authfile()

    def is_insecure(self, host: str) -> bool:
        return normalize_host(host) in self.insecure_registries

    def allows_foreign(self, host: str, port: int | None) -> bool:
        host = host.lower()
        if host in self.foreign_hosts:
            return True
        return port is not None and f"{host}:{port}" in self.foreign_hosts

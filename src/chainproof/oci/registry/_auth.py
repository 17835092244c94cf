"""Credentials (docker config.json, credential helpers) and WWW-Authenticate challenges."""

from __future__ import annotations

import base64
import binascii
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from chainproof import _jsonutil
from chainproof._files import read_bounded
from chainproof.errors import AuthError, Error
from chainproof.oci.reference import DOCKER_HUB

if TYPE_CHECKING:
    from pathlib import Path

#: The key Docker stores Docker Hub credentials under, and passes to credential helpers.
DOCKER_HUB_AUTH_KEY = "https://index.docker.io/v1/"
_DOCKER_HUB_ALIASES = frozenset(
    {"docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"}
)
_MAX_AUTHFILE_BYTES = 1024 * 1024
_MAX_HELPER_OUTPUT = 64 * 1024


@dataclass(frozen=True)
class Credentials:
    username: str = ""
    password: str = field(default="", repr=False)
    identity_token: str = field(default="", repr=False)
    origin: str = ""  # where they came from, for messages ("config.json", "helper pass")

    @property
    def has_basic(self) -> bool:
        return bool(self.username or self.password)


@dataclass(frozen=True)
class Challenge:
    scheme: str  # lowercased: "bearer", "basic"
    params: dict[str, str]


# auth-param = token "=" ( token / quoted-string ); challenges are "scheme params, scheme params".
_PARAM_RE = re.compile(r'\s*([!#$%&\'*+.^_`|~0-9A-Za-z-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^\s,]*)\s*,?')
_SCHEME_RE = re.compile(r"\s*,?\s*([!#$%&'*+.^_`|~0-9A-Za-z-]+)(?=\s|$)")


def parse_challenges(header: str) -> list[Challenge]:
    """Parse a WWW-Authenticate header value (possibly several challenges)."""
    challenges: list[Challenge] = []
    pos = 0
    while pos < len(header):
        scheme_match = _SCHEME_RE.match(header, pos)
        if not scheme_match:
            break
        scheme = scheme_match.group(1).lower()
        pos = scheme_match.end()
        params: dict[str, str] = {}
        while True:
            param = _PARAM_RE.match(header, pos)
            # A token followed by whitespace and no "=" starts the next challenge.
            if not param:
                break
            key, value = param.group(1).lower(), param.group(2)
            if value.startswith('"'):
                value = re.sub(r"\\(.)", r"\1", value[1:-1])
            params[key] = value
            pos = param.end()
        challenges.append(Challenge(scheme, params))
    return challenges


def auth_key(host: str) -> str:
    """The config.json / credential-helper key for a registry host."""
    return DOCKER_HUB_AUTH_KEY if host in _DOCKER_HUB_ALIASES or host == DOCKER_HUB else host


def _key_host(key: str) -> str:
    """Docker's convertToHostname: drop scheme and path from an ``auths`` key."""
    text = key
    if "://" in text:
        text = text.split("://", 1)[1]
    return text.split("/", 1)[0].lower()


def _matches(key: str, host: str) -> bool:
    key_host = _key_host(key)
    if host in _DOCKER_HUB_ALIASES or host == DOCKER_HUB:
        return key_host in _DOCKER_HUB_ALIASES
    return key_host == host.lower()


def _from_auths_entry(entry: Any, origin: str) -> Credentials | None:
    if not isinstance(entry, dict):
        return None
    username = entry.get("username") if isinstance(entry.get("username"), str) else ""
    password = entry.get("password") if isinstance(entry.get("password"), str) else ""
    identity = entry.get("identitytoken") if isinstance(entry.get("identitytoken"), str) else ""
    encoded = entry.get("auth")
    if isinstance(encoded, str) and encoded:
        try:
            decoded = base64.b64decode(encoded, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise AuthError(f"{origin}: 'auth' is not base64 of USER:PASSWORD") from None
        user, sep, secret = decoded.partition(":")
        if not sep:
            raise AuthError(f"{origin}: 'auth' does not decode to USER:PASSWORD")
        username, password = user, secret
    if not (username or password or identity):
        return None
    return Credentials(str(username), str(password), str(identity), origin)


def run_helper(name: str, server: str, timeout: float) -> Credentials | None:
    """Ask ``docker-credential-NAME get`` for ``server``; None when it has nothing.

    A helper that is not installed means no credentials (the config may come from another
    machine); a helper that fails or prints garbage is an error worth reporting.
    """
    program = f"docker-credential-{name}"
    path = shutil.which(program)
    if path is None:
        return None
    try:
        done = subprocess.run(
            [path, "get"],
            input=server.encode(),
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise AuthError(f"credential helper {program} did not answer within {timeout:g}s") from None
    except OSError as exc:
        raise AuthError(f"cannot run credential helper {program}: {exc.strerror}") from None
    if done.returncode != 0:
        message = (
            done.stdout.decode(errors="replace").strip()
            or done.stderr.decode(errors="replace").strip()
        )
        if "credentials not found" in message.lower():
            return None
        raise AuthError(f"credential helper {program} failed for {server}: {message[:200]}")
    if len(done.stdout) > _MAX_HELPER_OUTPUT:
        raise AuthError(f"credential helper {program} printed more than {_MAX_HELPER_OUTPUT} bytes")
    try:
        data = _jsonutil.loads_object(done.stdout, f"output of {program}")
    except Error:
        raise AuthError(f"credential helper {program} printed something that is not JSON") from None
    username = data.get("Username")
    secret = data.get("Secret")
    if not isinstance(username, str) or not isinstance(secret, str):
        raise AuthError(f"credential helper {program}: output lacks Username/Secret strings")
    origin = f"credential helper {program}"
    # Docker's convention: this username marks the secret as an identity (refresh) token.
    if username == "<token>":
        return Credentials("", "", secret, origin)
    return Credentials(username, secret, "", origin)


def load_config(path: Path) -> dict[str, Any] | None:
    if not path.is_file():
        return None
    try:
        data = read_bounded(path, "auth file", _MAX_AUTHFILE_BYTES)
    except Error as exc:
        raise AuthError(str(exc)) from None
    try:
        return _jsonutil.loads_object(data, str(path), max_bytes=_MAX_AUTHFILE_BYTES)
    except Error as exc:
        raise AuthError(f"auth file {exc}") from None


def lookup(host: str, authfile: Path, helper_timeout: float = 30.0) -> Credentials | None:
    """Credentials for ``host`` in Docker's order: credHelpers, credsStore, then auths."""
    config = load_config(authfile)
    if config is None:
        return None
    key = auth_key(host)
    helpers = config.get("credHelpers")
    if isinstance(helpers, dict):
        for helper_key, helper in helpers.items():
            if isinstance(helper, str) and helper and _matches(helper_key, host):
                found = run_helper(helper, key, helper_timeout)
                if found is not None:
                    return found
                break
    store = config.get("credsStore")
    if isinstance(store, str) and store:
        found = run_helper(store, key, helper_timeout)
        if found is not None:
            return found
    auths = config.get("auths")
    if isinstance(auths, dict):
        # An exact key wins over an equivalent spelling (https://host/v2/ etc.).
        if key in auths:
            found = _from_auths_entry(auths[key], f"{authfile} entry {key!r}")
            if found is not None:
                return found
        for entry_key, entry in auths.items():
            if isinstance(entry_key, str) and entry_key != key and _matches(entry_key, host):
                found = _from_auths_entry(entry, f"{authfile} entry {entry_key!r}")
                if found is not None:
                    return found
    return None


def basic_header(credentials: Credentials) -> str:
    token = base64.b64encode(f"{credentials.username}:{credentials.password}".encode()).decode()
    return f"Basic {token}"

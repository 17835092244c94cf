"""Image references for every transport chainproof reads.

``oci:DIR[:TAG|@DIGEST]``, ``oci-archive:FILE[:TAG|@DIGEST]``, ``docker-archive:FILE[:REF|@N]``,
``docker://HOST/REPO[:TAG|@DIGEST]`` and plain ``[HOST/]REPO[:TAG|@DIGEST]``. Registry names
are normalised as Docker does: no host means Docker Hub, one-component names get ``library/``.
Path and image part are split at the first colon, as skopeo does, so a path cannot hold one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from chainproof.errors import InvalidReferenceError
from chainproof.oci.digest import Digest

DOCKER_HUB = "docker.io"
DOCKER_HUB_API = "registry-1.docker.io"

# Grammar from distribution/reference (reference.go); policy image patterns reuse it.
COMPONENT_PATTERN = r"[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*"
_REPOSITORY_RE = re.compile(rf"^{COMPONENT_PATTERN}(?:/{COMPONENT_PATTERN})*$")
TAG_RE = re.compile(r"^[\w][\w.-]{0,127}$")
HOST_RE = re.compile(
    r"^(?:(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
    r"(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*|\[[0-9a-fA-F:.]+\])"
    r"(?::[0-9]+)?$"
)
MAX_NAME_LENGTH = 255


@dataclass(frozen=True)
class RegistryRef:
    """A reference to an image in a registry."""

    host: str  # as the user means it: docker.io, localhost:5000, [::1]:5000
    repository: str
    tag: str = ""
    digest: Digest | None = None

    @property
    def api_host(self) -> str:
        return DOCKER_HUB_API if self.host == DOCKER_HUB else self.host

    @property
    def name(self) -> str:
        return f"{self.host}/{self.repository}"

    @property
    def identifier(self) -> str:
        """What to ask the registry for: the digest if pinned, else the tag."""
        return str(self.digest) if self.digest else (self.tag or "latest")

    def __str__(self) -> str:
        text = self.name
        if self.tag:
            text += f":{self.tag}"
        if self.digest:
            text += f"@{self.digest}"
        return text


@dataclass(frozen=True)
class LocalRef:
    """An image in a local OCI layout or archive."""

    transport: str  # "oci", "oci-archive", "docker-archive"
    path: str
    tag: str = ""  # tag / docker reference / "@N" index for docker-archive
    digest: Digest | None = None

    def __str__(self) -> str:
        text = f"{self.transport}:{self.path}"
        if self.digest:
            text += f"@{self.digest}"
        elif self.tag:
            text += f":{self.tag}"
        return text


ImageRef = RegistryRef | LocalRef


#: Names Docker treats as Docker Hub.
DOCKER_HUB_ALIASES = frozenset({DOCKER_HUB, "index.docker.io", "registry-1.docker.io"})


def normalize_host(host: str) -> str:
    """A host as compared: case-insensitive (DNS), Docker Hub's aliases one host, the port
    significant (``localhost:5000`` is not ``localhost``)."""
    host = host.lower()
    return DOCKER_HUB if host in DOCKER_HUB_ALIASES else host


def is_host(first_component: str) -> bool:
    """Whether the first path component of a name is a registry host (Docker's rule)."""
    return (
        "." in first_component
        or ":" in first_component
        or first_component == "localhost"
        or first_component.startswith("[")
    )


def parse_registry(text: str) -> RegistryRef:
    """Parse ``[HOST/]REPO[:TAG][@DIGEST]`` and normalise it like Docker does."""
    original = text
    if not text:
        raise InvalidReferenceError("empty image reference")
    digest: Digest | None = None
    if "@" in text:
        text, _, digest_text = text.rpartition("@")
        try:
            digest = Digest.parse(digest_text)
        except InvalidReferenceError:
            raise
        except Exception as exc:
            raise InvalidReferenceError(f"invalid image reference {original!r}: {exc}") from None
    tag = ""
    slash = text.rfind("/")
    colon = text.rfind(":")
    if colon > slash:
        text, tag = text[:colon], text[colon + 1 :]
        if not TAG_RE.match(tag):
            raise InvalidReferenceError(f"invalid tag {tag!r} in image reference {original!r}")
    first, sep, rest = text.partition("/")
    if sep and is_host(first):
        host, repository = first, rest
        if not HOST_RE.match(host):
            raise InvalidReferenceError(f"invalid registry host {host!r} in {original!r}")
    else:
        host, repository = DOCKER_HUB, text
    if host.lower() in DOCKER_HUB_ALIASES:
        host = DOCKER_HUB
    if host == DOCKER_HUB and "/" not in repository:
        repository = f"library/{repository}"
    if not _REPOSITORY_RE.match(repository):
        hint = " (repository names must be lowercase)" if repository.lower() != repository else ""
        raise InvalidReferenceError(f"invalid repository name {repository!r} in {original!r}{hint}")
    if len(f"{host}/{repository}") > MAX_NAME_LENGTH:
        raise InvalidReferenceError(f"image name in {original!r} is longer than {MAX_NAME_LENGTH}")
    if not tag and digest is None:
        tag = "latest"
    return RegistryRef(host, repository, tag, digest)


def _split_local(transport: str, rest: str, original: str) -> LocalRef:
    if not rest:
        raise InvalidReferenceError(f"{original!r}: missing path after '{transport}:'")
    digest: Digest | None = None
    tag = ""
    if "@" in rest and transport != "docker-archive":
        path, _, digest_text = rest.rpartition("@")
        try:
            digest = Digest.parse(digest_text)
        except Exception as exc:
            raise InvalidReferenceError(f"invalid digest in {original!r}: {exc}") from None
    else:
        path, _, tag = rest.partition(":")
        if transport == "docker-archive" and "@" in path:
            path, _, index = path.rpartition("@")
            tag = f"@{index}"
            if not index.isdigit():
                raise InvalidReferenceError(f"{original!r}: '@' must be followed by an image index")
    if not path:
        raise InvalidReferenceError(f"{original!r}: missing path after '{transport}:'")
    if transport == "oci" and tag and not TAG_RE.match(tag) and "/" not in tag:
        raise InvalidReferenceError(f"invalid tag {tag!r} in {original!r}")
    return LocalRef(transport, path, tag, digest)


def parse(text: str) -> ImageRef:
    """Parse any IMAGE argument of the CLI contract."""
    text = text.strip()
    if not text:
        raise InvalidReferenceError("empty image reference")
    transport, sep, rest = text.partition(":")
    if sep and transport == "docker":
        if not rest.startswith("//"):
            raise InvalidReferenceError(f"{text!r}: expected docker://HOST/REPO[:TAG|@DIGEST]")
        return parse_registry(rest[2:])
    if sep and transport in ("oci", "oci-archive", "docker-archive"):
        return _split_local(transport, rest, text)
    if text.startswith(("/", "./", "../")):
        raise InvalidReferenceError(
            f"{text!r} looks like a path: say which format it is, "
            "e.g. oci:DIR, oci-archive:FILE or docker-archive:FILE"
        )
    return parse_registry(text)

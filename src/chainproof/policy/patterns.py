"""Image patterns: which references a rule, a waiver or a base-image list means.

Grammar (``docs/policy.md``, "Matching")::

    *                                   every image, any transport
    [HOST/]REPO-GLOB[:TAG-GLOB|@DIGEST]  registry images, named as Docker names them
    oci:PATH-GLOB[:TAG-GLOB]            local sources (also oci-archive:, docker-archive:)

In a repository glob ``*`` and ``?`` stay inside one path segment and ``**`` spans one or more
segments (``apps/**`` matches ``apps/web`` and ``apps/a/b``, not ``apps``). A pattern without
a host means Docker Hub, with ``library/`` for one-segment names, exactly as ``docker pull``
reads it. The host is compared **exactly** after normalisation (case, Docker Hub's aliases;
the port is significant); the only host wildcard is a leading ``*.`` standing for exactly one
DNS label, so ``*.azurecr.io`` matches ``contoso.azurecr.io`` but never ``azurecr.io``,
``a.b.azurecr.io`` or ``azurecr.io.evil.example``. A pattern with a tag glob does not match a
reference given by digest alone (its tag is unknown): fail-safe, the rule does not apply.

A pattern that can never match (an uppercase repository, a character no reference can hold)
is refused when the policy is loaded.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass

from chainproof.oci import reference as references
from chainproof.oci.digest import Digest

#: What a glob segment of a repository may contain: reference characters plus wildcards.
_REPO_GLOB_CHARS = re.compile(r"^[a-z0-9._*?-]+$")
_TAG_GLOB_CHARS = re.compile(r"^[A-Za-z0-9_.*?-]+$")
_COMPONENT_RE = re.compile(rf"^{references.COMPONENT_PATTERN}$")
_LOCAL_TRANSPORTS = ("oci", "oci-archive", "docker-archive")


class PatternError(ValueError):
    """A pattern that does not parse or can never match; the message says why."""


def _glob_segment(segment: str) -> str:
    out = []
    for char in segment:
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        else:
            out.append(re.escape(char))
    return "".join(out)


def _repository_regex(glob: str) -> str:
    segments = glob.split("/")
    if any(not s for s in segments):
        raise PatternError("empty path segment")
    out: list[str] = []
    for i, segment in enumerate(segments):
        first, last = i == 0, i == len(segments) - 1
        if segment == "**":
            if i > 0 and segments[i - 1] == "**":
                raise PatternError("'**/**' is the same as '**'")
            if first and last:
                out.append("[^/]+(?:/[^/]+)*")
            elif first:
                out.append("(?:[^/]+/)*")
            elif last:
                out.append("(?:/[^/]+)+")
            else:
                out.append("(?:/[^/]+)*")
            continue
        if "**" in segment:
            raise PatternError(f"'**' must be a whole path segment, not part of {segment!r}")
        if not _REPO_GLOB_CHARS.match(segment):
            hint = " (repository names are lowercase)" if segment.lower() != segment else ""
            raise PatternError(f"segment {segment!r} can never match a repository name{hint}")
        if "*" not in segment and "?" not in segment and not _COMPONENT_RE.match(segment):
            raise PatternError(f"segment {segment!r} can never match a repository name")
        leading_slash = not first and not (i == 1 and segments[0] == "**")
        out.append(("/" if leading_slash else "") + _glob_segment(segment))
    return "".join(out)


def _tag_regex(glob: str) -> re.Pattern[str]:
    if not _TAG_GLOB_CHARS.match(glob):
        raise PatternError(f"tag {glob!r} can never match (tags are letters, digits, _ . -)")
    if "*" not in glob and "?" not in glob and not references.TAG_RE.match(glob):
        raise PatternError(f"tag {glob!r} can never match")
    return re.compile(_glob_segment(glob))


def _host_parts(host: str) -> tuple[str, str]:
    """(exact host, "") or ("", wildcard suffix ".example.com[:port]")."""
    if host.startswith("*."):
        rest = host[2:]
        if "*" in rest or not references.HOST_RE.match(rest) or "." not in rest.split(":")[0]:
            raise PatternError(f"host {host!r}: '*.' must be followed by a domain name")
        return "", "." + references.normalize_host(rest)
    if "*" in host or "?" in host:
        raise PatternError(
            f"host {host!r}: hosts are matched exactly; the only wildcard is a leading '*.'"
        )
    if not references.HOST_RE.match(host):
        raise PatternError(f"host {host!r} is not a registry host name")
    return references.normalize_host(host), ""


def host_matches(exact: str, suffix: str, host: str) -> bool:
    """``host`` (already normalised) against a parsed host pattern."""
    if exact:
        return host == exact
    # One label before the suffix: "contoso" + ".azurecr.io", no dots, no empty label.
    if not host.endswith(suffix):
        return False
    label = host[: -len(suffix)]
    return bool(label) and "." not in label and ":" not in label


@dataclass(frozen=True)
class ImagePattern:
    """A parsed pattern; :meth:`matches` takes a parsed reference."""

    text: str
    #: "any", "registry" or a local transport ("oci", "oci-archive", "docker-archive").
    kind: str
    host: str = ""
    host_suffix: str = ""
    name: re.Pattern[str] | None = None
    tag: re.Pattern[str] | None = None
    digest: str = ""

    @classmethod
    def parse(cls, text: str) -> ImagePattern:
        if text == "*":
            return cls(text, "any")
        transport, sep, rest = text.partition(":")
        if sep and transport in _LOCAL_TRANSPORTS:
            return cls._parse_local(text, transport, rest)
        if sep and transport == "docker" and rest.startswith("//"):
            return cls._parse_registry(text, rest[2:])
        return cls._parse_registry(text, text)

    @classmethod
    def _parse_local(cls, text: str, transport: str, rest: str) -> ImagePattern:
        path, digest, tag = rest, "", None
        if "@" in rest:
            path, _, digest_text = rest.rpartition("@")
            digest = _digest(digest_text)
        elif ":" in rest:
            path, _, tag_glob = rest.partition(":")
            tag = _tag_regex(tag_glob)
        if not path:
            raise PatternError("missing path")
        regex = "".join(
            "[^/]*" if part == "*" else ".*" if part == "**" else re.escape(part)
            for part in re.split(r"(\*\*|\*)", posixpath.normpath(path))
        )
        return cls(text, transport, name=re.compile(regex), tag=tag, digest=digest)

    @classmethod
    def _parse_registry(cls, text: str, body: str) -> ImagePattern:
        digest = ""
        if "@" in body:
            body, _, digest_text = body.rpartition("@")
            digest = _digest(digest_text)
        tag: re.Pattern[str] | None = None
        slash, colon = body.rfind("/"), body.rfind(":")
        if colon > slash:
            body, tag_glob = body[:colon], body[colon + 1 :]
            tag = _tag_regex(tag_glob)
        first, sep, rest = body.partition("/")
        if sep and (references.is_host(first) or first.startswith("*.")):
            exact, suffix = _host_parts(first)
            repository = rest
        else:
            exact, suffix, repository = references.DOCKER_HUB, "", body
        if not repository:
            raise PatternError("missing repository")
        if exact == references.DOCKER_HUB and "/" not in repository:
            repository = f"library/{repository}"
        name = re.compile(_repository_regex(repository))
        return cls(text, "registry", exact, suffix, name, tag, digest)

    def matches(self, ref: references.ImageRef) -> bool:
        if self.kind == "any":
            return True
        if isinstance(ref, references.RegistryRef):
            if self.kind != "registry":
                return False
            if not host_matches(self.host, self.host_suffix, references.normalize_host(ref.host)):
                return False
            subject = ref.repository
        else:
            if self.kind != ref.transport:
                return False
            subject = posixpath.normpath(ref.path)
        if self.name is None or self.name.fullmatch(subject) is None:
            return False
        return self._tag_and_digest_match(ref)

    def _tag_and_digest_match(self, ref: references.ImageRef) -> bool:
        if self.digest and str(ref.digest or "") != self.digest:
            return False
        # A reference given by digest only has no tag to compare: not a match.
        return self.tag is None or (bool(ref.tag) and self.tag.fullmatch(ref.tag) is not None)


def _digest(text: str) -> str:
    try:
        return str(Digest.parse(text))
    except Exception as exc:
        raise PatternError(f"invalid digest {text!r}: {exc}") from None


def parse_host_pattern(text: str) -> tuple[str, str]:
    """A registry-list entry: ``host[:port]`` or ``*.domain[:port]`` → (exact, suffix)."""
    return _host_parts(text)

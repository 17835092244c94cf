"""Platform selection from an index: ``--platform os/arch[/variant][:os.version]``."""

from __future__ import annotations

import re
from dataclasses import dataclass

from chainproof.errors import NotFoundError, UsageError
from chainproof.oci.model import Descriptor, Index, Platform

_SPEC_RE = re.compile(
    r"^(?P<os>[a-z0-9]+)/(?P<arch>[a-z0-9_]+)(?:/(?P<variant>[a-z0-9]+))?"
    r"(?::(?P<osver>[0-9]+(?:\.[0-9]+)*))?$"
)


@dataclass(frozen=True)
class PlatformSpec:
    """What the user asked for; ``os_version`` is a dotted prefix (``10.0.20348``)."""

    os: str
    architecture: str
    variant: str = ""
    os_version: str = ""

    @classmethod
    def parse(cls, text: str) -> PlatformSpec:
        match = _SPEC_RE.match(text.strip().lower())
        if not match:
            raise UsageError(
                f"invalid --platform {text!r}: expected os/arch[/variant][:os.version], "
                "e.g. linux/arm64/v8 or windows/amd64:10.0.20348"
            )
        return cls(match["os"], match["arch"], match["variant"] or "", match["osver"] or "")

    def matches(self, platform: Platform) -> bool:
        if platform.os.lower() != self.os or platform.architecture.lower() != self.architecture:
            return False
        if self.variant and platform.variant.lower() != self.variant:
            return False
        if self.os_version:
            # Prefix on whole dotted components: 10.0.20348 matches 10.0.20348.473 but not
            # 10.0.203481.
            have = platform.os_version.split(".")
            want = self.os_version.split(".")
            if have[: len(want)] != want:
                return False
        return True

    def __str__(self) -> str:
        text = f"{self.os}/{self.architecture}"
        if self.variant:
            text += f"/{self.variant}"
        if self.os_version:
            text += f":{self.os_version}"
        return text


def _os_version_key(descriptor: Descriptor) -> tuple[int, ...]:
    assert descriptor.platform is not None  # noqa: S101 - filtered by caller
    parts = descriptor.platform.os_version.split(".")
    return tuple(int(p) if p.isdigit() else -1 for p in parts)


def _image_entries(index: Index) -> list[Descriptor]:
    # Attestation manifests (buildkit's "unknown/unknown") and entries without a platform are
    # not runnable images.
    return [
        d
        for d in index.manifests
        if d.platform is not None
        and d.platform.os != "unknown"
        and d.annotations.get("vnd.docker.reference.type") != "attestation-manifest"
    ]


def describe_choices(index: Index) -> str:
    return ", ".join(str(d.platform) for d in _image_entries(index)) or "(none)"


def select(index: Index, spec: PlatformSpec | None) -> Descriptor:
    """Pick one manifest from an index.

    With a spec: the matching entry; if several match (Windows indexes list one entry per
    build), the highest ``os.version``. Without one, the host-neutral rule: linux/amd64 if
    present, else the only entry, else an error listing the choices.
    """
    entries = _image_entries(index)
    if spec is not None:
        found = [d for d in entries if d.platform is not None and spec.matches(d.platform)]
        if not found:
            raise NotFoundError(
                f"no manifest for platform {spec} in index {index.digest.short()}; "
                f"available: {describe_choices(index)}"
            )
        return max(found, key=_os_version_key)
    default = PlatformSpec("linux", "amd64")
    linux = [d for d in entries if d.platform is not None and default.matches(d.platform)]
    if linux:
        return linux[0]
    if len(entries) == 1:
        return entries[0]
    raise NotFoundError(
        f"index {index.digest.short()} has {len(entries)} platforms and none is linux/amd64; "
        f"choose one with --platform (or --all-platforms): {describe_choices(index)}"
    )


def image_entries(index: Index) -> list[Descriptor]:
    """Every runnable image entry of an index (for ``--all-platforms``)."""
    return _image_entries(index)

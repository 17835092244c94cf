"""The SBOM component model: what a cataloger found, where, and in which layer.

Frozen dataclasses only; writers (CycloneDX, SPDX, table) and the vulnerability matcher read
these and never the catalogers' internals.
"""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass, field


class ComponentType(enum.StrEnum):
    OPERATING_SYSTEM = "operating-system"
    APPLICATION = "application"
    LIBRARY = "library"
    FRAMEWORK = "framework"
    FILE = "file"


@dataclass(frozen=True)
class Component:
    """One software component found in an image.

    ``layer`` is the index of the layer that introduced it (``None`` when it comes from the
    image config alone); ``removed_by`` the layer that deleted or replaced its evidence, so a
    container started from the image no longer has it. ``evidence`` holds the paths (as stored
    in the layer tar, or ``registry:`` paths for hive facts) the component was read from.
    """

    type: ComponentType
    name: str
    version: str
    ecosystem: str  # "windows", "nuget", "deb", "pypi", ... (also the purl type where one exists)
    cataloger: str
    purl: str = ""
    licenses: tuple[str, ...] = ()
    supplier: str = ""
    layer: int | None = None
    removed_by: int | None = None
    evidence: tuple[str, ...] = ()
    properties: tuple[tuple[str, str], ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def present(self) -> bool:
        """Whether a container started from the image still has this component."""
        return self.removed_by is None

    @property
    def bom_ref(self) -> str:
        """A stable identifier: the same component at the same place always gets the same one."""
        key = "\0".join(
            (self.type, self.ecosystem, self.name, self.version, str(self.layer), *self.evidence)
        )
        digest = hashlib.sha256(key.encode()).hexdigest()[:12]
        return f"{self.ecosystem}:{self.name}@{self.version}#{digest}"

    def property(self, name: str) -> str | None:
        for key, value in self.properties:
            if key == name:
                return value
        return None

    def sort_key(self) -> tuple[str, ...]:
        return (
            "0" if self.type == ComponentType.OPERATING_SYSTEM else "1",
            self.ecosystem,
            self.name.casefold(),
            self.version,
            str(self.layer),
            *self.evidence,
        )


@dataclass(frozen=True)
class ImageSubject:
    """The image an SBOM describes."""

    reference: str
    digest: str  # manifest digest of the platform image
    platform: str
    os_version: str = ""
    layer_digests: tuple[str, ...] = ()


@dataclass(frozen=True)
class Sbom:
    subject: ImageSubject
    components: tuple[Component, ...]
    warnings: tuple[str, ...] = field(default=())

    def present(self) -> tuple[Component, ...]:
        return tuple(c for c in self.components if c.present)

    def by_ecosystem(self, ecosystem: str) -> tuple[Component, ...]:
        return tuple(c for c in self.components if c.ecosystem == ecosystem)

    @property
    def operating_system(self) -> Component | None:
        for component in self.components:
            if component.type == ComponentType.OPERATING_SYSTEM:
                return component
        return None

"""The cataloger extension point: one implementation per ecosystem.

Catalogers never see the tar stream. :class:`chainproof.sbom.builder.SbomBuilder` is the one
``EntryConsumer`` registered with the layer scanner; it asks each cataloger whether it
:meth:`~Cataloger.wants` an entry, reads the content once (bounded by the cataloger's
``max_bytes``; a bigger entry becomes a warning, never a read), and hands it to
:meth:`~Cataloger.add`. After the single pass over all layers, :meth:`~Cataloger.finish`
returns the components; the builder fills in which later layer removed each one.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

from chainproof.layers.walker import View

if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path

    from chainproof.layers.walker import LayerEntry
    from chainproof.oci.model import ImageConfig
    from chainproof.sbom.model import Component


@dataclass(frozen=True)
class FoundFile:
    """A wanted layer entry: where it is, and how evidence names it."""

    layer: int
    view: View
    path: str  # in its view (Windows: "Windows/System32/x", "SOFTWARE_BASE"; Linux: "usr/x")
    evidence: str  # user-facing: "C:\\app\\x.deps.json", "Hives\\SOFTWARE_BASE", "/usr/x"
    size: int

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]


def evidence_for(view: View, path: str) -> str:
    if view == View.FILES:
        return "C:\\" + path.replace("/", "\\")
    if view == View.HIVES:
        return "Hives\\" + path.replace("/", "\\")
    if view == View.UTILITY_VM:
        return "UtilityVM\\" + path.replace("/", "\\")
    return "/" + path


@dataclass(frozen=True)
class Content:
    """A file's content: bytes, or (for ``needs_path`` catalogers) a temporary file."""

    data: bytes = b""
    path: Path | None = None


@dataclass(frozen=True)
class CatalogContext:
    """What catalogers may consult when finishing (the image config, its layer count)."""

    config: ImageConfig
    windows: bool
    layer_count: int
    warnings: list[str] = field(default_factory=list)
    #: Facts one cataloger hands to those finishing after it (the distro for purls).
    facts: dict[str, object] = field(default_factory=dict)


class Cataloger(abc.ABC):
    #: Short id used in component records ("dotnet-deps", "windows-registry", ...).
    name: ClassVar[str]
    #: Entries bigger than this are not read; the builder records a warning instead.
    max_bytes: ClassVar[int] = 16 * 1024 * 1024
    #: Content arrives as a temporary file rather than bytes (hives: regipy opens a path).
    needs_path: ClassVar[bool] = False
    #: False for catalogers that only need paths (installed runtimes): nothing is read.
    reads_content: ClassVar[bool] = True
    #: True when the cataloger decides ``removed_by`` itself (package databases rewritten by
    #: every layer); the builder then leaves its components alone.
    tracks_removal: ClassVar[bool] = False
    #: A cheap prefilter on the hot path: when set, :meth:`wants` is only asked about
    #: entries whose casefolded path ends with one of these (the builder tests all of them
    #: with one ``str.endswith``); ``None`` means "ask about every entry".
    path_suffixes: ClassVar[tuple[str, ...] | None] = None

    @abc.abstractmethod
    def wants(self, entry: LayerEntry) -> bool:
        """Cheap, path-only filter (called for every entry of every layer)."""

    @abc.abstractmethod
    def add(self, found: FoundFile, content: Content) -> None:
        """Parse one file now (its content is gone afterwards); keep only small results."""

    def alias(self, found: FoundFile, target: FoundFile) -> None:  # noqa: B027 - optional hook
        """A hard link ``found`` → ``target`` in the same layer; by default nothing."""

    @abc.abstractmethod
    def finish(self, context: CatalogContext) -> Iterable[Component]:
        """The components found, after every layer has been seen."""


class FileCataloger(Cataloger):
    """A cataloger whose components each come from one file (most ecosystems).

    Subclasses implement :meth:`parse`; a chainproof ``Error`` (or a decoding error) raised
    by it becomes a warning naming the file, and the rest of the SBOM goes on.
    """

    def __init__(self) -> None:
        self._found: dict[tuple[int, str], tuple[FoundFile, list[Component]]] = {}
        self.warnings: list[str] = []

    @abc.abstractmethod
    def parse(self, found: FoundFile, data: bytes) -> Iterable[Component]:
        """Components declared by one file."""

    def accepts(self, found: FoundFile) -> bool:
        """Whether a file at this place yields components (others are parsed only so a hard
        link into an accepted place can reuse the result)."""
        return True

    def add(self, found: FoundFile, content: Content) -> None:
        from chainproof.errors import Error

        try:
            components = list(self.parse(found, content.data))
        except (Error, ValueError, UnicodeError, LookupError, RecursionError) as exc:
            if self.accepts(found):
                message = str(exc)
                if not message.startswith(found.evidence):
                    message = f"{found.evidence}: {message}"
                self.warnings.append(f"layer {found.layer}: {message}")
            return
        self._found[(found.layer, found.path.casefold())] = (found, components)

    def alias(self, found: FoundFile, target: FoundFile) -> None:
        import dataclasses

        known = self._found.get((target.layer, target.path.casefold()))
        if known is None:
            return
        self._found[(found.layer, found.path.casefold())] = (
            found,
            [
                dataclasses.replace(
                    c,
                    evidence=(found.evidence, *(e for e in c.evidence if e != target.evidence)),
                )
                for c in known[1]
            ],
        )

    def finish(self, context: CatalogContext) -> Iterable[Component]:
        context.warnings.extend(self.warnings)
        for found, components in self._found.values():
            if self.accepts(found):
                yield from components

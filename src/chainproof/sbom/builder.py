"""Drive the catalogers over one streaming pass of an image's layers.

:class:`SbomBuilder` is the single ``EntryConsumer`` the layer scanner sees. It reads each
wanted file once (bounded), hands it to every cataloger that asked, records the whiteouts and
rewrites of later layers, and after the pass tells for each component which layer removed
or replaced the file it came from.
"""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
from pathlib import Path
from typing import IO, TYPE_CHECKING

from chainproof.layers.walker import EntryKind, View
from chainproof.sbom.interface import CatalogContext, Content, FoundFile, evidence_for
from chainproof.sbom.model import Component, ComponentType, ImageSubject, Sbom

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from chainproof.layers.scan import LayerReport
    from chainproof.layers.walker import LayerEntry
    from chainproof.oci.image import PlatformImage
    from chainproof.sbom.interface import Cataloger

_Key = tuple[View, str]


class SbomBuilder:
    """An ``EntryConsumer`` feeding catalogers; call :meth:`finish` after the layer pass."""

    def __init__(self, catalogers: Sequence[Cataloger], *, windows: bool) -> None:
        self.catalogers = list(catalogers)
        self.windows = windows
        self.warnings: list[str] = []
        self._pending: tuple[LayerEntry, list[Cataloger]] | None = None
        # Every path a cataloger read, and each layer that wrote it (to see replacements).
        self._written: dict[_Key, list[int]] = {}
        self._evidence: dict[str, tuple[_Key, int]] = {}
        self._removals: list[tuple[int, _Key, EntryKind]] = []
        self._files: dict[tuple[int, _Key], FoundFile] = {}
        self._scratch: tempfile.TemporaryDirectory[str] | None = None
        # Most entries of a layer interest no cataloger: one endswith over the union of the
        # declared suffixes settles them, and only catalogers without a suffix are asked.
        self._suffixes = tuple(
            sorted({s for c in self.catalogers for s in (c.path_suffixes or ())})
        )
        self._unhinted = [c for c in self.catalogers if c.path_suffixes is None]

    def _key(self, view: View, path: str) -> _Key:
        return view, path.casefold() if self.windows else path

    # -- EntryConsumer -------------------------------------------------------------------

    def wants(self, entry: LayerEntry) -> bool:
        if entry.kind in (EntryKind.WHITEOUT, EntryKind.OPAQUE):
            return True
        lowered = entry.path.casefold()
        candidates = self.catalogers if lowered.endswith(self._suffixes) else self._unhinted
        wanting = [c for c in candidates if c.wants(entry)]
        if wanting:
            self._pending = (entry, wanting)
            return True
        return (entry.view, lowered if self.windows else entry.path) in self._written

    def consume(self, layer: int, entry: LayerEntry, open_file: Callable[[], IO[bytes]]) -> None:
        key = self._key(entry.view, entry.path)
        if entry.kind in (EntryKind.WHITEOUT, EntryKind.OPAQUE):
            self._removals.append((layer, key, entry.kind))
            return
        wanting: list[Cataloger] = []
        if self._pending is not None and self._pending[0] is entry:
            wanting = self._pending[1]
        self._pending = None
        if key in self._written and layer not in self._written[key]:
            self._written[key].append(layer)
        if not wanting:
            return
        found = FoundFile(
            layer, entry.view, entry.path, evidence_for(entry.view, entry.path), entry.size
        )
        self._written.setdefault(key, [layer])
        self._evidence[found.evidence] = (key, layer)
        self._files[(layer, key)] = found
        if entry.kind == EntryKind.HARDLINK:
            target = self._files.get((layer, self._key(entry.view, entry.link_target)))
            if target is not None:
                for cataloger in wanting:
                    cataloger.alias(found, target)
            return
        if entry.kind != EntryKind.FILE:
            return
        self._feed(found, wanting, open_file)

    def _feed(
        self, found: FoundFile, wanting: list[Cataloger], open_file: Callable[[], IO[bytes]]
    ) -> None:
        readers = []
        for cataloger in wanting:
            if not cataloger.reads_content:
                self._add(cataloger, found, Content())
            elif found.size > cataloger.max_bytes:
                self.warnings.append(
                    f"{found.evidence} (layer {found.layer}): {found.size} bytes exceeds the "
                    f"{cataloger.max_bytes}-byte limit of the {cataloger.name} cataloger; "
                    "not read"
                )
            else:
                readers.append(cataloger)
        if not readers:
            return
        handle = open_file()
        if any(c.needs_path for c in readers):
            path = self._spool(handle)
            try:
                data = path.read_bytes() if not all(c.needs_path for c in readers) else b""
                for cataloger in readers:
                    self._add(
                        cataloger,
                        found,
                        Content(data, path) if cataloger.needs_path else Content(data),
                    )
            finally:
                path.unlink(missing_ok=True)
            return
        data = handle.read(found.size + 1)
        for cataloger in readers:
            self._add(cataloger, found, Content(data))

    def _add(self, cataloger: Cataloger, found: FoundFile, content: Content) -> None:
        try:
            cataloger.add(found, content)
        except Exception as exc:
            # Catalogers turn the failures they expect into warnings; anything else a
            # parser (regipy, pefile, zipfile, sqlite) throws at crafted input must not take
            # the whole SBOM down: it becomes a warning naming the file.
            self.warnings.append(
                f"layer {found.layer}: {found.evidence}: {cataloger.name} cataloger failed "
                f"({type(exc).__name__}: {str(exc)[:200]})"
            )

    def _spool(self, handle: IO[bytes]) -> Path:
        if self._scratch is None:
            self._scratch = tempfile.TemporaryDirectory(prefix="chainproof-sbom-")
        with tempfile.NamedTemporaryFile(dir=self._scratch.name, delete=False) as out:
            shutil.copyfileobj(handle, out, 1 << 20)
        return Path(out.name)

    # -- after the pass ------------------------------------------------------------------

    def _removed_by(self, component: Component) -> int | None:
        if (
            component.removed_by is not None
            or component.layer is None
            or not component.evidence
            or component.type == ComponentType.OPERATING_SYSTEM
        ):
            return component.removed_by
        located = self._evidence.get(component.evidence[0])
        if located is None:
            return None
        (view, path), _ = located
        layer = component.layer
        candidates = [w for w in self._written.get((view, path), []) if w > layer]
        for removal_layer, (rview, rpath), kind in self._removals:
            if removal_layer <= layer or rview != view:
                continue
            inside = path.startswith(f"{rpath}/") or not rpath
            if (kind == EntryKind.WHITEOUT and (rpath == path or inside)) or (
                kind == EntryKind.OPAQUE and inside
            ):
                candidates.append(removal_layer)
        return min(candidates) if candidates else None

    def finish(self, context: CatalogContext) -> list[Component]:
        components: list[Component] = []
        try:
            for cataloger in self.catalogers:
                for found in cataloger.finish(context):
                    if cataloger.tracks_removal:
                        components.append(found)
                        continue
                    removed = self._removed_by(found)
                    if removed != found.removed_by:
                        found = dataclasses.replace(found, removed_by=removed)  # noqa: PLW2901
                    components.append(found)
        finally:
            if self._scratch is not None:
                self._scratch.cleanup()
                self._scratch = None
        self.warnings.extend(context.warnings)
        return sorted(components, key=Component.sort_key)


def subject_for(reference: str, image: PlatformImage) -> ImageSubject:
    return ImageSubject(
        reference,
        str(image.digest),
        str(image.platform),
        image.config.os_version,
        tuple(str(layer.digest) for layer in image.manifest.layers),
    )


def assemble(
    builder: SbomBuilder,
    image: PlatformImage,
    reference: str,
    reports: Sequence[LayerReport] = (),
) -> Sbom:
    """Finish ``builder`` after the layer pass and wrap the result as an :class:`Sbom`."""
    context = CatalogContext(image.config, builder.windows, len(image.manifest.layers))
    components = builder.finish(context)
    warnings = list(builder.warnings)
    for report in reports:
        if report.skipped:
            urls = report.descriptor.urls
            where = f" (foreign layer, {urls[0]})" if urls else ""
            warnings.append(
                f"layer {report.index}{where} not read ({report.skipped}): "
                "its components are missing"
            )
        elif report.error:
            warnings.append(f"layer {report.index}: {report.error}; its catalog may be partial")
    return Sbom(subject_for(reference, image), tuple(components), tuple(dict.fromkeys(warnings)))

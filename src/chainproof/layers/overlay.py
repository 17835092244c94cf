"""The merged view of an image's layers: which layer introduced a path, which removed it.

Applies OCI whiteouts (``.wh.NAME`` deletes NAME and everything under it from lower layers;
``.wh..wh..opq`` hides a directory's lower-layer contents) and plain overwrites. Windows paths
compare case-insensitively, as NTFS does.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from chainproof.layers.walker import EntryKind, LayerEntry, View

if TYPE_CHECKING:
    from collections.abc import Iterator


@dataclass(frozen=True)
class Presence:
    """A path as one layer wrote it, and the layer that removed or replaced it (if any)."""

    entry: LayerEntry
    layer: int
    removed_by: int | None = None

    @property
    def present(self) -> bool:
        return self.removed_by is None


class Overlay:
    def __init__(self, *, case_insensitive: bool = False) -> None:
        self._fold = case_insensitive
        self._live: dict[tuple[View, str], Presence] = {}
        self._history: list[Presence] = []

    def _key(self, view: View, path: str) -> tuple[View, str]:
        return view, path.casefold() if self._fold else path

    def _remove(
        self, key: tuple[View, str], layer: int, *, subtree: bool, lower_only: bool
    ) -> None:
        view, path = key
        prefix = f"{path}/" if path else ""
        doomed = [
            k
            for k, p in self._live.items()
            if k[0] == view
            and ((not lower_only and k == key) or (subtree and (k[1].startswith(prefix))))
            and (not lower_only or p.layer < layer)
        ]
        for k in doomed:
            old = self._live.pop(k)
            self._history.append(replace(old, removed_by=layer))

    def apply(self, layer: int, entry: LayerEntry) -> None:
        key = self._key(entry.view, entry.path)
        if entry.kind == EntryKind.WHITEOUT:
            self._remove(key, layer, subtree=True, lower_only=False)
            return
        if entry.kind == EntryKind.OPAQUE:
            self._remove(key, layer, subtree=True, lower_only=True)
            return
        old = self._live.get(key)
        if old is not None:
            self._history.append(replace(old, removed_by=layer))
        self._live[key] = Presence(entry, layer)

    def present(self) -> Iterator[Presence]:
        """What a container started from this image sees."""
        return iter(self._live.values())

    def all(self) -> Iterator[Presence]:
        """Every version of every path, including those removed or replaced later."""
        yield from self._history
        yield from self._live.values()

    def lookup(self, view: View, path: str) -> Presence | None:
        return self._live.get(self._key(view, path))

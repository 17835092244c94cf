"""Facts from a SOFTWARE hive (base or layer delta), and merging deltas over the base.

Only the keys the SBOM relies on are read: ``Microsoft\\Windows NT\\CurrentVersion`` (build,
UBR, edition, installation type), ``NDP\\v4\\Full`` (.NET Framework release), the
``Uninstall`` keys (HKLM and WOW6432Node) and the update packages of
``Component Based Servicing\\Packages``. A child layer's ``Software_Delta`` is applied over
what the lower layers said with the layered-key rules (tombstone, SupersedeLocal,
SupersedeTree, value tombstones), so a program an application layer installed or an update a
servicing layer applied is attributed to that layer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from chainproof.windows.hive import LayerSemantics

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from chainproof.windows.hive import Hive, RegKey

CURRENT_VERSION = r"Microsoft\Windows NT\CurrentVersion"
NDP_V4_FULL = r"Microsoft\NET Framework Setup\NDP\v4\Full"
UNINSTALL = r"Microsoft\Windows\CurrentVersion\Uninstall"
UNINSTALL_WOW = r"WOW6432Node\Microsoft\Windows\CurrentVersion\Uninstall"
CBS_PACKAGES = r"Microsoft\Windows\CurrentVersion\Component Based Servicing\Packages"

KEYS = (CURRENT_VERSION, NDP_V4_FULL)
COLLECTIONS = (UNINSTALL, UNINSTALL_WOW, CBS_PACKAGES)
#: Bounds a hostile hive: more subkeys than this under one tracked key is not a real image.
MAX_SUBKEYS = 100_000


def _is_update_package(name: str) -> bool:
    # Thousands of CBS packages are OS features; updates are the "Package_for_*" ones
    # (KBnnnnnnn, RollupFix, ServicingStack, DotNetRollup).
    return name.casefold().startswith("package_for_")


def _any_name(_name: str) -> bool:
    return True


_FILTERS: dict[str, Callable[[str], bool]] = {CBS_PACKAGES: _is_update_package}


@dataclass(frozen=True)
class KeyState:
    """A key as one hive (base or delta) states it."""

    values: dict[str, Any]  # case-folded value name → value (tombstoned values excluded)
    removed_values: frozenset[str] = frozenset()  # case-folded names tombstoned in a delta
    semantics: LayerSemantics = LayerSemantics.NONE
    names: dict[str, str] = field(default_factory=dict)  # case-folded → original spelling


@dataclass(frozen=True)
class CollectionState:
    """The subkeys of a tracked key (one per program or package)."""

    entries: dict[str, tuple[str, KeyState]]  # case-folded subkey name → (name, state)
    #: TOMBSTONE or SUPERSEDE_TREE on the key or an ancestor: lower layers' entries go.
    replaces_lower: LayerSemantics = LayerSemantics.NONE
    present: bool = True


@dataclass(frozen=True)
class SoftwareSnapshot:
    layered: bool
    keys: dict[str, KeyState | None]
    ancestors: dict[str, LayerSemantics]  # for KEYS: tombstone/supersede-tree above them
    collections: dict[str, CollectionState]

    def touched(self) -> tuple[str, ...]:
        """Tracked paths this (delta) hive changes."""
        out = [p for p in KEYS if self.keys.get(p) is not None or self.ancestors.get(p)]
        out += [
            p
            for p, c in self.collections.items()
            if c.present and (c.entries or c.replaces_lower != LayerSemantics.NONE)
        ]
        return tuple(out)


def _state(key: RegKey) -> KeyState:
    values = key.values()
    return KeyState(
        {n: v.value for n, v in values.items() if not v.tombstone},
        frozenset(n for n, v in values.items() if v.tombstone),
        key.semantics,
        {n: v.name for n, v in values.items()},
    )


def _ancestor_semantics(chain: list[RegKey], *, include_last: bool) -> LayerSemantics:
    keys = chain if include_last else chain[:-1]
    for key in keys:
        if key.semantics in (LayerSemantics.TOMBSTONE, LayerSemantics.SUPERSEDE_TREE):
            return key.semantics
    return LayerSemantics.NONE


def read_software(hive: Hive, prefix: str = "") -> SoftwareSnapshot:
    """The tracked facts of ``hive``; ``prefix`` roots them (``Software`` for an NTUSER hive)."""

    def full(path: str) -> str:
        return f"{prefix}\\{path}" if prefix else path

    keys: dict[str, KeyState | None] = {}
    ancestors: dict[str, LayerSemantics] = {}
    for path in KEYS:
        chain = list(hive.walk(full(path)))
        depth = len([p for p in full(path).split("\\") if p])
        found = chain[-1] if len(chain) == depth else None
        keys[path] = _state(found) if found is not None else None
        ancestors[path] = _ancestor_semantics(chain, include_last=found is None)
    collections: dict[str, CollectionState] = {}
    for path in COLLECTIONS:
        chain = list(hive.walk(full(path)))
        depth = len([p for p in full(path).split("\\") if p])
        if len(chain) != depth:
            collections[path] = CollectionState(
                {}, _ancestor_semantics(chain, include_last=True), present=False
            )
            continue
        accept = _FILTERS.get(path, _any_name)
        entries: dict[str, tuple[str, KeyState]] = {}
        for count, child in enumerate(chain[-1].subkeys()):
            if count >= MAX_SUBKEYS:
                break
            if accept(child.name):
                entries[child.name.casefold()] = (child.name, _state(child))
        collections[path] = CollectionState(entries, _ancestor_semantics(chain, include_last=True))
    return SoftwareSnapshot(hive.layered, keys, ancestors, collections)


@dataclass
class MergedEntry:
    name: str
    values: dict[str, Any]
    layer: int
    removed_by: int | None = None
    changed_by: list[int] = field(default_factory=list)


@dataclass
class MergedSoftware:
    """The tracked facts after every layer's delta; which layers changed what."""

    base_layer: int
    keys: dict[str, dict[str, Any]]
    key_changed_by: dict[str, list[int]]
    collections: dict[str, list[MergedEntry]]
    deltas: list[tuple[int, tuple[str, ...]]] = field(default_factory=list)

    def value(self, key: str, name: str) -> Any:
        return self.keys.get(key, {}).get(name.casefold())


def _apply_values(current: dict[str, Any], state: KeyState, replace: bool) -> dict[str, Any]:
    if replace or state.semantics in (
        LayerSemantics.SUPERSEDE_LOCAL,
        LayerSemantics.SUPERSEDE_TREE,
    ):
        return dict(state.values)
    merged = {k: v for k, v in current.items() if k not in state.removed_values}
    merged.update(state.values)
    return merged


def merge(
    base_layer: int, base: SoftwareSnapshot, deltas: Iterable[tuple[int, SoftwareSnapshot]]
) -> MergedSoftware:
    keys = {p: dict(s.values) if s is not None else {} for p, s in base.keys.items()}
    changed: dict[str, list[int]] = {p: [] for p in KEYS}
    live: dict[str, dict[str, MergedEntry]] = {}
    gone: dict[str, list[MergedEntry]] = {p: [] for p in COLLECTIONS}
    for path, collection in base.collections.items():
        live[path] = {
            k: MergedEntry(name, dict(state.values), base_layer)
            for k, (name, state) in collection.entries.items()
        }
    merged = MergedSoftware(base_layer, keys, changed, {})
    for layer, delta in sorted(deltas, key=lambda d: d[0]):
        merged.deltas.append((layer, delta.touched()))
        for path in KEYS:
            state, above = delta.keys.get(path), delta.ancestors.get(path, LayerSemantics.NONE)
            if state is None and above == LayerSemantics.NONE:
                continue
            if state is None or state.semantics == LayerSemantics.TOMBSTONE:
                keys[path] = {}
            else:
                keys[path] = _apply_values(
                    keys[path], state, above == LayerSemantics.SUPERSEDE_TREE
                )
            changed[path].append(layer)
        for path in COLLECTIONS:
            changes = delta.collections.get(path)
            if changes is None:
                continue
            entries = live.setdefault(path, {})
            if changes.replaces_lower != LayerSemantics.NONE:
                for key in list(entries):
                    if (
                        changes.replaces_lower == LayerSemantics.TOMBSTONE
                        or key not in changes.entries
                    ):
                        dropped = entries.pop(key)
                        dropped.removed_by = layer
                        gone[path].append(dropped)
            for key, (name, entry_state) in changes.entries.items():
                current = entries.get(key)
                if entry_state.semantics == LayerSemantics.TOMBSTONE:
                    if current is not None:
                        current.removed_by = layer
                        gone[path].append(entries.pop(key))
                    continue
                if current is None:
                    entries[key] = MergedEntry(name, dict(entry_state.values), layer)
                else:
                    current.values = _apply_values(
                        current.values,
                        entry_state,
                        changes.replaces_lower == LayerSemantics.SUPERSEDE_TREE,
                    )
                    current.changed_by.append(layer)
    merged.collections = {p: [*live.get(p, {}).values(), *gone[p]] for p in COLLECTIONS}
    return merged


#: ``NDP\v4\Full`` ``Release`` → the minimum version it denotes (Microsoft's documented table).
_NDP_RELEASES = (
    (533320, "4.8.1"),
    (528040, "4.8"),
    (461808, "4.7.2"),
    (461308, "4.7.1"),
    (460798, "4.7"),
    (394802, "4.6.2"),
    (394254, "4.6.1"),
    (393295, "4.6"),
    (379893, "4.5.2"),
    (378675, "4.5.1"),
    (378389, "4.5"),
)


def ndp_version(release: int) -> str:
    for minimum, version in _NDP_RELEASES:
        if release >= minimum:
            return version
    return ""

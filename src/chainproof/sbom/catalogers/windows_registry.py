"""Windows OS identity, installed updates, programs and .NET Framework, from the registry.

The OS component starts from the config's ``os.version`` (build and UBR) and is cross-checked
against the SOFTWARE hive of the base layer after every child layer's ``Software_Delta`` was
applied; a disagreement is a warning on the component, never silently resolved. Product and
release come from the build number (``ProductName`` says "Windows Server 2016" on every
server since), the cumulative update KB from the packaged build → KB table.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, ClassVar

from chainproof.errors import Error
from chainproof.layers.walker import View
from chainproof.sbom.interface import Cataloger
from chainproof.sbom.model import Component, ComponentType
from chainproof.windows import software as sw
from chainproof.windows.build import Product, WindowsVersion, product_for, update_level
from chainproof.windows.hive import MAX_HIVE_BYTES, Hive

if TYPE_CHECKING:
    from collections.abc import Iterator

    from chainproof.layers.walker import LayerEntry
    from chainproof.sbom.interface import CatalogContext, Content, FoundFile

_BASE_NAMES = {"software_base"}
_SYSTEM32_SOFTWARE = "windows/system32/config/software"
_DELTA_NAMES = {"software_delta"}
_CBS_INSTALLED = 0x70
_PREFIX = "chainproof:windows:"


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bytes):
        return ""
    if isinstance(value, list):
        return " ".join(str(v) for v in value)
    return str(value).strip().strip("\0")


def _int(value: Any) -> int | None:
    if isinstance(value, int):
        return value
    text = _text(value)
    try:
        return int(text, 0) if text else None
    except ValueError:
        return None


_CBS_NAME = re.compile(
    r"^Package_for_(?P<what>[^~]+)~[^~]*~[^~]*~[^~]*~(?P<version>[0-9.]+)$", re.I
)


class WindowsRegistryCataloger(Cataloger):
    name = "windows-registry"
    path_suffixes = (*_BASE_NAMES, *_DELTA_NAMES, _SYSTEM32_SOFTWARE)
    max_bytes: ClassVar[int] = MAX_HIVE_BYTES
    needs_path = True

    def __init__(self) -> None:
        self._base: tuple[int, str, sw.SoftwareSnapshot] | None = None
        self._base_failed: list[str] = []
        self._deltas: list[tuple[int, str, sw.SoftwareSnapshot]] = []
        self._delta_failed: list[str] = []

    def wants(self, entry: LayerEntry) -> bool:
        if entry.view == View.HIVES:
            name = entry.path.casefold()
            return name in _BASE_NAMES or name in _DELTA_NAMES
        return entry.view == View.FILES and entry.path.casefold() == _SYSTEM32_SOFTWARE

    def add(self, found: FoundFile, content: Content) -> None:
        delta = found.path.casefold() in _DELTA_NAMES
        if not delta and self._base is not None and self._base[0] == found.layer:
            return  # both Hives\SOFTWARE_BASE and config\SOFTWARE: one is enough
        if content.path is None:
            return
        try:
            hive = Hive(content.path, found.evidence)
            snapshot = sw.read_software(hive)
        except Error as exc:
            (self._delta_failed if delta else self._base_failed).append(
                f"layer {found.layer}: {exc}"
            )
            return
        if delta:
            self._deltas.append((found.layer, found.evidence, snapshot))
        else:
            self._base = (found.layer, found.evidence, snapshot)

    # -- components ----------------------------------------------------------------------

    def finish(self, context: CatalogContext) -> Iterator[Component]:
        if not context.windows:
            return
        merged: sw.MergedSoftware | None = None
        hive_evidence: tuple[str, ...] = ()
        if self._base is not None:
            layer, evidence, snapshot = self._base
            deltas = [(d_layer, d_snap) for d_layer, _, d_snap in self._deltas if d_layer > layer]
            merged = sw.merge(layer, snapshot, deltas)
            hive_evidence = (
                evidence,
                *(e for d_layer, e, _ in self._deltas if d_layer > layer),
            )
        warnings = [f"SOFTWARE hive unreadable: {w}" for w in self._base_failed]
        warnings += [
            f"layer delta hive unreadable, registry facts may be stale: {w}"
            for w in self._delta_failed
        ]
        if self._base is None and not self._base_failed:
            warnings.append(
                "no SOFTWARE hive in the layers read (base layer not available?): OS identity "
                "from the config's os.version only"
            )
        yield self._os_component(context, merged, hive_evidence, warnings)
        if merged is None:
            return
        yield from self._updates(merged, hive_evidence)
        yield from self._programs(merged, hive_evidence)
        framework = self._framework(merged, hive_evidence)
        if framework is not None:
            yield framework

    def _os_component(
        self,
        context: CatalogContext,
        merged: sw.MergedSoftware | None,
        evidence: tuple[str, ...],
        warnings: list[str],
    ) -> Component:
        props: list[tuple[str, str]] = []
        config_version: WindowsVersion | None = None
        if context.config.os_version:
            try:
                config_version = WindowsVersion.parse(context.config.os_version)
            except Error as exc:
                warnings.append(f"config os.version: {exc}")
            props.append((f"{_PREFIX}config-os-version", context.config.os_version))
        installation_type = edition = registry_product = ""
        hive_build: int | None = None
        hive_ubr: int | None = None
        if merged is not None:
            cv = sw.CURRENT_VERSION
            hive_build = _int(
                merged.value(cv, "CurrentBuildNumber") or merged.value(cv, "CurrentBuild")
            )
            hive_ubr = _int(merged.value(cv, "UBR"))
            edition = _text(merged.value(cv, "EditionID"))
            installation_type = _text(merged.value(cv, "InstallationType"))
            registry_product = _text(merged.value(cv, "ProductName"))
            for label, value in (
                ("registry-build", hive_build),
                ("registry-ubr", hive_ubr),
                ("edition", edition),
                ("installation-type", installation_type),
                ("registry-product-name", registry_product),
                ("display-version", _text(merged.value(cv, "DisplayVersion"))),
            ):
                if value not in (None, ""):
                    props.append((f"{_PREFIX}{label}", str(value)))
            if merged.key_changed_by.get(cv):
                props.append(
                    (
                        f"{_PREFIX}current-version-changed-by-layers",
                        ",".join(str(x) for x in merged.key_changed_by[cv]),
                    )
                )
            if hive_build is None:
                warnings.append("SOFTWARE hive has no CurrentBuildNumber")
        version = config_version
        if version is None and hive_build is not None:
            version = WindowsVersion(10, 0, hive_build, hive_ubr)
        if (
            config_version is not None
            and hive_build is not None
            and (
                hive_build != config_version.build
                or (
                    hive_ubr is not None
                    and config_version.ubr is not None
                    and hive_ubr != config_version.ubr
                )
            )
        ):
            warnings.append(
                f"config os.version {config_version} disagrees with the SOFTWARE hive "
                f"(CurrentBuildNumber {hive_build}, UBR {hive_ubr}) after layer deltas"
            )
        product = product_for(version.build, installation_type) if version else None
        name = product.name if product else "Windows"
        if product is not None:
            props.append((f"{_PREFIX}release", product.release))
        if version is not None:
            _update_properties(version, product, props, warnings)
        if merged is not None:
            props.append((f"{_PREFIX}source", "config+registry" if config_version else "registry"))
        else:
            props.append((f"{_PREFIX}source", "config"))
        return Component(
            ComponentType.OPERATING_SYSTEM,
            name,
            str(version) if version else "",
            "windows",
            self.name,
            supplier="Microsoft Corporation",
            layer=merged.base_layer if merged is not None else None,
            evidence=evidence or ("config:os.version",),
            properties=tuple(props),
            warnings=tuple(warnings),
        )

    def _entry_evidence(
        self, key_path: str, entry: sw.MergedEntry, hives: tuple[str, ...]
    ) -> tuple[str, ...]:
        return (f"registry:HKLM\\SOFTWARE\\{key_path}\\{entry.name}", *hives)

    def _updates(self, merged: sw.MergedSoftware, hives: tuple[str, ...]) -> Iterator[Component]:
        for entry in merged.collections.get(sw.CBS_PACKAGES, []):
            state = _int(entry.values.get("currentstate"))
            if state is not None and state != _CBS_INSTALLED:
                continue
            match = _CBS_NAME.match(entry.name)
            what = match.group("what") if match else entry.name
            version = match.group("version") if match else ""
            yield Component(
                ComponentType.APPLICATION,
                what,
                version,
                "windows-update",
                self.name,
                supplier="Microsoft Corporation",
                layer=entry.layer,
                removed_by=entry.removed_by,
                evidence=self._entry_evidence(sw.CBS_PACKAGES, entry, hives),
                properties=((f"{_PREFIX}cbs-package", entry.name), *_changed_by(entry)),
            )

    def _programs(self, merged: sw.MergedSoftware, hives: tuple[str, ...]) -> Iterator[Component]:
        for path, wow in ((sw.UNINSTALL, False), (sw.UNINSTALL_WOW, True)):
            for entry in merged.collections.get(path, []):
                yield from uninstall_component(entry, path, wow, hives, self.name)

    def _framework(self, merged: sw.MergedSoftware, hives: tuple[str, ...]) -> Component | None:
        values = merged.keys.get(sw.NDP_V4_FULL) or {}
        release = _int(values.get("release"))
        if release is None:
            return None
        version = _text(values.get("version")) or sw.ndp_version(release)
        return Component(
            ComponentType.FRAMEWORK,
            ".NET Framework",
            version,
            "dotnet-framework",
            self.name,
            supplier="Microsoft Corporation",
            layer=merged.base_layer
            if not merged.key_changed_by.get(sw.NDP_V4_FULL)
            else merged.key_changed_by[sw.NDP_V4_FULL][-1],
            evidence=(f"registry:HKLM\\SOFTWARE\\{sw.NDP_V4_FULL}", *hives),
            properties=(
                (f"{_PREFIX}ndp-release", str(release)),
                (f"{_PREFIX}ndp-release-version", sw.ndp_version(release)),
            ),
        )


def _changed_by(entry: sw.MergedEntry) -> list[tuple[str, str]]:
    """Layers whose delta changed this key after it was introduced (facts were merged)."""
    if not entry.changed_by:
        return []
    return [(f"{_PREFIX}registry-changed-by-layers", ",".join(str(x) for x in entry.changed_by))]


def uninstall_component(
    entry: sw.MergedEntry, key_path: str, wow: bool, hives: tuple[str, ...], cataloger: str
) -> Iterator[Component]:
    """A program from an ``Uninstall`` subkey; entries without a DisplayName are not programs."""
    display = _text(entry.values.get("displayname"))
    if not display:
        return
    props = [(f"{_PREFIX}uninstall-key", entry.name), *_changed_by(entry)]
    if wow:
        props.append((f"{_PREFIX}wow6432node", "true"))
    if _int(entry.values.get("systemcomponent")) == 1:
        props.append((f"{_PREFIX}system-component", "true"))
    yield Component(
        ComponentType.APPLICATION,
        display,
        _text(entry.values.get("displayversion")),
        "windows-program",
        cataloger,
        supplier=_text(entry.values.get("publisher")),
        layer=entry.layer,
        removed_by=entry.removed_by,
        evidence=(f"registry:HKLM\\SOFTWARE\\{key_path}\\{entry.name}", *hives),
        properties=tuple(props),
    )


def _update_properties(
    version: WindowsVersion,
    product: Product | None,
    props: list[tuple[str, str]],
    warnings: list[str],
) -> None:
    """Build, UBR and the cumulative update level from the packaged build → KB table."""
    props.append((f"{_PREFIX}build", str(version.build)))
    if version.ubr is not None:
        props.append((f"{_PREFIX}ubr", str(version.ubr)))
    level = update_level(version, product)
    if level is not None:
        if level.applied is not None:
            props.append((f"{_PREFIX}cumulative-update", level.kb or "(no KB listed)"))
            props.append((f"{_PREFIX}cumulative-update-revision", str(level.applied.ubr)))
            if not level.exact:
                warnings.append(
                    f"UBR {version.ubr} is not the revision of a known cumulative "
                    f"update; the nearest earlier one is {level.kb or level.applied.ubr}"
                )
        props.append((f"{_PREFIX}missing-updates", str(len(level.missing))))
        if level.missing:
            latest = level.missing[-1]
            props.append(
                (
                    f"{_PREFIX}latest-update",
                    f"{latest.kb or '-'} ({version.build}.{latest.ubr})",
                )
            )
    elif version.ubr is not None:
        warnings.append(f"build {version.build} is not in the packaged build → KB table")

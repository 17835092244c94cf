"""Linux (and language) ecosystems: os-release, dpkg, apk, rpm (sqlite), Python, npm, Java."""

from __future__ import annotations

import io
import mmap
import re
import sqlite3
import struct
import zipfile
from email.parser import BytesHeaderParser
from typing import TYPE_CHECKING, Any, ClassVar

from chainproof.errors import MalformedError
from chainproof.layers.walker import EntryKind
from chainproof.sbom.catalogers._util import json_object, purl
from chainproof.sbom.interface import Cataloger, FileCataloger
from chainproof.sbom.model import Component, ComponentType

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from chainproof.layers.walker import LayerEntry
    from chainproof.sbom.interface import CatalogContext, Content, FoundFile

_FILE_KINDS = (EntryKind.FILE, EntryKind.HARDLINK)
DISTRO_FACT = "linux.distro"  # context.facts key: (id, version_id)


def _distro(context: CatalogContext) -> tuple[str, str]:
    found = context.facts.get(DISTRO_FACT)
    return found if isinstance(found, tuple) else ("", "")


def _with_distro(
    context: CatalogContext, components: list[Component], kind: str
) -> Iterator[Component]:
    """Fill in purls that need the distribution (known only once os-release was seen)."""
    import dataclasses

    distro, version = _distro(context)
    for c in components:
        arch = c.property("chainproof:arch") or ""
        namespace = distro or ("alpine" if kind == "apk" else "")
        qualifiers = {"arch": arch, "distro": f"{distro}-{version}" if distro and version else ""}
        yield dataclasses.replace(
            c, purl=purl(kind, c.name, c.version, namespace or None, **qualifiers)
        )


def track_snapshots(components: list[Component]) -> list[Component]:
    """Package databases are rewritten whole by every layer that installs something.

    Compare each layer's snapshot of one database with the previous one: a package that is
    unchanged keeps the layer that first installed it, one that disappears (or changes
    version) is removed by the layer whose snapshot no longer has it.
    """
    import dataclasses

    by_file: dict[str, dict[int, list[Component]]] = {}
    for c in components:
        by_file.setdefault(c.evidence[0] if c.evidence else "", {}).setdefault(
            c.layer or 0, []
        ).append(c)
    out: list[Component] = []
    for snapshots in by_file.values():
        live: dict[tuple[str, str, str], Component] = {}
        for layer in sorted(snapshots):
            current = {
                (c.name, c.version, c.property("chainproof:arch") or ""): c
                for c in snapshots[layer]
            }
            for key in list(live):
                if key not in current:
                    out.append(dataclasses.replace(live.pop(key), removed_by=layer))
            for key, component in current.items():
                live.setdefault(key, component)
        out.extend(live.values())
    return out


class OsReleaseCataloger(FileCataloger):
    name = "os-release"
    path_suffixes = ("os-release",)
    max_bytes = 64 * 1024

    def wants(self, entry: LayerEntry) -> bool:
        return entry.kind in _FILE_KINDS and entry.path in ("etc/os-release", "usr/lib/os-release")

    def parse(self, found: FoundFile, data: bytes) -> Iterator[Component]:
        fields: dict[str, str] = {}
        for line in data.decode("utf-8", "replace").splitlines():
            key, sep, value = line.partition("=")
            if sep and key.strip().isidentifier():
                fields[key.strip()] = value.strip().strip("\"'")
        if not fields.get("ID"):
            raise MalformedError(f"{found.evidence}: no ID in os-release")
        props = [
            (f"chainproof:os-release:{k.lower()}", v)
            for k, v in sorted(fields.items())
            if k in ("ID", "VERSION_ID", "VERSION_CODENAME", "PRETTY_NAME", "ID_LIKE")
        ]
        yield Component(
            ComponentType.OPERATING_SYSTEM,
            fields["ID"],
            fields.get("VERSION_ID", ""),
            "linux",
            self.name,
            supplier=fields.get("NAME", ""),
            layer=found.layer,
            evidence=(found.evidence,),
            properties=tuple(props),
        )

    def finish(self, context: CatalogContext) -> Iterator[Component]:
        # /etc/os-release wins over /usr/lib/os-release; the topmost layer wins.
        components = sorted(
            super().finish(context),
            key=lambda c: (c.layer or 0, c.evidence[0].startswith("/etc/")),
        )
        if components:
            best = components[-1]
            context.facts[DISTRO_FACT] = (best.name, best.version)
            yield best


def _paragraphs(text: str) -> Iterator[dict[str, str]]:
    record: dict[str, str] = {}
    last = ""
    for line in text.splitlines():
        if not line.strip():
            if record:
                yield record
            record, last = {}, ""
        elif line[0] in " \t":
            if last:
                record[last] += "\n" + line.strip()
        else:
            key, _, value = line.partition(":")
            last = key.strip()
            record[last] = value.strip()
    if record:
        yield record


class DpkgCataloger(FileCataloger):
    name = "dpkg"
    tracks_removal = True
    max_bytes = 64 * 1024 * 1024

    def wants(self, entry: LayerEntry) -> bool:
        return entry.kind in _FILE_KINDS and (
            entry.path == "var/lib/dpkg/status" or entry.path.startswith("var/lib/dpkg/status.d/")
        )

    def parse(self, found: FoundFile, data: bytes) -> Iterator[Component]:
        for record in _paragraphs(data.decode("utf-8", "replace")):
            name, version = record.get("Package", ""), record.get("Version", "")
            status = record.get("Status", "install ok installed")
            if not name or not version or not status.endswith(" installed"):
                continue
            props = [("chainproof:arch", record.get("Architecture", ""))]
            if record.get("Source"):
                props.append(("chainproof:deb:source", record["Source"].split(" ", 1)[0]))
            yield Component(
                ComponentType.LIBRARY,
                name,
                version,
                "deb",
                self.name,
                supplier=record.get("Maintainer", ""),
                layer=found.layer,
                evidence=(found.evidence,),
                properties=tuple(p for p in props if p[1]),
            )

    def finish(self, context: CatalogContext) -> Iterator[Component]:
        return _with_distro(context, track_snapshots(list(super().finish(context))), "deb")


class ApkCataloger(FileCataloger):
    name = "apk"
    path_suffixes = ("lib/apk/db/installed",)
    tracks_removal = True
    max_bytes = 64 * 1024 * 1024

    def wants(self, entry: LayerEntry) -> bool:
        return entry.kind in _FILE_KINDS and entry.path == "lib/apk/db/installed"

    def parse(self, found: FoundFile, data: bytes) -> Iterator[Component]:
        record: dict[str, str] = {}
        for line in [*data.decode("utf-8", "replace").splitlines(), ""]:
            if not line.strip():
                if record.get("P") and record.get("V"):
                    props = [("chainproof:arch", record.get("A", ""))]
                    if record.get("o"):
                        props.append(("chainproof:apk:origin", record["o"]))
                    yield Component(
                        ComponentType.LIBRARY,
                        record["P"],
                        record["V"],
                        "apk",
                        self.name,
                        licenses=tuple(x for x in [record.get("L", "")] if x),
                        supplier=record.get("m", ""),
                        layer=found.layer,
                        evidence=(found.evidence,),
                        properties=tuple(p for p in props if p[1]),
                    )
                record = {}
            elif len(line) > 2 and line[1] == ":":
                record.setdefault(line[0], line[2:])

    def finish(self, context: CatalogContext) -> Iterator[Component]:
        return _with_distro(context, track_snapshots(list(super().finish(context))), "apk")


# RPM header tags and types (rpm's lib/rpmtag.h).
_RPM_TAGS = {
    1000: "name",
    1001: "version",
    1002: "release",
    1003: "epoch",
    1014: "license",
    1011: "vendor",
    1022: "arch",
    1044: "sourcerpm",
}
_RPM_STRING, _RPM_INT32, _RPM_I18N = 6, 4, 9


def parse_rpm_header(blob: bytes, what: str) -> dict[str, Any]:
    """The tags chainproof needs from an RPM header blob (as stored in rpmdb.sqlite)."""
    if len(blob) < 8:
        raise MalformedError(f"{what}: RPM header too short")
    count, data_length = struct.unpack_from(">II", blob, 0)
    start = 8 + 16 * count
    if count > 100_000 or start + data_length > len(blob):
        raise MalformedError(f"{what}: RPM header sizes out of range")
    store = blob[start : start + data_length]
    out: dict[str, Any] = {}
    for index in range(count):
        tag, kind, offset, items = struct.unpack_from(">IIII", blob, 8 + 16 * index)
        field = _RPM_TAGS.get(tag)
        if field is None or offset >= len(store):
            continue
        if kind in (_RPM_STRING, _RPM_I18N) or (kind == 8 and items):
            end = store.find(b"\0", offset)
            out[field] = store[offset : end if end >= 0 else len(store)].decode("utf-8", "replace")
        elif kind == _RPM_INT32 and offset + 4 <= len(store):
            out[field] = struct.unpack_from(">I", store, offset)[0]
    return out


_RPM_DIRS = ("var/lib/rpm/", "usr/lib/sysimage/rpm/")
_RPM_FORMATS = {"rpmdb.sqlite": "sqlite", "Packages": "bdb", "Packages.db": "ndb"}


class RpmDatabaseCataloger(Cataloger):
    """RPM databases: sqlite (Fedora ≥ 33, RHEL/UBI ≥ 9, Azure Linux), BerkeleyDB hash
    ``Packages`` (RHEL/CentOS ≤ 8, Amazon Linux 2) and ndb ``Packages.db`` (SUSE)."""

    name = "rpm"
    path_suffixes = ("rpmdb.sqlite", "/packages", "/packages.db")
    tracks_removal = True
    max_bytes: ClassVar[int] = 512 * 1024 * 1024
    needs_path = True

    def __init__(self) -> None:
        self._components: list[Component] = []
        self.warnings: list[str] = []

    def wants(self, entry: LayerEntry) -> bool:
        if entry.kind not in _FILE_KINDS:
            return False
        directory, _, name = entry.path.rpartition("/")
        return name in _RPM_FORMATS and f"{directory}/" in _RPM_DIRS

    def _blobs(self, found: FoundFile, path: Path) -> list[bytes]:
        kind = _RPM_FORMATS[found.name]
        if kind == "sqlite":
            try:
                connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
                try:
                    rows = connection.execute("SELECT blob FROM Packages").fetchall()
                finally:
                    connection.close()
            except sqlite3.Error as exc:
                raise MalformedError(f"{found.evidence}: unreadable rpmdb ({exc})") from None
            return [bytes(blob) for (blob,) in rows]
        from chainproof.sbom.catalogers import rpmdb

        with path.open("rb") as handle:
            if path.stat().st_size == 0:
                raise MalformedError(f"{found.evidence}: empty rpm database")
            # Mapped, not read: an rpmdb can be hundreds of MB; only headers are copied out.
            with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
                read = rpmdb.bdb_values if kind == "bdb" else rpmdb.ndb_blobs
                blobs: list[bytes] = []
                try:
                    for blob in read(mapped, found.evidence):  # type: ignore[arg-type]
                        blobs.append(bytes(blob))
                except MalformedError as exc:
                    # Keep what was read before the damage: a partial SBOM, with a warning.
                    self.warnings.append(f"{exc} (layer {found.layer}; read {len(blobs)} headers)")
                # BerkeleyDB's record 0 is rpm's instance counter (4 bytes), not a header.
                return [b for b in blobs if len(b) != 4]

    def add(self, found: FoundFile, content: Content) -> None:
        if content.path is None:
            return
        try:
            blobs = self._blobs(found, content.path)
        except MalformedError as exc:
            self.warnings.append(f"{exc} (layer {found.layer})")
            return
        # A newer database in a later layer replaces the earlier one (the builder marks it).
        for blob in blobs:
            try:
                header = parse_rpm_header(blob, found.evidence)
            except MalformedError as exc:
                self.warnings.append(str(exc))
                continue
            if not header.get("name") or header.get("name") == "gpg-pubkey":
                continue
            version = f"{header.get('version', '')}-{header.get('release', '')}".strip("-")
            epoch = header.get("epoch")
            props = [("chainproof:arch", str(header.get("arch", "")))]
            if epoch:
                props.append(("chainproof:rpm:epoch", str(epoch)))
            props.append(("chainproof:rpm:database", _RPM_FORMATS[found.name]))
            self._components.append(
                Component(
                    ComponentType.LIBRARY,
                    str(header["name"]),
                    version,
                    "rpm",
                    self.name,
                    licenses=tuple(x for x in [str(header.get("license", ""))] if x),
                    supplier=str(header.get("vendor", "")),
                    layer=found.layer,
                    evidence=(found.evidence,),
                    properties=tuple(p for p in props if p[1]),
                )
            )

    def finish(self, context: CatalogContext) -> Iterator[Component]:
        context.warnings.extend(self.warnings)
        return _with_distro(context, track_snapshots(self._components), "rpm")


#: The earlier name (sqlite only).
RpmSqliteCataloger = RpmDatabaseCataloger


_DIST_INFO = re.compile(r"[^/]+\.(?:dist-info/METADATA|egg-info/PKG-INFO|egg-info)$")


class PythonCataloger(FileCataloger):
    name = "python"
    path_suffixes = ("metadata", "pkg-info", ".egg-info")
    max_bytes = 4 * 1024 * 1024

    def wants(self, entry: LayerEntry) -> bool:
        return entry.kind in _FILE_KINDS and _DIST_INFO.search(entry.path) is not None

    def parse(self, found: FoundFile, data: bytes) -> Iterator[Component]:
        headers = BytesHeaderParser().parsebytes(data)
        name, version = (
            str(headers.get("Name", "")).strip(),
            str(headers.get("Version", "")).strip(),
        )
        if not name or not version:
            raise MalformedError(f"{found.evidence}: no Name/Version in package metadata")
        licenses = (
            [str(headers["License-Expression"]).strip()]
            if headers.get("License-Expression")
            else []
        )
        if not licenses and headers.get("License") and len(str(headers["License"])) < 100:
            licenses = [str(headers["License"]).strip()]
        if not licenses:
            licenses = [
                c.rsplit("::", 1)[-1].strip()
                for c in headers.get_all("Classifier", [])
                if str(c).startswith("License ::") and "::" in str(c)[len("License ::") :]
            ]
        normalized = re.sub(r"[-_.]+", "-", name).lower()
        yield Component(
            ComponentType.LIBRARY,
            name,
            version,
            "pypi",
            self.name,
            purl=purl("pypi", normalized, version),
            licenses=tuple(x for x in licenses if x and x != "UNKNOWN"),
            supplier=str(headers.get("Author", "") or ""),
            layer=found.layer,
            evidence=(found.evidence,),
        )


_NODE_PACKAGE = re.compile(r"(?:^|/)node_modules/(?:@[^/]+/)?[^/@][^/]*/package\.json$")


def _npm_license(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict) and isinstance(value.get("type"), str):
        return [value["type"]]
    if isinstance(value, list):
        return [x for item in value for x in _npm_license(item)]
    return []


class NpmCataloger(FileCataloger):
    name = "npm"
    path_suffixes = ("package.json",)
    max_bytes = 4 * 1024 * 1024

    def wants(self, entry: LayerEntry) -> bool:
        return entry.kind in _FILE_KINDS and _NODE_PACKAGE.search(entry.path) is not None

    def parse(self, found: FoundFile, data: bytes) -> Iterator[Component]:
        document = json_object(data, found.evidence)
        name, version = document.get("name"), document.get("version")
        if not isinstance(name, str) or not isinstance(version, str) or not name:
            return
        namespace, _, bare = name.rpartition("/")
        author = document.get("author")
        supplier = author.get("name", "") if isinstance(author, dict) else str(author or "")
        yield Component(
            ComponentType.LIBRARY,
            name,
            version,
            "npm",
            self.name,
            purl=purl("npm", bare, version, namespace or None),
            licenses=tuple(_npm_license(document.get("license", document.get("licenses")))),
            supplier=supplier,
            layer=found.layer,
            evidence=(found.evidence,),
        )


_ARCHIVES = (".jar", ".war", ".ear")
MAX_ARCHIVE_MEMBERS = 65536
MAX_METADATA_BYTES = 1024 * 1024
MAX_NESTED_BYTES = 64 * 1024 * 1024
MAX_NESTING = 2


def _manifest(text: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    last = ""
    for line in text.splitlines():
        if line.startswith(" ") and last:
            fields[last] += line[1:]
        elif ":" in line:
            last, _, value = line.partition(":")
            last = last.strip()
            fields[last] = value.strip()
    return fields


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes | None:
    if info.file_size > limit:
        return None
    with archive.open(info) as handle:
        data = handle.read(limit + 1)  # the header's size may lie: bound the read itself
    return data if len(data) <= limit else None


class JavaArchiveCataloger(FileCataloger):
    """Maven coordinates (``pom.properties``) or manifest identity of ``.jar``/``.war``/``.ear``,
    including jars nested in fat jars, with bounded reads (no zip bomb expands in memory)."""

    name = "java-archive"
    path_suffixes = _ARCHIVES
    # Held in memory while read (zipfile needs to seek): bounds peak RSS.
    max_bytes = 128 * 1024 * 1024

    def wants(self, entry: LayerEntry) -> bool:
        return entry.kind in _FILE_KINDS and entry.path.casefold().endswith(_ARCHIVES)

    def parse(self, found: FoundFile, data: bytes) -> Iterator[Component]:
        yield from self._archive(found, data, found.evidence, 0)

    def _archive(
        self, found: FoundFile, data: bytes, where: str, depth: int
    ) -> Iterator[Component]:
        try:
            archive = zipfile.ZipFile(io.BytesIO(data))
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            raise MalformedError(f"{where}: not a readable Java archive ({exc})") from None
        with archive:
            members = archive.infolist()
            if len(members) > MAX_ARCHIVE_MEMBERS:
                raise MalformedError(f"{where}: more than {MAX_ARCHIVE_MEMBERS} entries")
            found_pom = False
            manifest: dict[str, str] = {}
            try:
                for info in members:
                    name = info.filename
                    if name.startswith("META-INF/maven/") and name.endswith("/pom.properties"):
                        raw = _read_member(archive, info, MAX_METADATA_BYTES)
                        if raw is None:
                            continue
                        props = _manifest(raw.decode("utf-8", "replace").replace("=", ":"))
                        group, artifact = props.get("groupId", ""), props.get("artifactId", "")
                        version = props.get("version", "")
                        if artifact and version:
                            found_pom = True
                            yield self._component(found, where, artifact, version, group)
                    elif name.upper() == "META-INF/MANIFEST.MF":
                        raw = _read_member(archive, info, MAX_METADATA_BYTES)
                        manifest = _manifest(raw.decode("utf-8", "replace")) if raw else {}
                    elif depth < MAX_NESTING and name.casefold().endswith(".jar"):
                        nested = _read_member(archive, info, MAX_NESTED_BYTES)
                        if nested is not None:
                            try:
                                yield from self._archive(
                                    found, nested, f"{where}!/{name}", depth + 1
                                )
                            except MalformedError as exc:
                                self.warnings.append(str(exc))
            except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError) as exc:
                raise MalformedError(f"{where}: corrupt Java archive ({exc})") from None
            if not found_pom:
                title = manifest.get("Bundle-SymbolicName", "").split(";", 1)[0] or manifest.get(
                    "Implementation-Title", ""
                )
                version = manifest.get("Bundle-Version") or manifest.get(
                    "Implementation-Version", ""
                )
                if title and version:
                    yield self._component(
                        found, where, title, version, "", manifest.get("Bundle-License", "")
                    )

    def _component(  # noqa: PLR0917 - private helper with coordinates in Maven order
        self,
        found: FoundFile,
        where: str,
        artifact: str,
        version: str,
        group: str,
        license_: str = "",
    ) -> Component:
        return Component(
            ComponentType.LIBRARY,
            f"{group}:{artifact}" if group else artifact,
            version,
            "maven",
            self.name,
            purl=purl("maven", artifact, version, group or None) if group else "",
            licenses=(license_,) if license_ and len(license_) < 200 else (),
            layer=found.layer,
            evidence=(found.evidence,) if where == found.evidence else (found.evidence, where),
        )

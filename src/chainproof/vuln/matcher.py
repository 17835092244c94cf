"""Matching SBOM components against the advisory database.

Three paths, one finding type:

- **Windows OS**: the operating-system component's build picks the MSRC product (release and
  installation); a CVE applies when ``(build, UBR) < FixedBuild`` of that product's Security
  Update rows (hotpatch rows never decide: containers do not get hotpatches). The earliest
  cumulative update and its KB are reported (every later one also fixes it).
- **.NET Framework 4.x**: the NDP line and the highest framework build the image evidences
  (NDP Version, CBS ``Package_for_DotNetRollup*``, mscorlib/System/clr file versions) against
  the rows of "Microsoft .NET Framework <line> on <the image's Windows product>".
- **.NET runtimes / PowerShell**: matched against MSRC's ``.NET X.Y`` / ``PowerShell X.Y``
  products and, through their NuGet identity, OSV. Every component that names the same runtime
  (runtime pack in deps.json, shared framework directory, runtimeconfig) collapses onto one
  identity, and a CVE is reported once per identity whatever source or alias named it.
- **Packages**: purl → OSV ecosystem and name; OSV ``versions`` lists and SEMVER/ECOSYSTEM
  ranges under the ecosystem's own version rules.

Components marked ``chainproof:installed=false`` (declared, not present) are never matched.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from packageurl import PackageURL

from chainproof.checks.interface import Severity
from chainproof.vuln import dotnet_framework as netfx
from chainproof.vuln import versions as ver
from chainproof.vuln.sbom_input import PROP_BUILD, PROP_INSTALLATION, PROP_UBR, SbomComponent
from chainproof.vuln.subtypes import NOT_RECORDED, decides, is_hotpatch
from chainproof.vuln.windows import (
    Installation,
    WindowsBuild,
    normalize_installation,
    parse_os_version,
    product_key,
    product_names,
    release_name,
)

if TYPE_CHECKING:
    from collections.abc import Iterable

    from chainproof.vuln.db import AdvisoryDB
    from chainproof.vuln.interface import OsvRange

SEVERITY_ORDER = {
    Severity.CRITICAL: 4,
    Severity.HIGH: 3,
    Severity.MEDIUM: 2,
    Severity.LOW: 1,
    Severity.INFO: 0,
}
_SEVERITY_WORDS = {
    "critical": Severity.CRITICAL,
    "high": Severity.HIGH,
    "important": Severity.HIGH,
    "medium": Severity.MEDIUM,
    "moderate": Severity.MEDIUM,
    "low": Severity.LOW,
}

_PURL_ECOSYSTEMS = {
    "nuget": "NuGet",
    "pypi": "PyPI",
    "npm": "npm",
    "maven": "Maven",
    "golang": "Go",
    "cargo": "crates.io",
    "gem": "RubyGems",
    "composer": "Packagist",
    "hex": "Hex",
    "pub": "Pub",
}
_DISTRO_ECOSYSTEMS = {
    ("deb", "debian"): "Debian",
    ("deb", "ubuntu"): "Ubuntu",
    ("apk", "alpine"): "Alpine",
    ("apk", "wolfi"): "Wolfi",
    ("apk", "chainguard"): "Chainguard",
    ("rpm", "redhat"): "Red Hat",
    ("rpm", "rhel"): "Red Hat",  # os-release ID, as chainproof's rpm cataloger writes it
    ("rpm", "almalinux"): "AlmaLinux",
    ("rpm", "rocky"): "Rocky Linux",
    ("rpm", "opensuse"): "openSUSE",
    ("rpm", "opensuse-leap"): "openSUSE",
    ("rpm", "opensuse-tumbleweed"): "openSUSE",
    ("rpm", "suse"): "SUSE",
    ("rpm", "sles"): "SUSE",
    ("rpm", "mageia"): "Mageia",
    ("rpm", "photon"): "Photon OS",
}
#: Source-package hints attached to binary distro packages (Debian and Alpine advisories
#: name the source package): chainproof's own catalogers, Trivy, Syft.
_SOURCE_NAME_PROPS = (
    "chainproof:deb:source",
    "chainproof:apk:origin",
    "aquasecurity:trivy:SrcName",
    "syft:metadata:source",
)

_RUNTIME_RE = re.compile(
    r"^(?:runtimepack\.)?(Microsoft\.(?:NETCore|AspNetCore|WindowsDesktop)\.App)"
    r"(?:\.Runtime\.[A-Za-z0-9_.-]+)?$",
    re.IGNORECASE,
)
_GO_TOOLCHAIN = re.compile(r"^go\d")
#: What the SBOM says about .NET Framework (the registry and PE catalogers write these).
PROP_NDP_RELEASE = "chainproof:windows:ndp-release"
PROP_CBS_PACKAGE = "chainproof:windows:cbs-package"
PROP_FRAMEWORK_FILE = "chainproof:pe:dotnet-framework-file"
_POWERSHELL_NAMES = {"powershell", "pwsh", "microsoft.powershell"}


@dataclass(frozen=True)
class Finding:
    """One vulnerability of one installed thing."""

    vuln_id: str  # the CVE when one is known, else the advisory id
    ids: tuple[str, ...]  # every id that named it (GHSA, CVE, …)
    kind: str  # windows | dotnet | powershell | package
    component: str
    version: str
    purl: str
    ecosystem: str
    severity: Severity
    cvss_score: float | None
    fixed: str  # earliest fixing version / build, "" when no fix is known
    kb: str  # the fixing KB for Windows and .NET, else ""
    exploited: bool
    title: str
    sources: tuple[str, ...]
    also: tuple[str, ...] = ()  # other components that collapsed onto this identity
    notes: tuple[str, ...] = ()
    vex_status: str = ""  # set when a VEX statement applies (see chainproof.vuln.vex)
    vex_justification: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.vuln_id,
            "ids": list(self.ids),
            "kind": self.kind,
            "component": self.component,
            "version": self.version,
            "purl": self.purl,
            "ecosystem": self.ecosystem,
            "severity": str(self.severity),
            "cvss_score": self.cvss_score,
            "fixed": self.fixed,
            "kb": self.kb,
            "exploited": self.exploited,
            "title": self.title,
            "sources": list(self.sources),
            "also": list(self.also),
            "notes": list(self.notes),
            "vex": {"status": self.vex_status, "justification": self.vex_justification}
            if self.vex_status
            else None,
        }


@dataclass
class MatchResult:
    findings: list[Finding] = field(default_factory=list)
    #: findings a VEX statement marks not_affected / fixed
    suppressed: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    components: int = 0
    not_installed: int = 0


def severity_of(word: str, score: float | None = None) -> Severity:
    found = _SEVERITY_WORDS.get(word.lower())
    if found is not None:
        return found
    if score is not None:
        for threshold, sev in (
            (9.0, Severity.CRITICAL),
            (7.0, Severity.HIGH),
            (4.0, Severity.MEDIUM),
        ):
            if score >= threshold:
                return sev
        return Severity.LOW
    # Unknown severity is not "no severity": count it as medium so --fail-on medium sees it.
    return Severity.MEDIUM


def _primary_id(advisory_id: str, aliases: Iterable[str]) -> str:
    cves = sorted(a for a in aliases if a.startswith("CVE-"))
    if advisory_id.startswith("CVE-"):
        return advisory_id
    return cves[0] if cves else advisory_id


# --- identities -------------------------------------------------------------------------


@dataclass(frozen=True)
class _PackageRef:
    ecosystem: str
    name: str
    release: str
    source_name: str
    epoch: str = ""  # RPM epoch (purl qualifier or chainproof:rpm:epoch), "" when none


def _split_purl(purl: str) -> tuple[str, str, str, dict[str, str]] | None:
    """(type, namespace, name, qualifiers) of a purl.

    Plain purls (no percent-escapes) are split directly: packageurl-python's full parse costs
    about 60 µs, most of a component's match time. Anything escaped goes through packageurl.
    """
    if not purl.startswith("pkg:"):
        return None
    if "%" not in purl and "#" not in purl:
        rest, _, query = purl[4:].partition("?")
        path, _, _version = rest.rpartition("@") if "@" in rest else (rest, "", "")
        parts = path.strip("/").split("/")
        if len(parts) < 2 or not all(parts):
            return None
        qualifiers = dict(q.partition("=")[::2] for q in query.split("&") if q)
        return parts[0].lower(), "/".join(parts[1:-1]), parts[-1], qualifiers
    try:
        parsed = PackageURL.from_string(purl)
    except ValueError:
        return None
    qualifiers = parsed.qualifiers if isinstance(parsed.qualifiers, dict) else {}
    return parsed.type, parsed.namespace or "", parsed.name, qualifiers


def package_ref(component: SbomComponent) -> _PackageRef | None:
    parts = _split_purl(component.purl) if component.purl else None
    if parts is None:
        return None
    purl_type, namespace, name, qualifiers = parts
    if purl_type in _PURL_ECOSYSTEMS:
        ecosystem = _PURL_ECOSYSTEMS[purl_type]
        if namespace:
            sep = ":" if ecosystem == "Maven" else "/"
            name = f"{namespace}{sep}{name}"
        return _PackageRef(ecosystem, name, "", "")
    ecosystem = _DISTRO_ECOSYSTEMS.get((purl_type, namespace.lower()), "")
    if not ecosystem:
        return None
    distro = qualifiers.get("distro", "")
    # "debian-12", "alpine-3.19.1", "opensuse-leap-15.5": the version is after the last "-".
    release = distro.rsplit("-", 1)[1] if "-" in distro else distro
    source = qualifiers.get("upstream", "").split("@", 1)[0]
    for prop in _SOURCE_NAME_PROPS:
        source = source or component.prop(prop)
    epoch = qualifiers.get("epoch", "") or component.prop("chainproof:rpm:epoch")
    return _PackageRef(ecosystem, name, release, source, epoch if purl_type == "rpm" else "")


_RHEL_RELEASE = re.compile(r"(?:^|:)enterprise_linux:(\d+)")
_SUSE_RELEASE = re.compile(r"(\d+(?:\.\d+)?)(?:[ -]+SP(\d+))?$", re.IGNORECASE)


def _advisory_release(ecosystem: str, release: str) -> str:
    """The distribution version an OSV ``ecosystem:release`` names, comparable with the
    ``distro=`` qualifier (``Red Hat:enterprise_linux:9::appstream`` → 9, ``openSUSE:Leap
    15.5`` → 15.5, ``SUSE:Linux Enterprise Server 15 SP5`` → 15.5, rolling releases → any)."""
    if ecosystem == "Red Hat":
        found = _RHEL_RELEASE.search(release)
        return found.group(1) if found else release
    if ecosystem in ("SUSE", "openSUSE"):
        if "tumbleweed" in release.lower():
            return ""
        found = _SUSE_RELEASE.search(release.split(":", 1)[0].strip())
        if found:
            return found.group(1) + (f".{found.group(2)}" if found.group(2) else "")
    return release.split(":", 1)[0]


def _release_matches(ecosystem: str, advisory_release: str, component_release: str) -> bool:
    if not advisory_release or not component_release:
        return True
    wanted = _advisory_release(ecosystem, advisory_release)
    if not wanted:
        return True
    return component_release == wanted or component_release.startswith(wanted + ".")


def _runtime_family(component: SbomComponent) -> str:
    match = _RUNTIME_RE.match(component.name)
    return match.group(1).lower() if match else ""


def _is_powershell(component: SbomComponent) -> bool:
    if component.name.lower() not in _POWERSHELL_NAMES:
        return False
    major = component.version.split(".", 1)[0]
    # Windows PowerShell 5.1 is part of the OS and serviced by the OS cumulative update.
    return major.isdigit() and int(major) >= 6


def windows_target(component: SbomComponent) -> tuple[WindowsBuild, Installation, bool] | None:
    """(build, installation, installation_was_assumed) of a Windows OS component."""
    build_prop = component.prop(PROP_BUILD)
    if build_prop:
        build = parse_os_version(f"{build_prop}.{component.prop(PROP_UBR) or '0'}")
    elif component.type == "operating-system" and "windows" in component.name.lower():
        build = parse_os_version(component.version)
    else:
        return None
    installation = normalize_installation(component.prop(PROP_INSTALLATION))
    if installation is None:
        lowered = component.name.lower()
        if "nano" in lowered:
            installation = Installation.NANO_SERVER
        elif "servercore" in lowered.replace(" ", "") or "core" in lowered:
            installation = Installation.SERVER_CORE
    if installation is None:
        # Container bases are overwhelmingly Server Core; say so rather than guess silently.
        return build, Installation.SERVER_CORE, True
    return build, installation, False


class Matcher:
    """Matches components against one open :class:`AdvisoryDB`."""

    def __init__(self, db: AdvisoryDB) -> None:
        self._conn = db.connection

    def match(self, components: Iterable[SbomComponent]) -> MatchResult:
        result = MatchResult()
        merged: dict[tuple[str, ...], Finding] = {}
        installed = []
        for component in components:
            result.components += 1
            if not component.installed:
                result.not_installed += 1
                continue
            installed.append(component)
        os_target = next((t for t in (windows_target(c) for c in installed) if t is not None), None)
        for component in installed:
            target = windows_target(component)
            if target is not None:
                self._windows(component, target, merged, result)
                continue
            if component.prop(PROP_NDP_RELEASE):
                self._dotnet_framework(component, os_target, installed, merged, result)
                continue
            family = _runtime_family(component)
            if family:
                # One identity per runtime version: MSRC's ".NET 8.0" product covers the
                # NETCore, AspNetCore and WindowsDesktop frameworks alike.
                identity = ("dotnet", component.version)
                self._msrc_product(component, "dotnet", identity, merged)
                self._packages(component, identity, merged, kind="dotnet")
                continue
            if _is_powershell(component):
                # pwsh.exe / pwsh.dll version resources say "7.4.0 SHA: <commit>".
                pwsh = replace(component, version=component.version.split(" ", 1)[0])
                identity = ("powershell", pwsh.version)
                self._msrc_product(pwsh, "powershell", identity, merged)
                continue
            self._packages(component, None, merged, kind="package")
        result.findings = sorted(
            merged.values(),
            key=lambda f: (-SEVERITY_ORDER[f.severity], f.component, f.vuln_id),
        )
        return result

    # --- Windows -----------------------------------------------------------------------

    def _windows(
        self,
        component: SbomComponent,
        target: tuple[WindowsBuild, Installation, bool],
        merged: dict[tuple[str, ...], Finding],
        result: MatchResult,
    ) -> None:
        build, installation, assumed = target
        names = product_names(build.build, installation)
        if not names:
            result.notes.append(
                f"{component.name} {build}: build {build.build} is not a Windows Server "
                "release chainproof knows; no OS advisories matched"
            )
            return
        product = names[0]
        if assumed:
            result.notes.append(
                f"{component.name} {build}: installation type unknown; matched as {product}"
            )
        rows = self._conn.execute(
            "SELECT cve, kb, fixed_build, build, ubr, severity, cvss_score, exploited, title, "
            "source_id, product_name, subtype FROM msrc_fixes "
            "WHERE kind = 'windows' AND product_key = ? AND build = ? ORDER BY ubr",
            (product_key(product), build.build),
        ).fetchall()
        earliest: dict[str, tuple[Any, ...]] = {}
        hotpatches: dict[str, list[tuple[Any, ...]]] = {}
        legacy = 0
        for row in rows:
            if not decides(row[11]):
                if is_hotpatch(row[11]):
                    hotpatches.setdefault(row[0], []).append(row)
                continue
            legacy += row[11] == NOT_RECORDED
            earliest.setdefault(row[0], row)  # ordered by ubr: the first is the earliest fix
        inferred = self._hotpatch_only(rows, hotpatches, earliest)
        if legacy:
            result.notes.append(
                f"{product}: {legacy} advisory rows were imported before chainproof stored "
                "the remediation SubType, so hotpatch rows cannot be told apart: run "
                "'chainproof db update' (or import the documents again)"
            )
        for cve, row in earliest.items():
            fixed = WindowsBuild(row[3], row[4])
            if build >= fixed:
                continue
            notes = [f"installation assumed: {installation}"] if assumed else []
            if cve in hotpatches:
                named = ", ".join(f"KB{h[1]} ({h[2]})" for h in hotpatches[cve])
                notes.append(
                    f"hotpatch {named} is not for container images: only the cumulative "
                    "update fixes an image"
                )
            if cve in inferred:
                notes.append(
                    "MSRC lists only a hotpatch for this product; the cumulative update of "
                    "the same month is taken as the fix"
                )
            finding = Finding(
                vuln_id=cve,
                ids=(cve,),
                kind="windows",
                component=row[10],
                version=str(build),
                purl=component.purl,
                ecosystem="windows",
                severity=severity_of(row[5], row[6]),
                cvss_score=row[6],
                fixed=row[2],
                kb=f"KB{row[1]}",
                exploited=bool(row[7]),
                title=row[8],
                sources=(f"msrc:{row[9]}",),
                notes=tuple(notes),
            )
            _merge(merged, ("windows", release_name(build.build), str(installation), cve), finding)

    @staticmethod
    def _hotpatch_only(
        rows: list[tuple[Any, ...]],
        hotpatches: dict[str, list[tuple[Any, ...]]],
        earliest: dict[str, tuple[Any, ...]],
    ) -> set[str]:
        """CVEs whose only rows are hotpatch rows (2023-May CVE-2023-24898 on Server 2022):
        decided by the month's cumulative update — the Security Update KB with the most rows
        for the product in the same document — which ``earliest`` gets in their place."""
        orphans = [cve for cve in hotpatches if cve not in earliest]
        if not orphans:
            return set()
        counts: dict[str, dict[tuple[Any, ...], int]] = {}
        for row in rows:
            if decides(row[11]):
                per_doc = counts.setdefault(row[9], {})
                key = (row[1], row[2], row[3], row[4])
                per_doc[key] = per_doc.get(key, 0) + 1
        inferred: set[str] = set()
        for cve in orphans:
            for hotpatch in hotpatches[cve]:
                month = counts.get(hotpatch[9])
                if not month:
                    continue
                kb, fixed_build, build, ubr = max(month, key=lambda k: (month[k], k[3]))
                candidate = (cve, kb, fixed_build, build, ubr, *hotpatch[5:11], "")
                if cve not in earliest or ubr < earliest[cve][4]:
                    earliest[cve] = candidate
                    inferred.add(cve)
        return inferred

    # --- .NET Framework 4.x ----------------------------------------------------------------

    def _dotnet_framework(
        self,
        component: SbomComponent,
        os_target: tuple[WindowsBuild, Installation, bool] | None,
        installed: list[SbomComponent],
        merged: dict[tuple[str, ...], Finding],
        result: MatchResult,
    ) -> None:
        if os_target is None:
            result.notes.append(
                f"{component.name} {component.version}: no Windows OS component, so the "
                ".NET Framework product (which names the Windows release) is unknown"
            )
            return
        build, installation, _ = os_target
        names = product_names(build.build, installation)
        try:
            release = int(component.prop(PROP_NDP_RELEASE))
        except ValueError:
            return
        rollups = [(c.name, c.version) for c in installed if c.prop(PROP_CBS_PACKAGE) and c.version]
        files = [
            (c.name, c.version)
            for c in installed
            if c.prop(PROP_FRAMEWORK_FILE) == "true" and c.version
        ]
        level = netfx.image_level(release, component.version, rollups, files)
        if level is None or not names:
            return
        rows = self._conn.execute(
            "SELECT cve, kb, fixed_build, build, ubr, framework_build, severity, cvss_score, "
            "exploited, title, source_id, product_name, subtype FROM msrc_fixes "
            "WHERE kind = 'dotnet-framework' AND os_product_key = ? AND framework_line = ?",
            (product_key(names[0]), level.line),
        ).fetchall()
        best: dict[str, tuple[Any, ...]] = {}
        fixed_cves: set[str] = set()
        for row in rows:
            if not decides(row[12]):
                continue
            order: tuple[int, ...]
            if row[5] is not None:
                order, have = (row[5],), level.build >= row[5]
            else:
                order, have = (row[3], row[4]), build >= WindowsBuild(row[3], row[4])
            if have:
                fixed_cves.add(row[0])  # cumulative: having one fix of the CVE is enough
                continue
            previous = best.get(row[0])
            if previous is None or order < _framework_order(previous):
                best[row[0]] = row
        for cve, row in best.items():
            if cve in fixed_cves:
                continue
            fixed = f"4.8.{row[5]}" if level.line != netfx.LINE_47 else f"4.7.{row[5]}"
            finding = Finding(
                vuln_id=cve,
                ids=(cve,),
                kind="dotnet-framework",
                component=row[11],
                version=level.version,
                purl=component.purl,
                ecosystem="dotnet-framework",
                severity=severity_of(row[6], row[7]),
                cvss_score=row[7],
                fixed=fixed if row[5] is not None else row[2],
                kb=f"KB{row[1]}" if row[1] else "",
                exploited=bool(row[8]),
                title=row[9],
                sources=(f"msrc:{row[10]}",),
                notes=("evidence: " + "; ".join(level.evidence), *level.notes),
            )
            _merge(merged, ("dotnet-framework", level.line, names[0], cve), finding)

    # --- .NET / PowerShell products in MSRC ---------------------------------------------

    def _msrc_product(
        self,
        component: SbomComponent,
        kind: str,
        identity: tuple[str, ...],
        merged: dict[tuple[str, ...], Finding],
    ) -> None:
        parts = component.version.split(".")
        if len(parts) < 2:
            return
        product = (".NET " if kind == "dotnet" else "PowerShell ") + ".".join(parts[:2])
        rows = self._conn.execute(
            "SELECT cve, kb, fixed_build, severity, cvss_score, exploited, title, source_id "
            "FROM msrc_fixes WHERE kind = ? AND product_key = ?",
            (kind, product.lower()),
        ).fetchall()
        try:
            have = ver.parse("NuGet", component.version)
        except ver.VersionError:
            return
        best: dict[str, tuple[Any, ...]] = {}
        for row in rows:
            try:
                fixed = ver.parse("NuGet", row[2])
            except ver.VersionError:
                continue
            if not have < fixed:
                continue
            previous = best.get(row[0])
            if previous is None or fixed < ver.parse("NuGet", previous[2]):
                best[row[0]] = row
        for cve, row in best.items():
            finding = Finding(
                vuln_id=cve,
                ids=(cve,),
                kind=kind,
                component=component.name,
                version=component.version,
                purl=component.purl,
                ecosystem=kind,
                severity=severity_of(row[3], row[4]),
                cvss_score=row[4],
                fixed=row[2],
                kb=f"KB{row[1]}" if row[1] else "",
                exploited=bool(row[5]),
                title=row[6],
                sources=(f"msrc:{row[7]}",),
            )
            _merge(merged, (*identity, cve), finding)

    # --- OSV packages ---------------------------------------------------------------------

    def _packages(
        self,
        component: SbomComponent,
        identity: tuple[str, ...] | None,
        merged: dict[tuple[str, ...], Finding],
        *,
        kind: str,
    ) -> None:
        ref = package_ref(component)
        if ref is None or not component.version:
            return
        if ref.ecosystem == "Go" and _GO_TOOLCHAIN.match(component.version):
            # Go binaries record their toolchain as "go1.21.5"; OSV's stdlib ranges say "1.21.5".
            component = replace(component, version=component.version[2:].split(" ", 1)[0])
        if ref.epoch and ":" not in component.version:
            # RPM advisories compare epoch:version-release; a missing epoch would read as 0.
            component = replace(component, version=f"{ref.epoch}:{component.version}")
        names = {ver.name_key(ref.ecosystem, ref.name)}
        if ref.source_name:
            names.add(ver.name_key(ref.ecosystem, ref.source_name))
        base_identity = identity or (
            "package",
            ref.ecosystem,
            ver.name_key(ref.ecosystem, ref.name),
            component.version,
        )
        for name in names:
            rows = self._conn.execute(
                "SELECT f.advisory_id, f.release, f.ranges, f.versions, a.aliases, a.severity, "
                "a.cvss_score, a.summary, a.source_id FROM affected f "
                "JOIN advisories a ON a.id = f.advisory_id "
                "WHERE f.ecosystem = ? AND f.name_key = ?",
                (ref.ecosystem, name),
            ).fetchall()
            for row in rows:
                if not _release_matches(ref.ecosystem, row[1], ref.release):
                    continue
                hit, fixed = _affected(ref.ecosystem, component.version, row[2], row[3])
                if not hit:
                    continue
                aliases = tuple(json.loads(row[4]))
                primary = _primary_id(row[0], aliases)
                finding = Finding(
                    vuln_id=primary,
                    ids=tuple(dict.fromkeys((row[0], *aliases))),
                    kind=kind,
                    component=component.name,
                    version=component.version,
                    purl=component.purl,
                    ecosystem=ref.ecosystem,
                    severity=severity_of(row[5], row[6]),
                    cvss_score=row[6],
                    fixed=fixed,
                    kb="",
                    exploited=False,
                    title=row[7],
                    sources=(f"osv:{row[8]}",),
                )
                _merge(merged, (*base_identity, primary), finding)


def _framework_order(row: tuple[Any, ...]) -> tuple[int, ...]:
    return (row[5],) if row[5] is not None else (row[3], row[4])


def _affected(
    ecosystem: str, version: str, ranges_json: str, versions_json: str
) -> tuple[bool, str]:
    """(affected, earliest fixed version above ``version`` or "")."""
    from chainproof.vuln.interface import OsvRange

    listed: tuple[str, ...] = tuple(json.loads(versions_json))
    ranges: list[OsvRange] = [
        OsvRange(kind, tuple((e[0], e[1]) for e in events))
        for kind, events in json.loads(ranges_json)
    ]
    try:
        hit_ranges = [r for r in ranges if ver.in_range(ecosystem, version, r)]
    except ver.VersionError:
        # The component's own version does not parse in its ecosystem: only exact listing.
        hit_ranges = []
    if not hit_ranges and not (listed and ver.in_versions(ecosystem, version, listed)):
        return False, ""
    candidates = [v for r in hit_ranges for v in ver.fixed_versions(r)]
    fixed = ""
    for text in candidates:
        try:
            if ver.parse(ecosystem, version) < ver.parse(ecosystem, text) and (
                not fixed or ver.parse(ecosystem, text) < ver.parse(ecosystem, fixed)
            ):
                fixed = text
        except ver.VersionError:
            continue
    return True, fixed


def _merge(merged: dict[tuple[str, ...], Finding], key: tuple[str, ...], new: Finding) -> None:
    old = merged.get(key)
    if old is None:
        merged[key] = new
        return
    keep = old if SEVERITY_ORDER[old.severity] >= SEVERITY_ORDER[new.severity] else new
    also = set(old.also) | set(new.also)
    for f in (old, new):
        if f.component != keep.component or f.version != keep.version:
            also.add(f"{f.component}@{f.version}")
    merged[key] = replace(
        keep,
        ids=tuple(dict.fromkeys((*old.ids, *new.ids))),
        sources=tuple(dict.fromkeys((*old.sources, *new.sources))),
        fixed=old.fixed or new.fixed,
        kb=old.kb or new.kb,
        exploited=old.exploited or new.exploited,
        title=old.title or new.title,
        also=tuple(sorted(also - {f"{keep.component}@{keep.version}"})),
    )

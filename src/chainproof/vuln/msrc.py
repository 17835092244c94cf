"""MSRC security update documents (CVRF v3 API), XML and JSON forms.

Both forms carry the same elements; the JSON form spells enumerations as numbers
(MsrcSecurityUpdates 1.9.8: Remediation Type 0 Workaround, 1 Mitigation, 2 Vendor Fix,
3 None Available, 4 Will Not Fix, 5 Known Issue; Threat Type 0 Impact, 1 Exploit Status,
2 Target Set, 3 Severity). Both are normalised to one intermediate shape first, so the
extraction rules below exist once.

Kept: Vendor-Fix remediations of Windows products (``FixedBuild`` ``10.0.B.U`` with a KB),
of ``.NET X.Y`` and ``PowerShell X.Y`` (FixedBuild is the product version), and of .NET
Framework 4.x on Windows Server releases (see :mod:`chainproof.vuln.dotnet_framework`), each
with its ``SubType`` (hotpatch rows are stored but never decide: :mod:`chainproof.vuln.subtypes`).
Everything else (Edge, Office, Mariner RPMs, "Release Notes" rows of other products) is not
OS-level and is left to the package feeds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as DET
from defusedxml import DefusedXmlException

from chainproof import _jsonutil
from chainproof.errors import MalformedError
from chainproof.vuln import dotnet_framework as netfx
from chainproof.vuln.interface import Feed, FeedBatch, SourceInfo, WindowsFix
from chainproof.vuln.windows import RELEASES, WindowsBuild, parse_fixed_build, product_key

#: A monthly CVRF document is 1-10 MB; refuse anything absurd before parsing.
MAX_DOCUMENT_BYTES = 128 * 1024 * 1024

_REMEDIATION_TYPES = {
    0: "Workaround",
    1: "Mitigation",
    2: "Vendor Fix",
    3: "None Available",
    4: "Will Not Fix",
    5: "Known Issue",
}
_THREAT_TYPES = {0: "Impact", 1: "Exploit Status", 2: "Target Set", 3: "Severity"}

#: Windows builds MSRC publishes FixedBuild values for (clients and servers, NT 10.0).
KNOWN_BUILDS = frozenset(
    {10240, 10586, 14393, 15063, 16299, 17134, 17763, 18362, 18363, 19041, 19042, 19043}
    | {19044, 19045, 20348, 22000, 22621, 22631, 25398, 26100, 26200, 28000}
)

#: Server product keys (full and Server Core) → their build.
_SERVER_BUILDS = {
    product_key(name): build
    for build, release in RELEASES.items()
    for name in (release, f"{release} (Server Core installation)")
}
_DOTNET_RE = re.compile(r"^\.NET (\d+\.\d+)$")
_POWERSHELL_RE = re.compile(r"^PowerShell (\d+\.\d+)$")
_KB_RE = re.compile(r"^(?:KB)?(\d{6,8})$", re.IGNORECASE)


@dataclass
class _Remediation:
    type: str
    description: str
    supercedence: str
    product_ids: list[str]
    fixed_build: str
    subtype: str = ""


@dataclass
class _Vulnerability:
    cve: str
    title: str
    #: (type, description, product ids)
    threats: list[tuple[str, str, list[str]]] = field(default_factory=list)
    #: (base score, vector, product ids)
    scores: list[tuple[float | None, str, list[str]]] = field(default_factory=list)
    remediations: list[_Remediation] = field(default_factory=list)


@dataclass
class _Document:
    id: str
    initial_release: str
    current_release: str
    products: dict[str, str]
    vulnerabilities: list[_Vulnerability]


# --- XML form -------------------------------------------------------------------------------


def _text(element: Element | None) -> str:
    if element is None or element.text is None:
        return ""
    return element.text.strip()


def _ids(element: Element) -> list[str]:
    return [_text(p) for p in element.findall("{*}ProductID")]


def _score(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _from_xml(data: bytes, origin: str) -> _Document:
    try:
        root = DET.fromstring(data)
    except DefusedXmlException as exc:
        raise MalformedError(f"{origin}: refused XML ({type(exc).__name__})") from None
    except DET.ParseError as exc:
        raise MalformedError(f"{origin}: malformed XML ({exc})") from None
    if not root.tag.endswith("cvrfdoc"):
        raise MalformedError(f"{origin}: not a CVRF document (root element {root.tag!r})")
    tracking = root.find("{*}DocumentTracking")
    if tracking is None:
        raise MalformedError(f"{origin}: CVRF document without DocumentTracking")
    products = {
        p.get("ProductID", ""): " ".join(_text(p).split())
        for p in root.iter()
        if p.tag.endswith("}FullProductName") and p.get("ProductID")
    }
    vulns: list[_Vulnerability] = []
    for v in root.findall("{*}Vulnerability"):
        vuln = _Vulnerability(cve=_text(v.find("{*}CVE")), title=_text(v.find("{*}Title")))
        for t in v.iterfind("{*}Threats/{*}Threat"):
            vuln.threats.append((t.get("Type", ""), _text(t.find("{*}Description")), _ids(t)))
        for s in v.iterfind("{*}CVSSScoreSets/{*}ScoreSet"):
            vuln.scores.append(
                (_score(_text(s.find("{*}BaseScore"))), _text(s.find("{*}Vector")), _ids(s))
            )
        for r in v.iterfind("{*}Remediations/{*}Remediation"):
            vuln.remediations.append(
                _Remediation(
                    type=r.get("Type", ""),
                    description=_text(r.find("{*}Description")),
                    supercedence=_text(r.find("{*}Supercedence")),
                    product_ids=_ids(r),
                    fixed_build=_text(r.find("{*}FixedBuild")),
                    subtype=_text(r.find("{*}SubType")),
                )
            )
        vulns.append(vuln)
    return _Document(
        id=_text(tracking.find("{*}Identification/{*}ID")),
        initial_release=_text(tracking.find("{*}InitialReleaseDate")),
        current_release=_text(tracking.find("{*}CurrentReleaseDate")),
        products=products,
        vulnerabilities=vulns,
    )


# --- JSON form ------------------------------------------------------------------------------


def _value(node: Any) -> str:
    """JSON CVRF wraps most strings as ``{"Value": ...}``; accept both shapes."""
    if isinstance(node, dict):
        node = node.get("Value")
    if node is None:
        return ""
    if isinstance(node, str | int | float):
        return str(node).strip()
    return ""


def _enum(node: Any, table: dict[int, str]) -> str:
    if isinstance(node, int) and not isinstance(node, bool):
        return table.get(node, str(node))
    return _value(node)


def _list(node: Any) -> list[Any]:
    if node is None:
        return []
    return node if isinstance(node, list) else [node]


def _json_ids(node: dict[str, Any]) -> list[str]:
    return [_value(p) for p in _list(node.get("ProductID"))]


def _walk_products(node: Any, out: dict[str, str]) -> None:
    if isinstance(node, dict):
        for item in _list(node.get("FullProductName")):
            if isinstance(item, dict) and item.get("ProductID"):
                out[str(item["ProductID"])] = " ".join(_value(item).split())
        for child in _list(node.get("Branch")) + _list(node.get("Items")):
            _walk_products(child, out)
    elif isinstance(node, list):
        for child in node:
            _walk_products(child, out)


def _from_json(data: bytes, origin: str) -> _Document:
    # Size is bounded by the caller.
    doc = _jsonutil.loads_object(data, origin, max_bytes=MAX_DOCUMENT_BYTES)
    tracking = doc.get("DocumentTracking")
    if not isinstance(tracking, dict) or not isinstance(doc.get("Vulnerability", []), list):
        raise MalformedError(f"{origin}: not a CVRF JSON document (no DocumentTracking)")
    identification = tracking.get("Identification") or {}
    products: dict[str, str] = {}
    _walk_products(doc.get("ProductTree") or {}, products)
    vulns: list[_Vulnerability] = []
    for v in doc.get("Vulnerability") or []:
        if not isinstance(v, dict):
            raise MalformedError(f"{origin}: a Vulnerability entry is not an object")
        vuln = _Vulnerability(cve=_value(v.get("CVE")), title=_value(v.get("Title")))
        for t in _list(v.get("Threats")):
            if isinstance(t, dict):
                vuln.threats.append(
                    (
                        _enum(t.get("Type"), _THREAT_TYPES),
                        _value(t.get("Description")),
                        _json_ids(t),
                    )
                )
        for s in _list(v.get("CVSSScoreSets")):
            if isinstance(s, dict):
                vuln.scores.append(
                    (_score(_value(s.get("BaseScore"))), _value(s.get("Vector")), _json_ids(s))
                )
        for r in _list(v.get("Remediations")):
            if isinstance(r, dict):
                vuln.remediations.append(
                    _Remediation(
                        type=_enum(r.get("Type"), _REMEDIATION_TYPES),
                        description=_value(r.get("Description")),
                        supercedence=_value(r.get("Supercedence")),
                        product_ids=_json_ids(r),
                        fixed_build=_value(r.get("FixedBuild")),
                        subtype=_value(r.get("SubType")),
                    )
                )
        vulns.append(vuln)
    return _Document(
        id=_value(identification.get("ID")),
        initial_release=_value(tracking.get("InitialReleaseDate")),
        current_release=_value(tracking.get("CurrentReleaseDate")),
        products=products,
        vulnerabilities=vulns,
    )


# --- extraction -----------------------------------------------------------------------------


def _per_product_severity(vuln: _Vulnerability) -> dict[str, str]:
    out: dict[str, str] = {}
    for kind, description, ids in vuln.threats:
        if kind == "Severity" and description:
            for pid in ids:
                out[pid] = description
    return out


def _per_product_score(vuln: _Vulnerability) -> dict[str, tuple[float | None, str]]:
    out: dict[str, tuple[float | None, str]] = {}
    for base, vector, ids in vuln.scores:
        for pid in ids:
            out[pid] = (base, vector)
    return out


def _exploited(vuln: _Vulnerability) -> bool:
    for kind, description, _ in vuln.threats:
        if kind == "Exploit Status" and "exploited:yes" in description.replace(" ", "").lower():
            return True
    return False


def _classify(product_name: str, fixed_build: str) -> str | None:
    if product_name.startswith("Microsoft .NET Framework "):
        return "dotnet-framework" if netfx.parse_product(product_name) else None
    if parse_fixed_build(fixed_build) is not None:
        return "windows"
    if _DOTNET_RE.match(product_name):
        return "dotnet"
    if _POWERSHELL_RE.match(product_name):
        return "powershell"
    return None


def extract(document: _Document, origin: str) -> FeedBatch:
    if not document.id:
        raise MalformedError(f"{origin}: CVRF document without an ID")
    batch = FeedBatch(
        source=SourceInfo(
            feed="msrc",
            source_id=document.id,
            newest=document.current_release or document.initial_release,
        )
    )
    seen: set[tuple[str, str, str, str]] = set()
    for vuln in document.vulnerabilities:
        if not vuln.cve:
            batch.skipped.append(f"{document.id}: a Vulnerability without a CVE")
            continue
        severities = _per_product_severity(vuln)
        scores = _per_product_score(vuln)
        exploited = _exploited(vuln)
        for rem in vuln.remediations:
            if rem.type != "Vendor Fix" or not rem.fixed_build:
                continue
            kb_match = _KB_RE.match(rem.description)
            for pid in rem.product_ids:
                name = document.products.get(pid)
                if name is None:
                    batch.skipped.append(
                        f"{document.id} {vuln.cve}: ProductID {pid} is not in the ProductTree"
                    )
                    continue
                kind = _classify(name, rem.fixed_build)
                if kind is None:
                    continue
                fixed_build = rem.fixed_build
                framework: tuple[str, str, netfx.FrameworkFix] | None = None
                if kind == "windows":
                    build = parse_fixed_build(rem.fixed_build)
                    if kb_match is None:
                        # "Release Notes" rows of a Windows product carry no KB to report.
                        continue
                    release_build = _SERVER_BUILDS.get(product_key(name))
                    if (
                        build is not None
                        and release_build is not None
                        and build.build not in KNOWN_BUILDS
                    ):
                        # 2021-Sep gave Server 2019 "10.0.17784.2183" for 17763.2183: the
                        # product names its release, so a build no Windows has is a typo.
                        build = WindowsBuild(release_build, build.ubr)
                    if build is None or build.build not in KNOWN_BUILDS:
                        batch.skipped.append(
                            f"{document.id} {vuln.cve}: product {name!r} has FixedBuild "
                            f"{rem.fixed_build} of a build the build table does not know"
                        )
                        continue
                    fixed_build = str(build)  # "10.0.20348..2762" (2024-Oct) stored as read
                elif kind == "dotnet-framework":
                    product = netfx.parse_product(name)
                    if product is None:  # _classify checked it; keeps mypy informed
                        continue
                    fix = netfx.parse_fix(rem.fixed_build, product)
                    if isinstance(fix, str):
                        batch.skipped.append(f"{document.id} {vuln.cve}: {name!r}: {fix}")
                        continue
                    if fix.os_build is not None:
                        fixed_build = f"10.0.{fix.os_build}.{fix.os_ubr}"
                    framework = (product.os_product, product.line, fix)
                key = (vuln.cve, pid, fixed_build, rem.description)
                if key in seen:
                    continue
                seen.add(key)
                base, vector = scores.get(pid, (None, ""))
                batch.windows_fixes.append(
                    WindowsFix(
                        cve=vuln.cve,
                        product_id=pid,
                        product_name=name,
                        kind=kind,
                        kb=kb_match.group(1) if kb_match else "",
                        fixed_build=fixed_build,
                        supercedence=rem.supercedence,
                        severity=severities.get(pid, ""),
                        cvss_score=base,
                        cvss_vector=vector,
                        exploited=exploited,
                        title=vuln.title,
                        published=document.initial_release,
                        subtype=rem.subtype,
                        os_product=framework[0] if framework else "",
                        framework_line=framework[1] if framework else "",
                        framework_build=framework[2].framework_build if framework else None,
                    )
                )
    return batch


class MsrcCvrfFeed(Feed):
    """MSRC CVRF v3 monthly documents (``/cvrf/v3.0/cvrf/2024-Jan``), XML or JSON."""

    name = "msrc"

    def sniff(self, head: bytes, filename: str) -> bool:
        text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
        if text.startswith(b"<"):
            return b"cvrfdoc" in head or b"icasi.org/CVRF" in head
        return text.startswith(b"{") and (
            b'"DocumentTracking"' in head or b'"DocumentTitle"' in head
        )

    def parse(self, data: bytes, origin: str) -> FeedBatch:
        if len(data) > MAX_DOCUMENT_BYTES:
            raise MalformedError(f"{origin}: {len(data)} bytes exceeds the CVRF size limit")
        stripped = data.lstrip(b"\xef\xbb\xbf \t\r\n")
        if stripped.startswith(b"<"):
            document = _from_xml(stripped, origin)
        else:
            document = _from_json(stripped, origin)
        return extract(document, origin)

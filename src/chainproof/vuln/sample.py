"""The SAMPLE advisory database shipped for ``chainproof demo`` (offline, clearly labelled).

``vuln/sample/`` holds facts extracted from real advisories — identifiers, products, versions,
builds, KBs, severities, CVSS vectors — and none of their prose (no titles, notes,
descriptions or details): the MSRC January 2024 rows for Windows Server 2022, .NET 8.0 and
PowerShell 7.4, and two GHSA records for NuGet packages. :func:`build_sample_database` imports
them with chainproof's own importer; :func:`build_sample_image` writes the December 2023 sample
image the demo scans; :func:`extract_facts` regenerates them from the original
documents (the tests check the shipped files are exactly that).
"""

from __future__ import annotations

import json
from importlib import resources
from typing import TYPE_CHECKING, Any

from chainproof.vuln.db import AdvisoryDB
from chainproof.vuln.load import parse_bytes
from chainproof.vuln.msrc import _from_xml

if TYPE_CHECKING:
    from pathlib import Path

    from chainproof.vuln.matcher import MatchResult

SAMPLE_LABEL = "SAMPLE (demo only, January 2024 facts)"
MSRC_FILE = "msrc-2024-Jan-facts.json"
OSV_FILE = "osv-nuget-facts.json"
SAMPLE_IMAGE_TAG = "ltsc2022-2023-12"
SAMPLE_IMAGE_VERSION = "10.0.20348.2159"
#: Windows Server 2022 (full and Server Core), .NET 8.0, PowerShell 7.4.
SAMPLE_PRODUCTS = ("11923", "11924", "12260", "12262")
_THREAT_NUM = {"Impact": 0, "Exploit Status": 1, "Severity": 3}
_OSV_KEEP = ("schema_version", "id", "modified", "published", "aliases", "severity", "affected")


def extract_facts(cvrf_xml: bytes, osv_records: list[bytes]) -> tuple[str, str]:
    """(MSRC JSON, OSV JSON array) holding only the facts the sample needs."""
    doc = _from_xml(cvrf_xml, "cvrf")
    keep = set(SAMPLE_PRODUCTS)
    vulns: list[dict[str, Any]] = []
    for v in doc.vulnerabilities:
        rems = [
            {
                "Description": {"Value": r.description},
                "Supercedence": r.supercedence,
                "ProductID": [p for p in r.product_ids if p in keep],
                "Type": 2,
                "SubType": r.subtype,
                "FixedBuild": r.fixed_build,
            }
            for r in v.remediations
            if r.type == "Vendor Fix" and keep & set(r.product_ids)
        ]
        if not rems:
            continue
        threats = [
            {
                "Type": _THREAT_NUM[t],
                "Description": {"Value": d},
                "ProductID": [p for p in ids if p in keep],
            }
            for t, d, ids in v.threats
            if (t == "Severity" and keep & set(ids)) or (t == "Exploit Status" and "Exploited" in d)
        ]
        scores = [
            {"BaseScore": base, "Vector": vector, "ProductID": [p for p in ids if p in keep]}
            for base, vector, ids in v.scores
            if keep & set(ids)
        ]
        vulns.append(
            {"CVE": v.cve, "Threats": threats, "CVSSScoreSets": scores, "Remediations": rems}
        )
    msrc = {
        "DocumentTitle": {"Value": SAMPLE_LABEL},
        "DocumentTracking": {
            "Identification": {"ID": {"Value": f"{doc.id} (sample)"}},
            "InitialReleaseDate": doc.initial_release,
            "CurrentReleaseDate": doc.current_release,
        },
        "ProductTree": {
            "FullProductName": [
                {"ProductID": pid, "Value": doc.products[pid]} for pid in SAMPLE_PRODUCTS
            ]
        },
        "Vulnerability": vulns,
    }
    osv = []
    for data in osv_records:
        record = json.loads(data)
        reduced = {k: record[k] for k in _OSV_KEEP if k in record}
        label = (record.get("database_specific") or {}).get("severity")
        if label:
            reduced["database_specific"] = {"severity": label}
        osv.append(reduced)
    return json.dumps(msrc, indent=1) + "\n", json.dumps(osv, indent=1) + "\n"


def _sample_bytes(name: str) -> bytes:
    return resources.files("chainproof.vuln").joinpath("sample", name).read_bytes()


def build_sample_database(path: Path) -> Path:
    """Create the SAMPLE database at ``path`` with chainproof's importer."""
    with AdvisoryDB(path) as db:
        msrc = parse_bytes(_sample_bytes(MSRC_FILE), MSRC_FILE)
        osv = parse_bytes(_sample_bytes(OSV_FILE), OSV_FILE)
        osv.source = type(osv.source)("osv", SAMPLE_LABEL, osv.source.newest)
        db.import_batches([(msrc, f"chainproof:{MSRC_FILE}"), (osv, f"chainproof:{OSV_FILE}")])
    return path


def _deps_json(target: str, libraries: dict[str, tuple[str, dict[str, Any]]]) -> bytes:
    return json.dumps(
        {
            "runtimeTarget": {"name": target, "signature": ""},
            "targets": {target: {key: entry for key, (_, entry) in libraries.items()}},
            "libraries": {key: {"type": kind} for key, (kind, _) in libraries.items()},
        },
        indent=1,
    ).encode()


def build_sample_image(root: Path) -> str:
    """A SAMPLE Windows image as of December 2023 (build 10.0.20348.2159, Server Core), in the
    Windows layer format: a SOFTWARE hive, the .NET 8.0.0 shared runtime, PowerShell 7.4.0
    (self-contained, as Microsoft ships it) and an app with two NuGet packages. Returns its
    ``oci:`` reference. Files are placeholders; the catalogers read paths, hives and manifests.
    """
    from chainproof.oci.layout_writer import LayerFile, LayoutWriter
    from chainproof.windows.regf_writer import Key, write_hive

    hive_root = Key("ROOT")
    hive_root.child(r"Microsoft\Windows NT\CurrentVersion").values.update(
        CurrentBuildNumber="20348",
        CurrentBuild="20348",
        UBR=int(SAMPLE_IMAGE_VERSION.rsplit(".", 1)[1]),
        EditionID="ServerDatacenter",
        InstallationType="Server Core",
        ProductName="Windows Server 2016 Datacenter",
        DisplayVersion="21H2",
    )
    hive = write_hive(hive_root, r"\SystemRoot\System32\Config\SOFTWARE")
    placeholder = b"MZ" + bytes(126)
    pwsh = "Files/Program Files/PowerShell/7/"
    runtime = "Files/Program Files/dotnet/shared/Microsoft.NETCore.App/8.0.0/"
    writer = LayoutWriter(root)
    base = writer.add_layer(
        [
            LayerFile("Files/Windows/System32/config/SOFTWARE", hive),
            LayerFile("Hives/SOFTWARE_BASE", hive),
            LayerFile(runtime + "System.Private.CoreLib.dll", placeholder),
            LayerFile(
                pwsh + "pwsh.deps.json",
                _deps_json(
                    ".NETCoreApp,Version=v8.0/win7-x64",
                    {
                        "pwsh/7.4.0": ("project", {"runtime": {"pwsh.dll": {}}}),
                        "runtimepack.Microsoft.NETCore.App.Runtime.win-x64/8.0.0": (
                            "runtimepack",
                            {"runtime": {"System.Private.CoreLib.dll": {}}},
                        ),
                    },
                ),
            ),
            LayerFile(pwsh + "System.Private.CoreLib.dll", placeholder),
        ]
    )
    app = writer.add_layer(
        [
            LayerFile(
                "Files/app/app.deps.json",
                _deps_json(
                    ".NETCoreApp,Version=v8.0",
                    {
                        "app/1.0.0": ("project", {"runtime": {"app.dll": {}}}),
                        "Newtonsoft.Json/12.0.3": (
                            "package",
                            {"runtime": {"lib/netstandard2.0/Newtonsoft.Json.dll": {}}},
                        ),
                        "System.Text.Json/8.0.4": (
                            "package",
                            {"runtime": {"lib/net8.0/System.Text.Json.dll": {}}},
                        ),
                    },
                ),
            ),
        ]
    )
    writer.tag(
        writer.add_image(
            [base, app], os="windows", os_version=SAMPLE_IMAGE_VERSION, tag=SAMPLE_IMAGE_TAG
        )
    )
    return f"oci:{root}:{SAMPLE_IMAGE_TAG}"


def scan_sample(work_dir: Path) -> MatchResult:
    """The demo: the sample Windows image, cataloged and matched against the sample database."""
    from chainproof.vuln.scan import scan_image

    db_path = build_sample_database(work_dir / "sample-advisories.db")
    (scanned,) = scan_image(build_sample_image(work_dir / "sample-image"), db_path)
    return scanned.result


def render_demo(work_dir: Path) -> str:
    """What ``chainproof demo`` prints for vulnerabilities (table, labelled as a sample)."""
    from chainproof.vuln.report import render_table

    result = scan_sample(work_dir)
    header = f"Vulnerability scan of a sample Windows image against the {SAMPLE_LABEL} database\n"
    return header + render_table(
        result, f"SAMPLE servercore:{SAMPLE_IMAGE_TAG} image ({SAMPLE_IMAGE_VERSION})"
    )

"""The SAMPLE advisory database shipped for ``chainproof demo`` (offline, clearly labelled).

``vuln/sample/`` holds facts extracted from real advisories — identifiers, products, versions,
builds, KBs, severities, CVSS vectors — and none of their prose (no titles, notes,
descriptions or details): the MSRC January 2024 rows for Windows Server 2022, .NET 8.0 and
PowerShell 7.4, and two GHSA records for NuGet packages. :func:`build_sample_database` imports
them with chainproof's own importer; :func:`extract_facts` regenerates them from the original
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
SBOM_FILE = "windows-servercore-ltsc2022-sample.cdx.json"
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


def scan_sample(work_dir: Path) -> MatchResult:
    """The demo: the sample Windows image SBOM against the sample database."""
    from chainproof.vuln.sbom_input import parse_sbom
    from chainproof.vuln.scan import scan_components

    db_path = build_sample_database(work_dir / "sample-advisories.db")
    components = parse_sbom(_sample_bytes(SBOM_FILE), SBOM_FILE)
    return scan_components(components, db_path)


def render_demo(work_dir: Path) -> str:
    """What ``chainproof demo`` prints for vulnerabilities (table, labelled as a sample)."""
    from chainproof.vuln.report import render_table

    result = scan_sample(work_dir)
    header = f"Vulnerability scan of a sample Windows image against the {SAMPLE_LABEL} database\n"
    return header + render_table(result, "sample servercore:ltsc2022 SBOM")

"""Cut a monthly MSRC CVRF document down to a few vulnerabilities, for the test fixtures.

Usage: ``python tests/vuln/data/msrc/trim_cvrf.py FULL.xml OUT.xml [CVE ...]``

Without CVEs it picks, in document order, up to three vulnerabilities with a hotpatch row for
a Windows Server product, up to three with a .NET Framework row for a Windows Server product,
and up to three other Windows Server ones. The chosen ``Vulnerability`` elements are kept
verbatim except for their prose (``Notes``, ``Acknowledgments``, ``RevisionHistory``); the
``ProductTree`` keeps only the products they name; ``DocumentNotes`` are dropped. Nothing is
edited: every remediation, threat and score set of a kept vulnerability is the original.
"""

from __future__ import annotations

import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

NAMESPACES = {
    "cvrf": "http://www.icasi.org/CVRF/schema/cvrf/1.1",
    "vuln": "http://www.icasi.org/CVRF/schema/vuln/1.1",
    "prod": "http://www.icasi.org/CVRF/schema/prod/1.1",
    "cvrf-common": "http://www.icasi.org/CVRF/schema/common/1.1",
    "dc": "http://purl.org/dc/elements/1.1/",
    "scap-core": "https://scap.nist.gov/schema/scap-core/1.0",
    "cvssv2": "https://scap.nist.gov/schema/cvss-v2/1.0",
    "cpe-lang": "http://cpe.mitre.org/language/2.0",
    "sch": "http://purl.oclc.org/dsdl/schematron",
}
V = "{" + NAMESPACES["vuln"] + "}"
SERVER = re.compile(r"Windows Server (2016|2019|2022|2025)")
PROSE = ("Notes", "Acknowledgments", "RevisionHistory")


def _product_ids(vuln: ET.Element) -> set[str]:
    return {p.text or "" for p in vuln.iter() if p.tag.endswith("}ProductID")}


def _pick(root: ET.Element, names: dict[str, str]) -> list[str]:
    hotpatch: list[str] = []
    framework: list[str] = []
    other: list[str] = []
    for vuln in root.findall(V + "Vulnerability"):
        cve = vuln.findtext(V + "CVE") or ""
        kinds = set()
        for rem in vuln.iter(V + "Remediation"):
            ids = {p.text or "" for p in rem.findall(V + "ProductID")}
            server = [names.get(i, "") for i in ids if SERVER.search(names.get(i, ""))]
            if not server or rem.get("Type") != "Vendor Fix":
                continue
            subtype = (rem.findtext(V + "SubType") or "").lower()
            if "hotpatch" in subtype:
                kinds.add("hotpatch")
            elif any("NET Framework" in n for n in server):
                kinds.add("framework")
            else:
                kinds.add("other")
        for kind, bucket in (("hotpatch", hotpatch), ("framework", framework), ("other", other)):
            if kind in kinds and len(bucket) < 3:
                bucket.append(cve)
                break
    return hotpatch + framework + other


def trim(source: Path, target: Path, cves: list[str]) -> list[str]:
    for prefix, uri in NAMESPACES.items():
        ET.register_namespace(prefix, uri)
    tree = ET.parse(source)  # noqa: S314 - see the import
    root = tree.getroot()
    names = {
        p.get("ProductID", ""): p.text or ""
        for p in root.iter()
        if p.tag.endswith("}FullProductName")
    }
    chosen = cves or _pick(root, names)
    keep: set[str] = set()
    for vuln in root.findall(V + "Vulnerability"):
        if (vuln.findtext(V + "CVE") or "") not in chosen:
            root.remove(vuln)
            continue
        for child in list(vuln):
            if child.tag.split("}")[1] in PROSE:
                vuln.remove(child)
        keep |= _product_ids(vuln)
    for notes in [c for c in root if c.tag.endswith("}DocumentNotes")]:
        root.remove(notes)
    for parent in list(root.iter()):
        for child in list(parent):
            if child.tag.endswith("}FullProductName") and child.get("ProductID") not in keep:
                parent.remove(child)
    for _ in range(4):  # product-tree branches left empty by the cut
        for parent in list(root.iter()):
            for child in list(parent):
                if child.tag.endswith("}Branch") and len(child) == 0:
                    parent.remove(child)
    ET.indent(tree)
    tree.write(target, encoding="utf-8", xml_declaration=False)
    return chosen


if __name__ == "__main__":
    picked = trim(Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3:])
    print(" ".join(picked))

"""Cross-check chainproof's Windows OS matching against an independent reading of the CVRF
documents (issue 17, part 1).

The independent side does not use chainproof's parser, importer, product names or matcher:
it reads each monthly XML document with the standard library, identifies the Windows Server
products by their MSRC **ProductID** (stable across months, unlike the names), and decides
"image at UBR u is affected by CVE c" as ``u < min(UBR of the Vendor Fix rows of SubType
exactly "Security Update" for that ProductID)`` — the UBR being the last number of
``FixedBuild``. A FixedBuild whose build is another Windows release's (2024-Aug gives Server
2022 ``10.0.22000.2710``, 2025-Jul gives Server 2019 ``10.0.10240.21034``) contradicts its
product and decides nothing (counted as "contradictory rows"); a build no Windows release has
(2021-Sep: ``10.0.17784.2183`` for Server 2019) is a typo and the UBR is used. A CVE whose
only rows for a product are hotpatch rows (2023-May CVE-2023-24898 on Server 2022) is fixed
by that month's cumulative update: the Security Update KB with the most rows for the product
in the same document. Nano Server is decided with the Server Core
ProductID (MSRC publishes no Nano Server product). A second, "any SubType" column applies the
same rule to every Vendor Fix row (what chainproof did before SubTypes were stored).

chainproof's side imports the same documents with ``chainproof db import``'s code path and
matches an SBOM operating-system component per image build.

Images evaluated per product: every UBR any Vendor Fix row names for it, one below each, and
0 — every boundary where an answer can change.

    python bench/msrc_crosscheck.py --mirror /path/to/p0w3rsh3ll+MSRC-data/repo [--since 2021-Jan]
    python bench/msrc_crosscheck.py --docs DIR_OF_cvrfDocument-YYYY-Mon.xml
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
V = "{http://www.icasi.org/CVRF/schema/vuln/1.1}"

#: (release, build, installation) → ProductID (from the documents' product trees).
PRODUCTS: dict[tuple[str, int, str], str] = {
    ("Windows Server 2016", 14393, "Server"): "10816",
    ("Windows Server 2016", 14393, "Server Core"): "10855",
    ("Windows Server 2016", 14393, "Nano Server"): "10855",
    ("Windows Server 2019", 17763, "Server"): "11571",
    ("Windows Server 2019", 17763, "Server Core"): "11572",
    ("Windows Server 2019", 17763, "Nano Server"): "11572",
    ("Windows Server 2022", 20348, "Server"): "11923",
    ("Windows Server 2022", 20348, "Server Core"): "11924",
    ("Windows Server 2022", 20348, "Nano Server"): "11924",
    ("Windows Server 2022 23H2", 25398, "Server Core"): "12244",
    ("Windows Server 2022 23H2", 25398, "Nano Server"): "12244",
    ("Windows Server 2025", 26100, "Server"): "12436",
    ("Windows Server 2025", 26100, "Server Core"): "12437",
    ("Windows Server 2025", 26100, "Nano Server"): "12437",
}
_FIXED = re.compile(r"^10\.0\.(\d+)\.+(\d+)$")
#: Every NT 10.0 build MSRC has published (clients and servers), written out here on purpose.
WINDOWS_BUILDS = {
    10240,
    10586,
    14393,
    15063,
    16299,
    17134,
    17763,
    18362,
    18363,
    19041,
    19042,
    19043,
    19044,
    19045,
    20348,
    22000,
    22621,
    22631,
    25398,
    26100,
    26200,
    28000,
}
BUILD_OF = {pid: build for (_, build, _), pid in PRODUCTS.items()}


@dataclass
class Truth:
    #: ProductID → CVE → (ubr, kb) of the earliest Security Update row
    security_update: dict[str, dict[str, tuple[int, str]]] = field(
        default_factory=lambda: defaultdict(dict)
    )
    #: ProductID → CVE → earliest UBR of any Vendor Fix row (any SubType)
    any_subtype: dict[str, dict[str, int]] = field(default_factory=lambda: defaultdict(dict))
    #: ProductID → every UBR named by a Vendor Fix row
    ubrs: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    #: ProductID → (month, CVE, FixedBuild) of rows naming another release's build
    contradictory: dict[str, list[tuple[str, str, str]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    months: list[str] = field(default_factory=list)
    #: (ProductID, month) → (ubr, KB) → Security Update rows
    month_updates: dict[tuple[str, str], dict[tuple[int, str], int]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(int))
    )
    #: (ProductID, CVE) → months with a hotpatch row
    hotpatch_months: dict[tuple[str, str], set[str]] = field(
        default_factory=lambda: defaultdict(set)
    )
    months_with_rows: set[str] = field(default_factory=set)


def month_key(path: Path) -> tuple[int, int]:
    stem = path.stem.split("-", 1)[1]  # 2024-Jan
    return int(stem[:4]), MONTHS.index(stem[5:8])


def independent(docs: list[Path]) -> Truth:
    wanted = set(PRODUCTS.values())
    truth = Truth()
    for path in docs:
        root = ET.parse(path).getroot()  # noqa: S314 - see the import
        truth.months.append(path.stem.split("-", 1)[1])
        for vuln in root.iter(V + "Vulnerability"):
            cve = (vuln.findtext(V + "CVE") or "").strip()
            for rem in vuln.iter(V + "Remediation"):
                if rem.get("Type") != "Vendor Fix":
                    continue
                fixed_build = (rem.findtext(V + "FixedBuild") or "").strip()
                match = _FIXED.match(fixed_build)
                if match is None:
                    continue
                build, ubr = int(match.group(1)), int(match.group(2))
                kb = (rem.findtext(V + "Description") or "").strip()
                subtype = (rem.findtext(V + "SubType") or "").strip()
                for pid in {(p.text or "").strip() for p in rem.findall(V + "ProductID")}:
                    if pid not in wanted:
                        continue
                    if build != BUILD_OF[pid] and build in WINDOWS_BUILDS:
                        truth.contradictory[pid].append((truth.months[-1], cve, fixed_build))
                        continue
                    truth.ubrs[pid].add(ubr)
                    truth.months_with_rows.add(truth.months[-1])
                    old = truth.any_subtype[pid].get(cve)
                    truth.any_subtype[pid][cve] = ubr if old is None else min(old, ubr)
                    if "hotpatch" in subtype.replace(" ", "").lower():
                        truth.hotpatch_months[(pid, cve)].add(truth.months[-1])
                    if subtype == "Security Update" and kb.isdigit():
                        truth.month_updates[(pid, truth.months[-1])][(ubr, f"KB{kb}")] += 1
                        best = truth.security_update[pid].get(cve)
                        if best is None or ubr < best[0]:
                            truth.security_update[pid][cve] = (ubr, f"KB{kb}")
    for (pid, cve), months in truth.hotpatch_months.items():
        if cve in truth.security_update[pid]:
            continue
        for month in months:
            updates = truth.month_updates.get((pid, month))
            if updates:
                ubr, kb = max(updates, key=lambda k: (updates[k], k[0]))
                best = truth.security_update[pid].get(cve)
                if best is None or ubr < best[0]:
                    truth.security_update[pid][cve] = (ubr, kb)
    return truth


def chainproof_db(docs: list[Path], db_path: Path) -> None:
    import logging

    from chainproof.vuln.db import AdvisoryDB
    from chainproof.vuln.load import read_path

    logging.disable(logging.WARNING)  # skipped rows are counted by db status, not printed
    with AdvisoryDB(db_path) as db:
        db.import_batches(pair for doc in docs for pair in read_path(doc))


def chainproof_findings(
    db_path: Path, build: int, ubr: int, installation: str
) -> dict[str, tuple[str, str]]:
    from chainproof.vuln.db import AdvisoryDB
    from chainproof.vuln.matcher import Matcher
    from chainproof.vuln.sbom_input import SbomComponent

    component = SbomComponent(
        "Windows Server",
        f"10.0.{build}.{ubr}",
        type="operating-system",
        properties=(
            ("chainproof:windows:build", str(build)),
            ("chainproof:windows:ubr", str(ubr)),
            ("chainproof:windows:installation-type", installation),
        ),
    )
    with AdvisoryDB(db_path) as db:
        result = Matcher(db).match([component])
    return {f.vuln_id: (f.kb, f.fixed) for f in result.findings}


def extract_from_mirror(mirror: Path, since: tuple[int, int], target: Path) -> list[str]:
    """Write the newest stored version of each monthly XML document; returns manifest lines.

    Some snapshot blobs are absent (large files): the newest version present is used."""
    names = subprocess.run(
        ["git", "-C", str(mirror), "ls-tree", "-r", "--name-only", "HEAD"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    manifest = []
    for name in names:
        if "/xml-cvrf-document/cvrfDocument-" not in name or not re.search(
            r"\d{4}-\w{3}\.xml$", name
        ):
            continue
        if month_key(Path(name)) < since:
            continue
        commits = subprocess.run(
            ["git", "-C", str(mirror), "log", "--format=%H", "--", name],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        for commit in commits:
            blob = subprocess.run(
                ["git", "-C", str(mirror), "cat-file", "blob", f"{commit}:{name}"],
                capture_output=True,
                check=False,
            )
            if blob.returncode == 0:
                (target / Path(name).name).write_bytes(blob.stdout)
                manifest.append(f"{name} @ {commit}")
                break
    return manifest


def compare(truth: Truth, db_path: Path) -> list[dict[str, object]]:
    rows = []
    for (release, build, installation), pid in PRODUCTS.items():
        fixes = truth.security_update.get(pid, {})
        naive = truth.any_subtype.get(pid, {})
        points = {0} | truth.ubrs.get(pid, set()) | {u - 1 for u in truth.ubrs.get(pid, set())}
        stats = dict.fromkeys(
            ("images", "decisions", "misses", "false_pos", "kb_diff", "any_subtype_misses"), 0
        )
        examples: list[str] = []
        for ubr in sorted(points):
            expected = {cve: kb for cve, (fixed, kb) in fixes.items() if ubr < fixed}
            got = chainproof_findings(db_path, build, ubr, installation)
            old_rule = {cve for cve, fixed in naive.items() if ubr < fixed}
            stats["images"] += 1
            stats["decisions"] += len(expected)
            misses = set(expected) - set(got)
            false_pos = set(got) - set(expected)
            stats["misses"] += len(misses)
            stats["false_pos"] += len(false_pos)
            stats["kb_diff"] += sum(1 for c in set(expected) & set(got) if got[c][0] != expected[c])
            stats["any_subtype_misses"] += len(set(expected) - old_rule)
            if (misses or false_pos) and len(examples) < 3:
                examples.append(
                    f"{build}.{ubr}: miss {sorted(misses)[:3]} fp {sorted(false_pos)[:3]}"
                )
        rows.append(
            {
                "release": release,
                "installation": installation,
                **stats,
                "contradictory": len(truth.contradictory.get(pid, [])),
                "examples": examples,
            }
        )
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--mirror", type=Path, help="git dir of p0w3rsh3ll/MSRC-data")
    parser.add_argument("--docs", type=Path, help="a directory of cvrfDocument-YYYY-Mon.xml")
    parser.add_argument("--since", default="2021-Jan", help="first month (YYYY-Mon)")
    args = parser.parse_args()
    since = (int(args.since[:4]), MONTHS.index(args.since[5:8]))
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if args.mirror:
            docs_dir = work / "docs"
            docs_dir.mkdir()
            for line in extract_from_mirror(args.mirror, since, docs_dir):
                print(f"document: {line}", file=sys.stderr)
        elif args.docs:
            docs_dir = args.docs
        else:
            parser.error("give --mirror or --docs")
        docs = sorted(
            (p for p in docs_dir.glob("cvrfDocument-*.xml") if re.search(r"\d{4}-\w{3}$", p.stem)),
            key=month_key,
        )
        docs = [d for d in docs if month_key(d) >= since]
        started = time.perf_counter()
        truth = independent(docs)
        independent_s = time.perf_counter() - started
        started = time.perf_counter()
        chainproof_db(docs, work / "advisories.db")
        import_s = time.perf_counter() - started
        rows = compare(truth, work / "advisories.db")
    months_with_rows = len(truth.months_with_rows)
    print(
        f"{len(docs)} documents ({truth.months[0]} … {truth.months[-1]}), {months_with_rows} "
        f"with Windows Server rows; independent read {independent_s:.1f} s, chainproof "
        f"import {import_s:.1f} s"
    )
    print(
        "| release | installation | images | CVE decisions | misses | false positives "
        "| other KB named | contradictory rows | misses of the any-SubType rule |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['release']} | {r['installation']} | {r['images']} | {r['decisions']} | "
            f"{r['misses']} | {r['false_pos']} | {r['kb_diff']} | {r['contradictory']} | "
            f"{r['any_subtype_misses']} |"
        )
    for pid, found in sorted(truth.contradictory.items()):
        for month, cve, fixed_build in sorted(set(found)):
            print(f"  contradictory: ProductID {pid} {month} {cve} FixedBuild {fixed_build}")
    for r in rows:
        for example in r["examples"]:  # type: ignore[attr-defined]
            print(f"  {r['release']} {r['installation']}: {example}")
    return 1 if any(r["misses"] or r["false_pos"] for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())

"""Cross-check chainproof's Windows rule against wesng on the shared fixture data.

For each image build: chainproof's verdict (``(build, UBR) < FixedBuild``, FixedBuild taken
from wesng's KB through the build table) beside wes.py's (installed KBs = every cumulative
update at or below the UBR, given to ``wes --qfe``). Prints a markdown table of the CVE sets
and classifies every difference. wes.py is the real tool (``pip install wesng`` into any
environment; pass ``--wes PATH``); without it only chainproof's side is printed.

    python bench/wesng_crosscheck.py --wes /tmp/wesvenv/bin/wes
"""

from __future__ import annotations

import argparse
import csv
import shutil
import subprocess
import tempfile
import zipfile
from pathlib import Path

from chainproof.vuln.db import AdvisoryDB
from chainproof.vuln.matcher import Matcher
from chainproof.vuln.sbom_input import SbomComponent
from chainproof.vuln.wesng import installed_kbs, read_build_table, read_definitions, to_fixes

FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "windows"
CASES = [
    # (build, ubr, MSRC product)
    (20348, 405, "Windows Server 2022 (Server Core installation)"),
    (20348, 469, "Windows Server 2022 (Server Core installation)"),
    (20348, 2159, "Windows Server 2022 (Server Core installation)"),
    (20348, 2227, "Windows Server 2022 (Server Core installation)"),
    (20348, 5256, "Windows Server 2022 (Server Core installation)"),
    (26100, 32522, "Windows Server 2025 (Server Core installation)"),
]


def chainproof_side(
    fixtures: Path, build: int, ubr: int, product: str, work: Path
) -> tuple[set[str], set[str], set[str]]:
    rows = read_definitions(
        fixtures / "wesng" / "CVEs_20260628_subset_ws2022_ws2025_servercore.csv"
    )
    table = read_build_table(fixtures / "build-kb-map" / "vuls_windows_build_ubr_kb.csv")
    conversion = to_fixes(rows, table, product, build)
    db_path = work / f"wesng-{build}.db"
    with AdvisoryDB(db_path) as db:
        if not db.status().msrc_fixes:
            db.import_batches([(conversion.batch, "wesng")])
        component = SbomComponent(
            "windows",
            f"10.0.{build}.{ubr}",
            type="operating-system",
            properties=(("chainproof:windows:installation", "Server Core"),),
        )
        found = {f.vuln_id for f in Matcher(db).match([component]).findings}
    return found, conversion.no_kb, {cve for cve, _ in conversion.kb_without_build}


def wes_side(  # noqa: PLR0917 - one call site, positional is clearer
    wes: str, fixtures: Path, build: int, ubr: int, product: str, work: Path
) -> dict[str, set[str]]:
    """CVE → the BulletinKB values wes.py reported it under."""
    defs = work / "definitions.zip"
    if not defs.exists():
        with zipfile.ZipFile(defs, "w") as z:
            src = fixtures / "wesng"
            z.write(src / "CVEs_20260628_subset_ws2022_ws2025_servercore.csv", "CVEs_20260628.csv")
            z.write(src / "Custom_20190321.csv", "Custom_20190321.csv")
            z.write(src / "Version_0.94.txt", "Version_0.94.txt")
    table = read_build_table(fixtures / "build-kb-map" / "vuls_windows_build_ubr_kb.csv")
    release = product.split(" (", maxsplit=1)[0]
    qfe = work / f"qfe-{build}-{ubr}.txt"
    qfe.write_text(
        "".join(
            f"http://support.microsoft.com/?kbid={kb} HOST Update KB{kb} SYSTEM 1/1/2024\n"
            for kb in installed_kbs(table, release, ubr)
        )
    )
    listing = subprocess.run(
        [wes, "--definitions", str(defs), "--qfe", str(qfe)],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    index = next(
        line.split("]")[0].strip().lstrip("[")
        for line in listing.splitlines()
        if line.strip().endswith(product)
    )
    out = work / f"wes-{build}-{ubr}.csv"
    subprocess.run(
        [wes, "--definitions", str(defs), "--qfe", str(qfe), "--os", index, "-o", str(out)],
        capture_output=True,
        check=True,
    )
    found: dict[str, set[str]] = {}
    with out.open(encoding="utf-8") as f:
        for r in csv.DictReader(f):
            if r["CVE"]:
                found.setdefault(r["CVE"], set()).add(r["BulletinKB"])
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--wes", default=shutil.which("wes"), help="path of wesng's wes script")
    parser.add_argument("--fixtures", type=Path, default=FIXTURES)
    args = parser.parse_args()
    print("| image build | product | chainproof | wes.py | both | only chainproof | only wes.py |")
    print("|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        details = []
        for build, ubr, product in CASES:
            ours, _no_kb, unmapped = chainproof_side(args.fixtures, build, ubr, product, work)
            if not args.wes:
                print(f"| 10.0.{build}.{ubr} | {product} | {len(ours)} | n/a | | | |")
                continue
            wes_kbs = wes_side(args.wes, args.fixtures, build, ubr, product, work)
            theirs = set(wes_kbs)
            only_ours, only_wes = ours - theirs, theirs - ours
            empty_kb = {c for c in only_wes if wes_kbs[c] == {""}}
            no_build = {c for c in only_wes - empty_kb if c in unmapped}
            print(
                f"| 10.0.{build}.{ubr} | {product} | {len(ours)} | {len(theirs)} | "
                f"{len(ours & theirs)} | {len(only_ours)} | {len(only_wes)} |"
            )
            details.append(
                (
                    f"10.0.{build}.{ubr}",
                    len(empty_kb),
                    len(no_build),
                    len(only_wes - empty_kb - no_build),
                    len(only_ours),
                )
            )
        if details:
            print()
            print(
                "| image build | only wes.py: reported under an empty BulletinKB row "
                "| only wes.py: KB with no build in the table | only wes.py: other "
                "| only chainproof |"
            )
            print("|---|---|---|---|---|")
            for row in details:
                print("| " + " | ".join(map(str, row)) + " |")


if __name__ == "__main__":
    main()

"""Benchmark: OSV import throughput and SBOM matching time, beside a peer.

- Import: a synthetic OSV export (default 200,000 records, zip, mixed ecosystems) into an empty
  database (targets: >= 5,000 advisories/s on one core).
- Match: a 10,000-component CycloneDX SBOM against it (target: <= 1 s).
- Peers: grype and trivy are Go binaries that this machine cannot install (no Go toolchain
  beyond Debian's 1.19, no Go module proxy, no Debian/PyPI/npm package). Installable peers
  doing the same jobs, each in its own virtualenv (not chainproof dependencies):
  * AppThreat vulnerability-db (``pip install appthreat-vulnerability-db``; the SQLite OSV
    database of OWASP dep-scan): ``--vdb-python VENV/bin/python`` imports the same export and
    matches the same SBOM (bench/vdb_peer.py); the (package, CVE) pairs are compared.
  * wesng (``pip install wesng``) for the Windows part: ``--wes PATH`` times ``wes --qfe`` on
    the wesng fixture definitions beside chainproof's Windows OS match.
  Peak RSS is each process's high-water mark.

    python bench/vuln.py [--records 200000] [--components 10000] [--wes PATH] [--vdb-python PATH]
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import tempfile
import time
import zipfile
from pathlib import Path

from chainproof.vuln.db import AdvisoryDB
from chainproof.vuln.load import read_path
from chainproof.vuln.matcher import Matcher
from chainproof.vuln.sbom_input import SbomComponent, read_sbom

ECOSYSTEMS = [
    ("NuGet", "nuget"),
    ("PyPI", "pypi"),
    ("npm", "npm"),
    ("Maven", "maven"),
    ("Go", "golang"),
    ("crates.io", "cargo"),
]
FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "windows"


def _name(eco: str, i: int) -> str:
    if eco == "Maven":
        return f"org.example{i % 97}:artifact-{i}"
    if eco == "Go":
        return f"example.com/mod{i % 97}/pkg{i}"
    return f"package-{i}"


def make_export(path: Path, records: int, packages: int) -> None:
    rng = random.Random(42)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for i in range(records):
            eco, _ = ECOSYSTEMS[i % len(ECOSYSTEMS)]
            pkg = rng.randrange(packages)
            major = rng.randrange(1, 9)
            record = {
                "schema_version": "1.6.0",
                "id": f"BENCH-{i:07d}",
                "modified": "2024-01-01T00:00:00Z",
                "published": "2023-06-01T00:00:00Z",
                "aliases": [f"CVE-2099-{i:07d}"],
                "summary": "synthetic benchmark record",
                "severity": [
                    {"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"}
                ],
                "affected": [
                    {
                        "package": {"ecosystem": eco, "name": _name(eco, pkg)},
                        "ranges": [
                            {
                                "type": "ECOSYSTEM",
                                "events": [
                                    {"introduced": f"{major}.0.0"},
                                    {"fixed": f"{major}.{rng.randrange(1, 20)}.{rng.randrange(9)}"},
                                ],
                            }
                        ],
                        "versions": [f"{major}.0.0", f"{major}.0.1"],
                    }
                ],
                "database_specific": {"severity": "HIGH"},
            }
            z.writestr(f"BENCH-{i:07d}.json", json.dumps(record))


def make_sbom(path: Path, components: int, packages: int) -> None:
    rng = random.Random(7)
    comps: list[dict[str, object]] = []
    for i in range(components):
        eco, purl_type = ECOSYSTEMS[i % len(ECOSYSTEMS)]
        name = _name(eco, rng.randrange(packages))
        version = f"{rng.randrange(1, 9)}.{rng.randrange(20)}.{rng.randrange(10)}"
        if eco == "Maven":
            group, artifact = name.split(":")
            purl = f"pkg:maven/{group}/{artifact}@{version}"
        elif eco == "Go":
            purl = f"pkg:golang/{name}@v{version}"
        else:
            purl = f"pkg:{purl_type}/{name}@{version}"
        comps.append({"type": "library", "name": name, "version": version, "purl": purl})
    comps.append(
        {
            "type": "operating-system",
            "name": "windows",
            "version": "10.0.20348.2159",
            "properties": [{"name": "chainproof:windows:installation", "value": "Server Core"}],
        }
    )
    path.write_text(
        json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.6", "components": comps})
    )


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bench_wes(wes: str, work: Path) -> float:
    """Seconds for wes.py to judge one Server 2022 Core system (fixture definitions)."""
    defs = work / "definitions.zip"
    with zipfile.ZipFile(defs, "w") as z:
        src = FIXTURES / "wesng"
        z.write(src / "CVEs_20260628_subset_ws2022_ws2025_servercore.csv", "CVEs_20260628.csv")
        z.write(src / "Custom_20190321.csv", "Custom_20190321.csv")
        z.write(src / "Version_0.94.txt", "Version_0.94.txt")
    qfe = work / "qfe.txt"
    qfe.write_text("http://support.microsoft.com/?kbid=5033118 HOST Update KB5033118 S 1/1/2024\n")
    listing = subprocess.run(
        [wes, "--definitions", str(defs), "--qfe", str(qfe)],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    index = next(
        line.split("]")[0].strip().lstrip("[")
        for line in listing.splitlines()
        if line.strip().endswith("Windows Server 2022 (Server Core installation)")
    )
    start = time.perf_counter()
    subprocess.run(
        [
            wes,
            "--definitions",
            str(defs),
            "--qfe",
            str(qfe),
            "--os",
            index,
            "-o",
            str(work / "o.csv"),
        ],
        capture_output=True,
        check=True,
    )
    return time.perf_counter() - start


def peer_vs_ours(
    python: str,
    *,
    export: Path,
    sbom: Path,
    work: Path,
    ours: set[tuple[str, str]],
    import_seconds: float,
    match_seconds: float,
) -> None:
    pairs_file = work / "vdb-pairs.json"
    out = subprocess.run(
        [
            python,
            str(Path(__file__).with_name("vdb_peer.py")),
            str(export),
            str(sbom),
            "--pairs",
            str(pairs_file),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    peer = json.loads(out.strip().splitlines()[-1])
    theirs = {(p.lower(), c) for p, c in json.loads(pairs_file.read_text())}
    ours_l = {(p.lower(), c) for p, c in ours}
    print(
        f"peer vdb: import {peer['import_wall']:.2f}s wall / {peer['import_cpu']:.2f}s CPU "
        f"({peer['rows']:,} rows); match {peer['match_wall']:.3f}s wall / "
        f"{peer['match_cpu']:.3f}s CPU; peak RSS {peer['rss_mib']:.0f} MiB"
    )
    print(
        f"ratios vdb/chainproof: import {peer['import_wall'] / import_seconds:.1f}x, "
        f"match {peer['match_wall'] / match_seconds:.1f}x (wall)"
    )
    print(
        f"findings: chainproof {len(ours_l)}, vdb {len(theirs)}, both {len(ours_l & theirs)}, "
        f"only chainproof {len(ours_l - theirs)}, only vdb {len(theirs - ours_l)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--components", type=int, default=10_000)
    parser.add_argument("--packages", type=int, default=50_000, help="distinct package names")
    parser.add_argument("--wes", default=None, help="path of wesng's wes script (peer)")
    parser.add_argument("--vdb-python", default=None, help="python of a venv with vdb (peer)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        export, sbom, db_path = work / "all.zip", work / "sbom.cdx.json", work / "bench.db"
        t = time.perf_counter()
        make_export(export, args.records, args.packages)
        make_sbom(sbom, args.components, args.packages)
        print(
            f"generated {args.records} records + {args.components} components in "
            f"{time.perf_counter() - t:.1f}s"
        )

        # Wall and CPU time both: on a shared machine CPU time is the one-core figure.
        start, cpu0 = time.perf_counter(), time.process_time()
        with AdvisoryDB(db_path) as db:
            reports = db.import_batches(read_path(export))
        imported, cpu = time.perf_counter(), time.process_time() - cpu0
        total = imported - start
        stored = sum(r.advisories for r in reports)
        assert stored == args.records, stored
        print(
            f"import: {stored} advisories in {total:.2f}s wall / {cpu:.2f}s CPU = "
            f"{stored / total:,.0f} advisories/s wall, {stored / cpu:,.0f}/s CPU; "
            f"db {db_path.stat().st_size / 2**20:.0f} MiB; peak RSS so far {peak_rss_mib():.0f} MiB"
        )
        if FIXTURES.is_dir():
            with AdvisoryDB(db_path) as db:
                db.import_batches(read_path(FIXTURES / "msrc-cvrf" / "cvrfDocument-2024-Jan.xml"))

        start = time.perf_counter()
        components = read_sbom(sbom)
        loaded = time.perf_counter()
        cpu0 = time.process_time()
        with AdvisoryDB(db_path, create=False) as db:
            result = Matcher(db).match(components)
        matched, cpu = time.perf_counter(), time.process_time() - cpu0
        match_seconds = matched - loaded
        print(
            f"match: {len(components)} components -> {len(result.findings)} findings in "
            f"{matched - loaded:.3f}s wall / {cpu:.3f}s CPU (SBOM read {loaded - start:.3f}s)"
        )

        if FIXTURES.is_dir():
            win = [
                SbomComponent(
                    "windows",
                    "10.0.20348.2159",
                    type="operating-system",
                    properties=(("chainproof:windows:installation", "Server Core"),),
                )
            ]
            with AdvisoryDB(db_path, create=False) as db:
                start = time.perf_counter()
                found = Matcher(db).match(win).findings
                ours = time.perf_counter() - start
            line = (
                f"windows OS match (one image): chainproof {ours * 1000:.1f} ms ({len(found)} CVEs)"
            )
            if args.wes:
                theirs = bench_wes(args.wes, work)
                line += (
                    f"; wes.py {theirs * 1000:.0f} ms; ratio wes/chainproof {theirs / ours:,.0f}x"
                )
            print(line)
        print(f"chainproof peak RSS: {peak_rss_mib():.0f} MiB")
        if args.vdb_python:
            package_pairs = {
                (f.purl.split("@", 1)[0], f.vuln_id) for f in result.findings if f.kind == "package"
            }
            peer_vs_ours(
                args.vdb_python,
                export=export,
                sbom=sbom,
                work=work,
                ours=package_pairs,
                import_seconds=total,
                match_seconds=match_seconds,
            )


if __name__ == "__main__":
    main()

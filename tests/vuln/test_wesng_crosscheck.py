"""chainproof's Windows data and rule against the wesng and build-table fixtures."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from chainproof.vuln.db import AdvisoryDB
from chainproof.vuln.matcher import Matcher
from chainproof.vuln.msrc import MsrcCvrfFeed
from chainproof.vuln.sbom_input import SbomComponent
from chainproof.vuln.wesng import (
    installed_kbs,
    read_build_table,
    read_definitions,
    to_fixes,
)
from chainproof.vuln.windows import RELEASES, parse_fixed_build

CORE_2022 = "Windows Server 2022 (Server Core installation)"


@pytest.fixture(scope="module")
def build_table(windows_fixtures: Path) -> dict[tuple[str, str], int]:
    return read_build_table(windows_fixtures / "build-kb-map" / "vuls_windows_build_ubr_kb.csv")


@pytest.fixture(scope="module")
def wesng_db(
    windows_fixtures: Path,
    build_table: dict[tuple[str, str], int],
    tmp_path_factory: pytest.TempPathFactory,
) -> Path:
    rows = read_definitions(
        windows_fixtures / "wesng" / "CVEs_20260628_subset_ws2022_ws2025_servercore.csv"
    )
    path = tmp_path_factory.mktemp("wesng") / "w.db"
    with AdvisoryDB(path) as db:
        db.import_batches([(to_fixes(rows, build_table, CORE_2022, 20348).batch, "wesng")])
    return path


def test_cvrf_fixed_builds_agree_with_the_build_table(
    cvrf_xml: Path, build_table: dict[tuple[str, str], int]
) -> None:
    batch = MsrcCvrfFeed().parse(cvrf_xml.read_bytes(), "jan")
    checked = 0
    for fix in batch.windows_fixes:
        build = parse_fixed_build(fix.fixed_build)
        if build is None or build.build not in RELEASES:
            continue
        if not fix.product_name.startswith(RELEASES[build.build]):
            continue
        assert build_table[(RELEASES[build.build], fix.kb)] == build.ubr, fix
        checked += 1
    assert checked > 100


def test_build_table_must_pass_rows(build_table: dict[tuple[str, str], int]) -> None:
    assert build_table[("Windows Server 2022", "5034129")] == 2227
    assert build_table[("Windows Server 2022", "5033118")] == 2159
    assert build_table[("Windows Server 2019", "5034127")] == 5329
    assert build_table[("Windows Server 2025", "5078740")] == 32522
    applied = installed_kbs(build_table, "Windows Server 2022", 473)
    assert applied[-1] == "5010796"  # the out-of-band 20348.473


def test_wesng_rows_become_fixed_builds(
    windows_fixtures: Path, build_table: dict[tuple[str, str], int]
) -> None:
    rows = read_definitions(
        windows_fixtures / "wesng" / "CVEs_20260628_subset_ws2022_ws2025_servercore.csv"
    )
    assert len(rows) == 10710
    conversion = to_fixes(rows, build_table, CORE_2022, 20348)
    fixes = {(f.cve, f.kb): f for f in conversion.batch.windows_fixes}
    jan22 = fixes[("CVE-2022-21852", "5009555")]
    assert (jan22.fixed_build, jan22.supercedence) == ("10.0.20348.469", "5008223")
    assert any(
        f.fixed_build == "10.0.20348.5256" for (_, kb), f in fixes.items() if kb == "5094128"
    )
    # duplicates that differ only in Supersedes/empty KB do not multiply rows
    assert len(fixes) == len(conversion.batch.windows_fixes)


def _core(version: str) -> SbomComponent:
    return SbomComponent(
        "windows",
        version,
        type="operating-system",
        properties=(("chainproof:windows:installation", "Server Core"),),
    )


def test_rule_on_wesng_data(wesng_db: Path) -> None:
    with AdvisoryDB(wesng_db) as db:
        matcher = Matcher(db)
        at_405 = {f.vuln_id for f in matcher.match([_core("10.0.20348.405")]).findings}
        at_469 = {f.vuln_id for f in matcher.match([_core("10.0.20348.469")]).findings}
        at_5256 = matcher.match([_core("10.0.20348.5256")]).findings
    assert "CVE-2022-21852" in at_405
    assert "CVE-2022-21852" not in at_469
    assert at_469 < at_405
    assert at_5256 == []  # the June 2026 cumulative update fixes every CVE in the subset


def test_wes_py_row_counts_in_the_subset(windows_fixtures: Path) -> None:
    path = windows_fixtures / "wesng" / "CVEs_20260628_subset_ws2022_ws2025_servercore.csv"
    with path.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    empty = [r for r in rows if not r["BulletinKB"]]
    # the rows wes.py cannot rule out by installed KBs: documented in docs/vulnerabilities.md
    assert len(empty) > 1000

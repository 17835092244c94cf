"""Hotpatch rows never decide a container image's fix (real CVRF rows, trimmed documents)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from chainproof.vuln import db as dbmod
from chainproof.vuln.db import AdvisoryDB
from chainproof.vuln.matcher import Matcher, MatchResult
from chainproof.vuln.msrc import MsrcCvrfFeed
from chainproof.vuln.sbom_input import SbomComponent
from chainproof.vuln.subtypes import NOT_RECORDED, decides, is_hotpatch, role
from tests.conftest import MSRC_MONTHS

CORE_2022 = "Windows Server 2022 (Server Core installation)"


def os_component(version: str, installation: str = "Server Core") -> SbomComponent:
    build, ubr = version.split(".")[2:]
    return SbomComponent(
        "Windows Server",
        version,
        type="operating-system",
        properties=(
            ("chainproof:windows:build", build),
            ("chainproof:windows:ubr", ubr),
            ("chainproof:windows:installation-type", installation),
        ),
    )


def scan(db_path: Path, version: str, installation: str = "Server Core") -> MatchResult:
    with AdvisoryDB(db_path) as db:
        return Matcher(db).match([os_component(version, installation)])


def fixes(result: MatchResult) -> dict[str, tuple[str, str]]:
    return {f.vuln_id: (f.kb, f.fixed) for f in result.findings}


def test_subtype_is_stored_for_every_row() -> None:
    batch = MsrcCvrfFeed().parse((MSRC_MONTHS / "cvrf-2024-Mar.xml").read_bytes(), "mar")
    rows = {
        (f.kb, f.fixed_build, f.subtype)
        for f in batch.windows_fixes
        if f.cve == "CVE-2024-21429" and f.product_name == CORE_2022
    }
    assert rows == {
        ("5035857", "10.0.20348.2340", "Security Update"),
        ("5035959", "10.0.20348.2333", "SecurityHotpatchUpdate"),
    }


def test_subtype_rules() -> None:
    for spelling in (
        "Security Hotpatch Update",
        "SecurityHotpatchUpdate",
        "AzureHotpatch",
        "Azure Hotpatch",
    ):
        assert is_hotpatch(spelling) and not decides(spelling)
    assert decides("Security Update") and decides("") and decides(NOT_RECORDED)
    assert not decides("Security Only") and not decides("Monthly Rollup")
    assert role("Security Only") == "Security Only: not for container images"


@pytest.mark.parametrize(
    ("version", "month_cves", "kb", "fixed"),
    [
        # March 2024: hotpatch KB5035959 at .2333 below the cumulative KB5035857 at .2340.
        ("10.0.20348.2333", {"CVE-2024-21429", "CVE-2024-21442"}, "KB5035857", "10.0.20348.2340"),
        # March 2023: AzureHotpatch KB5023786 at .1600 below KB5023705 at .1607.
        ("10.0.20348.1600", {"CVE-2023-23385", "CVE-2023-23403"}, "KB5023705", "10.0.20348.1607"),
        # November 2023: SecurityHotpatchUpdate KB5032304 at .2091 below KB5032198 at .2113.
        ("10.0.20348.2091", {"CVE-2023-36719", "CVE-2023-36424"}, "KB5032198", "10.0.20348.2113"),
    ],
)
def test_builds_between_hotpatch_and_cumulative_update_are_affected(
    months_db: Path, version: str, month_cves: set[str], kb: str, fixed: str
) -> None:
    found = fixes(scan(months_db, version))
    for cve in month_cves:
        assert found[cve] == (kb, fixed), cve
    result = scan(months_db, version)
    note = next(f.notes for f in result.findings if f.vuln_id in month_cves)
    assert any("hotpatch KB" in n and "not for container images" in n for n in note)
    # The cumulative update's own build is fixed.
    at_cu = fixes(scan(months_db, fixed))
    assert not month_cves & set(at_cu)


def test_a_hotpatch_above_the_cumulative_update_does_not_decide_either(months_db: Path) -> None:
    # November 2022: hotpatch KB5019080 is at .1251, *above* the cumulative KB5019081 (.1249).
    at_cu = fixes(scan(months_db, "10.0.20348.1249"))
    assert "CVE-2022-41100" not in at_cu
    below = fixes(scan(months_db, "10.0.20348.1248"))
    assert below["CVE-2022-41100"] == ("KB5019081", "10.0.20348.1249")


def test_cve_with_only_a_hotpatch_row_takes_the_months_cumulative_update(
    months_db: Path,
) -> None:
    result = scan(months_db, "10.0.20348.1724")  # the hotpatch build itself
    (finding,) = [f for f in result.findings if f.vuln_id == "CVE-2023-24898"]
    assert (finding.kb, finding.fixed) == ("KB5026370", "10.0.20348.1726")
    assert any("only a hotpatch" in n for n in finding.notes)
    assert "CVE-2023-24898" not in fixes(scan(months_db, "10.0.20348.1726"))


def test_doubled_dot_fixed_build_of_october_2024(months_db: Path) -> None:
    found = fixes(scan(months_db, "10.0.20348.2761"))
    assert found["CVE-2024-43516"] == ("KB5044281", "10.0.20348.2762")


def test_doubled_space_product_names_of_2021(months_db: Path) -> None:
    # September 2021 spells "Windows Server 2016  (Server Core installation)" (two spaces).
    found = fixes(scan(months_db, "10.0.14393.4650"))
    assert found["CVE-2021-36955"] == ("KB5005573", "10.0.14393.4651")
    assert "CVE-2021-36955" in fixes(scan(months_db, "10.0.14393.4650", "Nano Server"))


def test_db_query_shows_hotpatch_rows(months_db: Path) -> None:
    with AdvisoryDB(months_db) as db:
        rows = db.msrc_rows(cve="cve-2024-21429", product="server 2022 (server core")
    assert {(r.kb, r.subtype, role(r.subtype)) for r in rows} == {
        ("5035857", "Security Update", "decides"),
        ("5035959", "SecurityHotpatchUpdate", "hotpatch: not for container images"),
    }


def test_migration_from_schema_1_keeps_rows_and_marks_them(tmp_path: Path) -> None:
    path = tmp_path / "v1.db"
    conn = sqlite3.connect(path)
    conn.executescript(dbmod._MIGRATIONS[0])
    conn.execute(
        "INSERT INTO msrc_fixes VALUES ('CVE-2021-36955', '2021-Sep', '10855', "
        "'Windows Server 2016  (Server Core installation)', "
        "'windows server 2016  (server core installation)', 'windows', '5005573', "
        "'10.0.14393.4651', 14393, 4651, '', 'Important', 7.8, '', 0, 't', '2021-09-14')"
    )
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()
    with AdvisoryDB(path) as db:
        assert db.status().schema_version == 2
        (row,) = db.msrc_rows(cve="CVE-2021-36955")
        assert row.subtype == NOT_RECORDED
        result = Matcher(db).match([os_component("10.0.14393.4000")])
    assert [f.vuln_id for f in result.findings] == ["CVE-2021-36955"]
    assert any("before chainproof stored the remediation SubType" in n for n in result.notes)


def test_cli_db_query_and_status(months_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from chainproof.cli import main as cli_main

    args = ["db", "query", "--db", str(months_db), "--kb", "KB5023786", "--format", "json"]
    assert cli_main.main(args) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows and {(r["subtype"], r["role"]) for r in rows} == {
        ("AzureHotpatch", "hotpatch: not for container images")
    }
    assert cli_main.main(["db", "query", "--db", str(months_db)]) == 2
    assert "needs --cve, --product or --kb" in capsys.readouterr().err
    assert cli_main.main(["db", "status", "--db", str(months_db), "--format", "json"]) == 0
    subtypes = json.loads(capsys.readouterr().out)["msrc_subtypes"]
    assert subtypes["Security Update"] > 1000 and subtypes["AzureHotpatch"] == 12

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest

from chainproof.errors import MalformedError
from chainproof.vuln import msrc
from chainproof.vuln.interface import WindowsFix
from chainproof.vuln.msrc import MsrcCvrfFeed


def _by_product(fixes: list[WindowsFix]) -> dict[str, list[WindowsFix]]:
    out: dict[str, list[WindowsFix]] = defaultdict(list)
    for f in fixes:
        out[f.product_id].append(f)
    return out


def test_document_facts_from_xml(cvrf_xml: Path) -> None:
    doc = msrc._from_xml(cvrf_xml.read_bytes(), "jan")
    assert doc.id == "2024-Jan"
    assert doc.initial_release == "2024-01-09T08:00:00"
    assert doc.current_release.startswith("2024-01-21")
    assert len(doc.vulnerabilities) == 85
    assert doc.products["11923"] == "Windows Server 2022"
    assert doc.products["11924"] == "Windows Server 2022 (Server Core installation)"
    assert doc.products["11572"] == "Windows Server 2019 (Server Core installation)"
    assert doc.products["12244"] == "Windows Server 2022, 23H2 Edition (Server Core installation)"
    assert doc.products["10855"] == "Windows Server 2016 (Server Core installation)"


@pytest.mark.parametrize(
    ("product", "count", "kb", "fixed", "supercedence"),
    [
        ("11924", 36, "5034129", "10.0.20348.2227", "5033118"),
        ("11572", 33, "5034127", "10.0.17763.5329", "5033371"),
        ("12244", 35, "5034130", "10.0.25398.643", "5033383"),
    ],
)
def test_server_core_remediations(  # noqa: PLR0917 - one parameter per table column
    cvrf_xml: Path, product: str, count: int, kb: str, fixed: str, supercedence: str
) -> None:
    batch = MsrcCvrfFeed().parse(cvrf_xml.read_bytes(), "jan")
    rows = _by_product(batch.windows_fixes)[product]
    assert len({r.cve for r in rows}) == count
    assert {(r.kb, r.fixed_build, r.supercedence, r.kind) for r in rows} == {
        (kb, fixed, supercedence, "windows")
    }


def test_release_notes_and_other_products_are_skipped(cvrf_xml: Path) -> None:
    batch = MsrcCvrfFeed().parse(cvrf_xml.read_bytes(), "jan")
    builds = {f.fixed_build for f in batch.windows_fixes}
    assert not any(b.startswith("120.") for b in builds)  # Edge "Release Notes"
    assert {f.kind for f in batch.windows_fixes} == {
        "windows",
        "dotnet",
        "powershell",
        "dotnet-framework",
    }
    dotnet8 = {(f.kb, f.fixed_build) for f in batch.windows_fixes if f.product_name == ".NET 8.0"}
    assert dotnet8 == {("5033741", "8.0.1")}
    pwsh = {f.fixed_build for f in batch.windows_fixes if f.product_name == "PowerShell 7.4"}
    assert pwsh == {"7.4.1"}


def test_severity_cvss_and_exploited_are_per_product(cvrf_xml: Path) -> None:
    batch = MsrcCvrfFeed().parse(cvrf_xml.read_bytes(), "jan")
    core = [f for f in batch.windows_fixes if f.product_id == "11924"]
    assert {f.severity for f in core} <= {"Critical", "Important", "Moderate", "Low"}
    unscored = {f.cve for f in core if f.cvss_score is None}
    # MSRC published no score set for the third-party SQLite CVE in this document.
    assert unscored == {"CVE-2022-35737"}
    assert all(f.cvss_vector.startswith("CVSS:3.1/") for f in core if f.cvss_score is not None)
    assert not any(f.exploited for f in core)  # January 2024 had no exploited Windows CVE
    assert {f.severity for f in core} >= {"Critical", "Important"}


def test_json_form_with_numeric_enums_gives_the_same_rows(cvrf_xml: Path, cvrf_json: Path) -> None:
    feed = MsrcCvrfFeed()
    assert feed.sniff(cvrf_json.read_bytes()[:4096], "x.json")
    from_xml = feed.parse(cvrf_xml.read_bytes(), "xml")
    from_json = feed.parse(cvrf_json.read_bytes(), "json")
    assert from_json.source.source_id == "2024-Jan"
    assert sorted(map(repr, from_json.windows_fixes)) == sorted(map(repr, from_xml.windows_fixes))


def test_malformed_xml_is_a_clear_error() -> None:
    with pytest.raises(MalformedError, match="malformed XML"):
        MsrcCvrfFeed().parse(b"<cvrf:cvrfdoc xmlns:cvrf='x'><unclosed>", "bad.xml")


def test_entity_expansion_is_refused() -> None:
    bomb = b'<!DOCTYPE x [<!ENTITY a "aaaa">]><cvrfdoc>&a;</cvrfdoc>'
    with pytest.raises(MalformedError, match="refused XML"):
        MsrcCvrfFeed().parse(bomb, "bomb.xml")


def test_malformed_json_is_a_clear_error() -> None:
    with pytest.raises(MalformedError, match="malformed JSON"):
        MsrcCvrfFeed().parse(b'{"DocumentTracking": {', "bad.json")


def test_unknown_build_and_unknown_product_id_are_logged_skips() -> None:
    doc = {
        "DocumentTracking": {"Identification": {"ID": {"Value": "2099-Jan"}}},
        "ProductTree": {
            "FullProductName": [{"ProductID": "1", "Value": "Windows Server 2099 (Server Core)"}]
        },
        "Vulnerability": [
            {
                "CVE": "CVE-2099-0001",
                "Remediations": [
                    {
                        "Description": {"Value": "5099999"},
                        "ProductID": ["1", "2"],
                        "Type": 2,
                        "FixedBuild": "10.0.99999.1",
                    }
                ],
            }
        ],
    }
    import json

    batch = MsrcCvrfFeed().parse(json.dumps(doc).encode(), "future.json")
    assert batch.windows_fixes == []
    assert len(batch.skipped) == 2
    assert any("build table does not know" in s for s in batch.skipped)
    assert any("ProductID 2 is not in the ProductTree" in s for s in batch.skipped)


def test_not_a_cvrf_document() -> None:
    with pytest.raises(MalformedError, match="not a CVRF"):
        MsrcCvrfFeed().parse(b"<html></html>", "page.xml")

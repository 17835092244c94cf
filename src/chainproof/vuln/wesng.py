"""Cross-checking against wesng: its definitions CSV turned into FixedBuild rows.

wesng (Windows Exploit Suggester NG) lists, per CVE and product, the KB that fixes it and the
KB that KB supersedes, but no build number. With a table of cumulative updates per build
(``product,build,ubr_revision,kb,kind`` — the vuls-derived table in the shared fixtures has
that shape) each KB becomes a ``FixedBuild`` and chainproof's ``(build, UBR) < FixedBuild``
rule can run on wesng's data, so the two decision rules can be compared on the same facts.
This module is for that comparison (docs/vulnerabilities.md has the table); the MSRC feed is
the database's source of Windows advisories.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from chainproof.vuln.interface import FeedBatch, SourceInfo, WindowsFix
from chainproof.vuln.windows import RELEASES

if TYPE_CHECKING:
    from pathlib import Path


@dataclass(frozen=True)
class WesngRow:
    date: str
    cve: str
    kb: str
    product: str
    severity: str
    supersedes: str


@dataclass
class Conversion:
    batch: FeedBatch
    #: (cve, kb) rows whose KB has no build in the table (SSUs, non-cumulative KBs, gaps).
    kb_without_build: set[tuple[str, str]] = field(default_factory=set)
    #: CVEs whose only rows have an empty BulletinKB.
    no_kb: set[str] = field(default_factory=set)


def read_definitions(path: Path) -> list[WesngRow]:
    text = path.read_text(encoding="utf-8-sig")
    reader = csv.DictReader(line for line in io.StringIO(text) if not line.startswith("#"))
    return [
        WesngRow(
            date=r["DatePosted"],
            cve=r["CVE"],
            kb=r["BulletinKB"],
            product=r["AffectedProduct"],
            severity=r["Severity"],
            supersedes=r["Supersedes"],
        )
        for r in reader
    ]


def read_build_table(path: Path) -> dict[tuple[str, str], int]:
    """(release name, KB) → UBR for cumulative ("rollup") rows of the server releases."""
    out: dict[tuple[str, str], int] = {}
    with path.open(encoding="utf-8") as f:
        for r in csv.DictReader(f):
            if r["kind"] == "rollup" and r["kb"] and r["ubr_revision"].isdigit():
                out[(r["product"], r["kb"])] = int(r["ubr_revision"])
    return out


def to_fixes(
    rows: list[WesngRow], build_table: dict[tuple[str, str], int], product: str, build: int
) -> Conversion:
    """FixedBuild rows for one MSRC product name (e.g. "... (Server Core installation)")."""
    release = RELEASES[build]
    conversion = Conversion(FeedBatch(SourceInfo("wesng", product, "")))
    with_kb: set[str] = set()
    seen: set[tuple[str, str]] = set()
    for row in rows:
        if row.product != product:
            continue
        if not row.kb:
            conversion.no_kb.add(row.cve)
            continue
        with_kb.add(row.cve)
        ubr = build_table.get((release, row.kb))
        if ubr is None:
            conversion.kb_without_build.add((row.cve, row.kb))
            continue
        if (row.cve, row.kb) in seen:
            continue  # duplicates differ only in Supersedes
        seen.add((row.cve, row.kb))
        conversion.batch.windows_fixes.append(
            WindowsFix(
                cve=row.cve,
                product_id=f"wesng:{product}",
                product_name=product,
                kind="windows",
                kb=row.kb,
                fixed_build=f"10.0.{build}.{ubr}",
                supercedence=row.supersedes,
                severity=row.severity,
                cvss_score=None,
                cvss_vector="",
                exploited=False,
                title="",
                published=row.date,
                # Only cumulative ("rollup") KBs of the build table get a FixedBuild here.
                subtype="Security Update",
            )
        )
    conversion.no_kb -= with_kb
    return conversion


def installed_kbs(build_table: dict[tuple[str, str], int], release: str, ubr: int) -> list[str]:
    """KBs a system at ``ubr`` has applied (vuls' rule: every rollup at or below its UBR),
    oldest first."""
    applied = [(rev, kb) for (rel, kb), rev in build_table.items() if rel == release and rev <= ubr]
    return [kb for _, kb in sorted(applied)]

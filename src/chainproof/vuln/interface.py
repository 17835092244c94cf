"""The advisory-feed extension point and the records every feed produces.

A :class:`Feed` turns one downloaded or local document (bytes) into a :class:`FeedBatch`:
package advisories (OSV model) and Windows fixes (MSRC model). The database stores both;
the matcher reads them back. Feeds never touch the database themselves, so a document that
fails to parse leaves it untouched.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field


@dataclass(frozen=True)
class OsvRange:
    """One OSV ``ranges[]`` entry: ``type`` SEMVER/ECOSYSTEM/GIT and its ordered events."""

    type: str
    #: (kind, version) with kind one of introduced, fixed, last_affected, limit.
    events: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class AffectedPackage:
    """One OSV ``affected[]`` entry for a package in an ecosystem."""

    ecosystem: str  # base ecosystem as OSV spells it: "NuGet", "PyPI", "Debian"
    release: str  # the part after ":" in "Debian:12", "" when none
    name: str
    ranges: tuple[OsvRange, ...] = ()
    versions: tuple[str, ...] = ()


@dataclass(frozen=True)
class PackageAdvisory:
    """An OSV record reduced to what matching and reporting need."""

    id: str
    aliases: tuple[str, ...]
    summary: str
    severity: str  # critical/high/medium/low or "" when the record gives none
    cvss_score: float | None
    cvss_vector: str
    published: str
    modified: str
    affected: tuple[AffectedPackage, ...]


@dataclass(frozen=True)
class WindowsFix:
    """One MSRC remediation row: ``cve`` is fixed for ``product_name`` by ``kb`` at ``fixed_build``.

    ``kind`` is ``windows`` (FixedBuild ``10.0.<build>.<ubr>``), ``dotnet`` or ``powershell``
    (FixedBuild is the product's own version, e.g. ``8.0.1``), or ``dotnet-framework``
    (.NET Framework 4.x on a Windows Server release: ``framework_line`` and either
    ``framework_build`` or, when the OS cumulative update services it, an OS FixedBuild).
    ``subtype`` is the remediation's SubType ("Security Update", "SecurityHotpatchUpdate", …;
    see :mod:`chainproof.vuln.subtypes`).
    """

    cve: str
    product_id: str
    product_name: str
    kind: str
    kb: str
    fixed_build: str
    supercedence: str
    severity: str
    cvss_score: float | None
    cvss_vector: str
    exploited: bool
    title: str
    published: str
    subtype: str = ""
    os_product: str = ""  # dotnet-framework rows: the Windows product it is installed on
    framework_line: str = ""
    framework_build: int | None = None


@dataclass(frozen=True)
class SourceInfo:
    """Provenance of one imported document, shown by ``chainproof db status``."""

    feed: str
    source_id: str  # "2024-Jan" for MSRC, "NuGet" for an OSV export, the path for a file
    newest: str  # newest advisory date in the document (ISO 8601), "" if unknown


@dataclass
class FeedBatch:
    """What one document yields; ``skipped`` lists one line per record left out, with why."""

    source: SourceInfo
    advisories: list[PackageAdvisory] = field(default_factory=list)
    windows_fixes: list[WindowsFix] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


class Feed(abc.ABC):
    """One advisory source format."""

    #: Short name stored with every record ("msrc", "osv").
    name: str

    @abc.abstractmethod
    def sniff(self, head: bytes, filename: str) -> bool:
        """Whether this feed reads a document starting with ``head`` (first KiB)."""

    @abc.abstractmethod
    def parse(self, data: bytes, origin: str) -> FeedBatch:
        """Parse one whole document; raise a chainproof ``MalformedError`` if it does not parse.

        Individual bad records are skipped and listed in ``FeedBatch.skipped``.
        """

"""The local advisory database: one SQLite file, schema versioned by ``PRAGMA user_version``.

Tables (see docs/vulnerabilities.md for the full description):

- ``sources``      one row per imported document (feed, id, newest advisory date, counts)
- ``advisories``   one row per OSV record (id, aliases, severity, CVSS)
- ``affected``     one row per (advisory, package); ranges and versions as JSON; looked up by
                   ``(ecosystem, name_key)``
- ``msrc_fixes``   one row per (CVE, MSRC product, KB): FixedBuild split into build/UBR for
                   Windows rows, the remediation SubType, and for .NET Framework rows the
                   Windows product, servicing line and framework build; looked up by
                   ``(product_key, build)``, ``(kind, product_key)`` and ``(kind, os_product_key)``

Imports run in one transaction: a document that fails half-way leaves the database as it was.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from chainproof.errors import InputError, MalformedError, UnsupportedError
from chainproof.vuln import versions as ver
from chainproof.vuln.windows import parse_fixed_build, product_key

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

    from chainproof.vuln.interface import FeedBatch, PackageAdvisory, WindowsFix

log = logging.getLogger(__name__)

SCHEMA_VERSION = 2

#: Migrations from version N-1 to N, index N-1. Never edit a released step; append one.
_MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE sources (
        feed TEXT NOT NULL,
        source_id TEXT NOT NULL,
        origin TEXT NOT NULL,
        newest TEXT NOT NULL,
        imported_at TEXT NOT NULL,
        records INTEGER NOT NULL,
        skipped INTEGER NOT NULL,
        PRIMARY KEY (feed, source_id)
    );
    CREATE TABLE advisories (
        id TEXT PRIMARY KEY,
        source_id TEXT NOT NULL,
        aliases TEXT NOT NULL,
        summary TEXT NOT NULL,
        severity TEXT NOT NULL,
        cvss_score REAL,
        cvss_vector TEXT NOT NULL,
        published TEXT NOT NULL,
        modified TEXT NOT NULL
    );
    CREATE TABLE affected (
        advisory_id TEXT NOT NULL,
        ecosystem TEXT NOT NULL,
        release TEXT NOT NULL,
        name_key TEXT NOT NULL,
        name TEXT NOT NULL,
        ranges TEXT NOT NULL,
        versions TEXT NOT NULL
    );
    CREATE INDEX affected_by_package ON affected (ecosystem, name_key);
    CREATE INDEX affected_by_advisory ON affected (advisory_id);
    CREATE TABLE msrc_fixes (
        cve TEXT NOT NULL,
        source_id TEXT NOT NULL,
        product_id TEXT NOT NULL,
        product_name TEXT NOT NULL,
        product_key TEXT NOT NULL,
        kind TEXT NOT NULL,
        kb TEXT NOT NULL,
        fixed_build TEXT NOT NULL,
        build INTEGER,
        ubr INTEGER,
        supercedence TEXT NOT NULL,
        severity TEXT NOT NULL,
        cvss_score REAL,
        cvss_vector TEXT NOT NULL,
        exploited INTEGER NOT NULL,
        title TEXT NOT NULL,
        published TEXT NOT NULL,
        PRIMARY KEY (cve, product_id, kb, fixed_build)
    );
    CREATE INDEX msrc_by_product_build ON msrc_fixes (product_key, build);
    CREATE INDEX msrc_by_kind ON msrc_fixes (kind, product_key);
    """,
    # 2: the remediation SubType (hotpatch rows must not decide), .NET Framework rows, and
    # product keys with MSRC's doubled spaces ("Windows Server 2016  (Server Core
    # installation)", until 2022-May) collapsed. Rows already stored cannot say their SubType.
    # The default is subtypes.NOT_RECORDED (a test checks they agree).
    """
    ALTER TABLE msrc_fixes ADD COLUMN subtype TEXT NOT NULL DEFAULT '(not recorded)';
    ALTER TABLE msrc_fixes ADD COLUMN os_product_key TEXT NOT NULL DEFAULT '';
    ALTER TABLE msrc_fixes ADD COLUMN framework_line TEXT NOT NULL DEFAULT '';
    ALTER TABLE msrc_fixes ADD COLUMN framework_build INTEGER;
    UPDATE msrc_fixes SET product_key = replace(replace(product_key, '   ', ' '), '  ', ' ')
        WHERE product_key LIKE '%  %';
    CREATE INDEX msrc_by_os_product ON msrc_fixes (kind, os_product_key, framework_line);
    """,
)


@dataclass(frozen=True)
class ImportReport:
    source_id: str
    advisories: int
    windows_fixes: int
    skipped: int


@dataclass(frozen=True)
class SourceRow:
    feed: str
    source_id: str
    origin: str
    newest: str
    imported_at: str
    records: int
    skipped: int


@dataclass(frozen=True)
class MsrcRow:
    """One stored MSRC remediation row, as ``chainproof db query`` shows it."""

    cve: str
    product: str
    kind: str
    kb: str
    fixed_build: str
    subtype: str
    framework_line: str
    framework_build: int | None
    severity: str
    source_id: str


@dataclass(frozen=True)
class Status:
    path: Path
    schema_version: int
    sources: tuple[SourceRow, ...]
    advisories: int
    affected_packages: int
    msrc_fixes: int
    newest: str
    #: (SubType, rows) of the MSRC rows, most rows first
    msrc_subtypes: tuple[tuple[str, int], ...] = ()

    def age_days(self, now: dt.datetime | None = None) -> float | None:
        if not self.newest:
            return None
        try:
            newest = dt.datetime.fromisoformat(self.newest.replace("Z", "+00:00"))
        except ValueError:
            return None
        if newest.tzinfo is None:
            newest = newest.replace(tzinfo=dt.UTC)
        now = now or dt.datetime.now(dt.UTC)
        return (now - newest).total_seconds() / 86400


class AdvisoryDB:
    """An open advisory database. Use as a context manager or call :meth:`close`."""

    def __init__(self, path: Path, *, create: bool = True) -> None:
        self.path = path
        if not create and not path.exists():
            raise InputError(
                f"no advisory database at {path} (run 'chainproof db import' or 'db update')"
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(path, isolation_level=None)
        try:
            self._conn.execute("PRAGMA journal_mode=WAL")
            # WAL + NORMAL: a crash loses at most the last transaction, never consistency.
            self._conn.execute("PRAGMA synchronous=NORMAL")
            version = self._conn.execute("PRAGMA user_version").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            self._conn.close()
            raise MalformedError(f"{path}: not an advisory database ({exc})") from None
        if version > SCHEMA_VERSION:
            self._conn.close()
            raise UnsupportedError(
                f"{path}: advisory database schema {version} is newer than this chainproof "
                f"supports ({SCHEMA_VERSION}); upgrade chainproof"
            )
        if version < SCHEMA_VERSION:
            self._migrate(version)

    def _migrate(self, current: int) -> None:
        with self.transaction():
            for step in range(current, SCHEMA_VERSION):
                for statement in _statements(_MIGRATIONS[step]):
                    self._conn.execute(statement)
            self._conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> AdvisoryDB:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield self._conn
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

    @property
    def connection(self) -> sqlite3.Connection:
        return self._conn

    # --- writing -------------------------------------------------------------------------

    def import_batches(self, batches: Iterable[tuple[FeedBatch, str]]) -> list[ImportReport]:
        """Store every batch in one transaction; (batch, origin) pairs. One report per source."""
        from chainproof.vuln.load import gc_paused

        reports: dict[str, ImportReport] = {}
        with gc_paused(), self.transaction() as conn:
            for batch, origin in batches:
                report = self._store(conn, batch, origin)
                old = reports.get(report.source_id)
                if old is not None:  # a large export arrives in several batches
                    report = ImportReport(
                        report.source_id,
                        old.advisories + report.advisories,
                        old.windows_fixes + report.windows_fixes,
                        old.skipped + report.skipped,
                    )
                reports[report.source_id] = report
        return list(reports.values())

    def _store(self, conn: sqlite3.Connection, batch: FeedBatch, origin: str) -> ImportReport:
        for line in batch.skipped:
            log.warning("skipped: %s", line)
        source_id = batch.source.source_id
        self._store_advisories(conn, batch.advisories, source_id)
        self._store_fixes(conn, batch.windows_fixes, source_id)
        records = len(batch.advisories) + len(batch.windows_fixes)
        conn.execute(
            "INSERT INTO sources VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (feed, source_id) "
            "DO UPDATE SET origin=excluded.origin, newest=max(newest, excluded.newest), "
            "imported_at=excluded.imported_at, records=records + excluded.records, "
            "skipped=skipped + excluded.skipped",
            (
                batch.source.feed,
                source_id,
                origin,
                batch.source.newest,
                dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                records,
                len(batch.skipped),
            ),
        )
        return ImportReport(
            source_id, len(batch.advisories), len(batch.windows_fixes), len(batch.skipped)
        )

    @staticmethod
    def _store_advisories(
        conn: sqlite3.Connection, advisories: list[PackageAdvisory], source_id: str
    ) -> None:
        if not advisories:
            return
        # A re-imported id replaces its earlier version (OSV records are revised in place).
        # One set-based delete instead of one statement per id: most ids are new.
        conn.execute("CREATE TEMP TABLE IF NOT EXISTS _incoming (id TEXT PRIMARY KEY)")
        conn.execute("DELETE FROM _incoming")
        conn.executemany(
            "INSERT OR IGNORE INTO _incoming VALUES (?)", [(a.id,) for a in advisories]
        )
        conn.execute(
            "DELETE FROM affected WHERE advisory_id IN "
            "(SELECT id FROM _incoming WHERE id IN (SELECT id FROM advisories))"
        )
        conn.executemany(
            "INSERT OR REPLACE INTO advisories VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    a.id,
                    source_id,
                    json.dumps(a.aliases),
                    a.summary,
                    a.severity,
                    a.cvss_score,
                    a.cvss_vector,
                    a.published,
                    a.modified,
                )
                for a in advisories
            ],
        )
        conn.executemany(
            "INSERT INTO affected VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    a.id,
                    p.ecosystem,
                    p.release,
                    ver.name_key(p.ecosystem, p.name),
                    p.name,
                    json.dumps([[r.type, [list(e) for e in r.events]] for r in p.ranges]),
                    json.dumps(p.versions),
                )
                for a in advisories
                for p in a.affected
            ],
        )

    @staticmethod
    def _store_fixes(conn: sqlite3.Connection, fixes: list[WindowsFix], source_id: str) -> None:
        rows = []
        for f in fixes:
            build = parse_fixed_build(f.fixed_build) if f.kind == "windows" else None
            if f.kind == "dotnet-framework" and f.fixed_build.startswith("10.0."):
                build = parse_fixed_build(f.fixed_build)  # serviced by the OS update
            rows.append(
                (
                    f.cve,
                    source_id,
                    f.product_id,
                    f.product_name,
                    product_key(f.product_name),
                    f.kind,
                    f.kb,
                    f.fixed_build,
                    build.build if build else None,
                    build.ubr if build else None,
                    f.supercedence,
                    f.severity,
                    f.cvss_score,
                    f.cvss_vector,
                    int(f.exploited),
                    f.title,
                    f.published,
                    f.subtype,
                    product_key(f.os_product),
                    f.framework_line,
                    f.framework_build,
                )
            )
        conn.executemany(
            "INSERT OR REPLACE INTO msrc_fixes (cve, source_id, product_id, product_name, "
            "product_key, kind, kb, fixed_build, build, ubr, supercedence, severity, "
            "cvss_score, cvss_vector, exploited, title, published, subtype, os_product_key, "
            "framework_line, framework_build) VALUES "
            "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )

    # --- reading -------------------------------------------------------------------------

    def status(self) -> Status:
        c = self._conn
        sources = tuple(
            SourceRow(*row)
            for row in c.execute(
                "SELECT feed, source_id, origin, newest, imported_at, records, skipped "
                "FROM sources ORDER BY feed, source_id"
            )
        )
        newest = max((s.newest for s in sources), default="")
        return Status(
            path=self.path,
            schema_version=c.execute("PRAGMA user_version").fetchone()[0],
            sources=sources,
            advisories=c.execute("SELECT count(*) FROM advisories").fetchone()[0],
            affected_packages=c.execute("SELECT count(*) FROM affected").fetchone()[0],
            msrc_fixes=c.execute("SELECT count(*) FROM msrc_fixes").fetchone()[0],
            newest=newest,
            msrc_subtypes=tuple(
                (row[0], row[1])
                for row in c.execute(
                    "SELECT subtype, count(*) AS n FROM msrc_fixes GROUP BY subtype "
                    "ORDER BY n DESC, subtype"
                )
            ),
        )

    def msrc_rows(
        self, *, cve: str = "", product: str = "", kb: str = "", limit: int = 1000
    ) -> list[MsrcRow]:
        """MSRC rows of every SubType (hotpatch rows included) matching all given filters;
        ``product`` is a case-insensitive substring of the product name."""
        cve_key = cve.upper()
        name_key = product_key(product) if product else ""
        kb_key = kb.upper().removeprefix("KB")
        rows = self._conn.execute(
            "SELECT cve, product_name, kind, kb, fixed_build, subtype, framework_line, "
            "framework_build, severity, source_id FROM msrc_fixes "
            "WHERE (? = '' OR cve = ?) AND (? = '' OR instr(product_key, ?) > 0) "
            "AND (? = '' OR kb = ?) "
            "ORDER BY cve, product_key, build, ubr, framework_build, kb LIMIT ?",
            (cve_key, cve_key, name_key, name_key, kb_key, kb_key, limit),
        )
        return [MsrcRow(*row) for row in rows]


def _statements(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]

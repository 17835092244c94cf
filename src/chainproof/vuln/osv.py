"""OSV records (https://ossf.github.io/osv-schema/): one JSON object per advisory.

Single files, directories of them and the per-ecosystem ``all.zip`` exports all come down to
:meth:`OsvFeed.parse` on one record (or a JSON array of records). A record is skipped, with
the reason, when it has no id, an ecosystem chainproof has no version rules for, or a range
whose versions do not parse in its ecosystem: one bad record must not block an export of
hundreds of thousands.
"""

from __future__ import annotations

import functools
import json
import re
from typing import Any

from chainproof.errors import MalformedError
from chainproof.vuln import versions as ver
from chainproof.vuln.interface import (
    AffectedPackage,
    Feed,
    FeedBatch,
    OsvRange,
    PackageAdvisory,
    SourceInfo,
)

#: The largest OSV records (Linux kernel, Chromium) are a few MiB.
MAX_RECORD_BYTES = 32 * 1024 * 1024
_EVENT_KINDS = ("introduced", "fixed", "last_affected", "limit")
_CVSS_PREFIX = re.compile(r"^CVSS:(\d)\.(\d)/")


class RecordError(ValueError):
    """One record is unusable; the caller logs it and goes on."""


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _cvss(record: dict[str, Any]) -> tuple[float | None, str]:
    """Base score and vector of the best CVSS entry (v4 > v3 > v2) when one is computable."""
    best: tuple[int, str] = (0, "")
    for entry in record.get("severity") or []:
        if not isinstance(entry, dict):
            continue
        kind, score = _str(entry.get("type")), _str(entry.get("score"))
        rank = {"CVSS_V4": 4, "CVSS_V3": 3, "CVSS_V2": 2}.get(kind, 0)
        if rank > best[0] and score:
            best = (rank, score)
    vector = best[1]
    if not vector:
        return None, ""
    return _base_score(vector), vector


@functools.lru_cache(maxsize=4096)
def _base_score(vector: str) -> float | None:
    try:
        from cvss import CVSS2, CVSS3, CVSS4
    except ImportError:  # pragma: no cover - cvss is a declared dependency
        return None
    try:
        if vector.startswith("CVSS:4"):
            return float(CVSS4(vector).base_score)
        if _CVSS_PREFIX.match(vector):
            return float(CVSS3(vector).base_score)
        return float(CVSS2(vector).base_score)
    except Exception:
        # An uncomputable vector still names the advisory; severity falls back to the label.
        return None


def severity_from_score(score: float | None) -> str:
    if score is None:
        return ""
    if score >= 9.0:
        return "critical"
    if score >= 7.0:
        return "high"
    if score >= 4.0:
        return "medium"
    if score > 0.0:
        return "low"
    return ""


def _label(record: dict[str, Any]) -> str:
    """Severity words that producers put in ``database_specific`` (GHSA: HIGH, MODERATE…)."""
    db = record.get("database_specific")
    text = _str(db.get("severity")).lower() if isinstance(db, dict) else ""
    return {"moderate": "medium", "important": "high"}.get(text, text)


def _range(raw: Any) -> OsvRange:
    if not isinstance(raw, dict):
        raise RecordError("a range is not an object")
    kind = _str(raw.get("type"))
    events: list[tuple[str, str]] = []
    for event in raw.get("events") or []:
        if not isinstance(event, dict) or len(event) != 1:
            raise RecordError(f"{kind} range has a malformed event {event!r}")
        ((name, value),) = event.items()
        if name not in _EVENT_KINDS or not isinstance(value, str):
            raise RecordError(f"{kind} range has an unknown event {name!r}")
        events.append((name, value))
    return OsvRange(type=kind, events=tuple(events))


def _affected(raw: Any) -> AffectedPackage | None:
    if not isinstance(raw, dict):
        raise RecordError("an affected entry is not an object")
    package = raw.get("package")
    if not isinstance(package, dict):
        # OSV allows affected entries without a package (e.g. kernel commits): nothing to match.
        return None
    ecosystem, release = ver.split_ecosystem(_str(package.get("ecosystem")))
    name = _str(package.get("name"))
    if not name:
        raise RecordError("affected package without a name")
    if not ver.known_ecosystem(ecosystem):
        raise RecordError(f"unknown ecosystem {ecosystem!r}")
    ranges = tuple(_range(r) for r in raw.get("ranges") or [])
    for rng in ranges:
        try:
            ver.validate_range(ecosystem, rng)
        except ver.VersionError as exc:
            raise RecordError(f"{name}: broken {rng.type} range: {exc}") from None
    versions = tuple(v for v in raw.get("versions") or [] if isinstance(v, str))
    return AffectedPackage(
        ecosystem=ecosystem, release=release, name=name, ranges=ranges, versions=versions
    )


def advisory_from_record(record: Any) -> PackageAdvisory:
    """Convert one OSV record; raise :class:`RecordError` if it cannot be used."""
    if not isinstance(record, dict):
        raise RecordError("record is not a JSON object")
    vuln_id = _str(record.get("id"))
    if not vuln_id:
        raise RecordError("record without an id")
    try:
        affected = tuple(a for a in (_affected(x) for x in record.get("affected") or []) if a)
    except RecordError as exc:
        raise RecordError(f"{vuln_id}: {exc}") from None
    score, vector = _cvss(record)
    aliases = tuple(a for a in record.get("aliases") or [] if isinstance(a, str))
    return PackageAdvisory(
        id=vuln_id,
        aliases=aliases,
        summary=_str(record.get("summary"))[:300],
        severity=_label(record) or severity_from_score(score),
        cvss_score=score,
        cvss_vector=vector,
        published=_str(record.get("published")),
        modified=_str(record.get("modified")),
        affected=affected,
    )


class OsvFeed(Feed):
    """OSV JSON: one record per document (or a JSON array of records)."""

    name = "osv"

    def sniff(self, head: bytes, filename: str) -> bool:
        text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
        return text[:1] in (b"{", b"[") and b'"id"' in head and b"DocumentTracking" not in head

    def parse(self, data: bytes, origin: str, source_id: str | None = None) -> FeedBatch:
        if len(data) > MAX_RECORD_BYTES:
            raise MalformedError(f"{origin}: {len(data)} bytes exceeds the OSV record limit")
        try:
            # OSV records are flat by schema; json's own recursion limit bounds depth.
            loaded = json.loads(data)
        except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
            raise MalformedError(f"{origin}: malformed JSON ({exc})") from None
        records = loaded if isinstance(loaded, list) else [loaded]
        batch = FeedBatch(source=SourceInfo(feed="osv", source_id=source_id or origin, newest=""))
        for record in records:
            try:
                advisory = advisory_from_record(record)
            except RecordError as exc:
                batch.skipped.append(f"{origin}: {exc}")
                continue
            batch.advisories.append(advisory)
            stamp = advisory.modified or advisory.published
            if stamp > batch.source.newest:
                batch.source = SourceInfo("osv", batch.source.source_id, stamp)
        return batch

"""Patch age of a Windows image: which cumulative update it carries and how far behind it is.

For the policy engine ("no image more than N days behind the newest cumulative update"). The
cumulative updates are the MSRC rows of SubType "Security Update" of the image's product —
never hotpatch rows, which container images cannot receive (:mod:`chainproof.vuln.subtypes`).

A cumulative update's release date is the ``InitialReleaseDate`` (Patch Tuesday) of the
monthly document in which it is the month's update — the KB with the most rows for the
product in that document. Later documents also list older KBs (a CVE published in August
fixed by July's update), and a revised document may list the next month's KB for one CVE,
so "the first document that names it" would be wrong both ways. A KB that is never the
month's update in the documents the database holds (its own month was not imported, or an
out-of-band release) takes the date of the first document naming it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from chainproof.errors import InputError, NotFoundError, UnsupportedError
from chainproof.vuln.db import AdvisoryDB
from chainproof.vuln.subtypes import DECIDING, NOT_RECORDED
from chainproof.vuln.windows import (
    Installation,
    normalize_installation,
    parse_os_version,
    product_key,
    product_names,
)

if TYPE_CHECKING:
    from pathlib import Path


@dataclass(frozen=True)
class CumulativeUpdate:
    kb: str  # "KB5034129"
    build: int  # 20348
    ubr: int  # 2227
    released: dt.date


@dataclass(frozen=True)
class PatchLevel:
    """Where an image at ``build.ubr`` stands against the cumulative updates of ``product``.

    ``days_behind`` is ``(newest.released - installed.released).days`` — 0 for an image at the
    newest update. It is **None when ``installed`` is None**: the image is older than every
    cumulative update the database knows (or the database has none for the product), so its
    age is unknown and at least ``newest.released - missing[0].released``; a policy should
    treat None as failing a maximum-age rule.
    """

    product: str
    build: int
    ubr: int
    installed: CumulativeUpdate | None
    newest: CumulativeUpdate | None
    missing: tuple[CumulativeUpdate, ...]
    days_behind: int | None


def _installation(text: str) -> Installation:
    if not text.strip():
        return Installation.SERVER_CORE  # as the matcher assumes for container bases
    found = normalize_installation(text)
    if found is None:
        raise InputError(
            f"unknown Windows installation type {text!r} (expected Server Core, Nano Server "
            "or Server)"
        )
    return found


def _date(published: str) -> dt.date:
    return dt.date.fromisoformat(published.strip()[:10])


def cumulative_updates(db: AdvisoryDB, product: str, build: int) -> list[CumulativeUpdate]:
    """The Security Update cumulative updates of ``product`` at ``build``, oldest first."""
    rows = db.connection.execute(
        "SELECT kb, ubr, source_id, published, count(*) FROM msrc_fixes "
        "WHERE kind = 'windows' AND product_key = ? AND build = ? AND subtype IN (?, '') "
        "AND kb != '' GROUP BY kb, ubr, source_id, published",
        (product_key(product), build, DECIDING),
    ).fetchall()
    by_document: dict[str, list[tuple[int, int, str]]] = {}
    document_date: dict[str, dt.date] = {}
    first_seen: dict[tuple[str, int], dt.date] = {}
    for kb, ubr, source, published, count in rows:
        try:
            date = _date(published)
        except ValueError:
            continue
        by_document.setdefault(source, []).append((count, ubr, kb))
        document_date[source] = date
        first_seen[(kb, ubr)] = min(first_seen.get((kb, ubr), date), date)
    own: dict[tuple[str, int], dt.date] = {}
    for source, entries in by_document.items():
        _, ubr, kb = max(entries)  # most rows; a tie goes to the higher UBR
        own[(kb, ubr)] = min(own.get((kb, ubr), document_date[source]), document_date[source])
    updates = [
        CumulativeUpdate(f"KB{kb}", build, ubr, own.get((kb, ubr), seen))
        for (kb, ubr), seen in first_seen.items()
    ]
    return sorted(updates, key=lambda u: (u.ubr, u.released, u.kb))


def patch_level(db_path: Path, os_version: str, installation: str = "") -> PatchLevel:
    """The patch level of an image whose config says ``os_version`` (``10.0.20348.2227``);
    ``installation`` as the SBOM's Windows OS component reports it ("" → Server Core).

    Raises :class:`~chainproof.errors.InputError` subclasses for a version that is not a
    Windows build, a build that is not a Windows Server release, a missing database or one
    without MSRC data.
    """
    version = parse_os_version(os_version)
    names = product_names(version.build, _installation(installation))
    if not names:
        raise UnsupportedError(
            f"build {version.build} of {os_version!r} is not a Windows Server release "
            "chainproof knows"
        )
    product = names[0]
    with AdvisoryDB(db_path, create=False) as db:
        counts = dict(
            db.connection.execute(
                "SELECT subtype = ?, count(*) FROM msrc_fixes WHERE kind = 'windows' "
                "GROUP BY subtype = ?",
                (NOT_RECORDED, NOT_RECORDED),
            ).fetchall()
        )
        if not counts:
            raise NotFoundError(
                f"{db_path}: the advisory database has no MSRC data (run 'chainproof db "
                "update --feed msrc')"
            )
        if not counts.get(0):
            raise InputError(
                f"{db_path}: its MSRC rows were imported before chainproof stored the "
                "remediation SubType, so cumulative updates cannot be told from hotpatches "
                "(run 'chainproof db update')"
            )
        updates = cumulative_updates(db, product, version.build)
    installed = [u for u in updates if u.ubr <= version.ubr]
    current = installed[-1] if installed else None
    newest = updates[-1] if updates else None
    missing = tuple(u for u in updates if u.ubr > version.ubr)
    days = (newest.released - current.released).days if current and newest else None
    return PatchLevel(product, version.build, version.ubr, current, newest, missing, days)

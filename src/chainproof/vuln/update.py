"""``chainproof db update``: download the public feeds, then import them in one transaction.

Downloads go to ``<cache dir>/<name>.part`` and are renamed only when complete, so an
interrupted run resumes with an HTTP ``Range`` request (guarded by ``If-Range`` with the
ETag the server gave, so a document revised in between is fetched whole). Nothing is
imported until every download has completed and parsed: a failed update leaves the database
exactly as it was. The HTTP transport is injectable (tests serve fixture files locally).
"""

from __future__ import annotations

import datetime as dt
import logging
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import platformdirs
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TransferSpeedColumn,
)

from chainproof._files import creating
from chainproof._jsonutil import loads_object
from chainproof.errors import DownloadError, MalformedError
from chainproof.vuln.db import AdvisoryDB, ImportReport
from chainproof.vuln.load import read_path

if TYPE_CHECKING:
    from collections.abc import Iterator

    from chainproof.vuln.interface import FeedBatch

log = logging.getLogger(__name__)

MSRC_API = "https://api.msrc.microsoft.com/cvrf/v3.0"
OSV_EXPORTS = "https://osv-vulnerabilities.storage.googleapis.com"
#: Ecosystems fetched by default: the ones chainproof's catalogers produce.
DEFAULT_ECOSYSTEMS = ("NuGet", "PyPI", "npm", "Maven", "Go", "crates.io", "Debian", "Alpine")
#: Windows Server 2022 shipped in August 2021; earlier months fix nothing a current base needs.
DEFAULT_MSRC_SINCE = "2021-08"
_CHUNK = 1 << 16


@dataclass
class UpdatePlan:
    db_path: Path
    feeds: tuple[str, ...] = ("msrc", "osv")
    ecosystems: tuple[str, ...] = DEFAULT_ECOSYSTEMS
    msrc_since: str = DEFAULT_MSRC_SINCE
    msrc_url: str = MSRC_API
    osv_url: str = OSV_EXPORTS
    cache_dir: Path = field(
        default_factory=lambda: platformdirs.user_cache_path("chainproof") / "feeds"
    )
    retries: int = 3
    timeout: float = 60.0


class Downloader:
    """Resumable downloads over an injectable httpx transport."""

    def __init__(
        self,
        cache_dir: Path,
        *,
        transport: httpx.BaseTransport | None = None,
        progress: Progress | None = None,
        retries: int = 3,
        timeout: float = 60.0,
    ) -> None:
        self.cache_dir = cache_dir
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        self._client = httpx.Client(
            transport=transport,
            timeout=timeout,
            follow_redirects=True,
            # Identity encoding keeps byte offsets meaningful for Range resumption.
            headers={"User-Agent": "chainproof-db-update", "Accept-Encoding": "identity"},
        )
        self._progress = progress
        self._retries = retries

    def close(self) -> None:
        self._client.close()

    def fetch(self, url: str, name: str, *, accept: str = "*/*") -> Path:
        final = self.cache_dir / name
        part = final.with_name(final.name + ".part")
        etag_file = final.with_name(final.name + ".etag")
        final.unlink(missing_ok=True)
        last_error = ""
        for _ in range(self._retries + 1):
            try:
                if self._attempt(url, part, etag_file, accept):
                    part.replace(final)
                    etag_file.unlink(missing_ok=True)
                    return final
                last_error = "connection closed before the whole file arrived"
            except httpx.HTTPStatusError as exc:
                raise DownloadError(f"{url}: server answered {exc.response.status_code}") from None
            except httpx.HTTPError as exc:
                last_error = f"{type(exc).__name__}: {exc}"
            log.info("download of %s interrupted (%s); resuming", url, last_error)
        raise DownloadError(
            f"{url}: download incomplete after {self._retries + 1} tries ({last_error})"
        )

    def _attempt(self, url: str, part: Path, etag_file: Path, accept: str) -> bool:
        offset = part.stat().st_size if part.exists() else 0
        headers = {"Accept": accept}
        if offset and etag_file.exists():
            headers["Range"] = f"bytes={offset}-"
            headers["If-Range"] = etag_file.read_text()
        elif offset:
            # Without a validator a resumed range could splice two versions of the document.
            part.unlink()
            offset = 0
        with self._client.stream("GET", url, headers=headers) as response:
            if response.status_code == 416 and offset:
                return True  # the part file already holds everything
            response.raise_for_status()
            etag = response.headers.get("ETag", "")
            if etag and not etag.startswith("W/"):
                etag_file.write_text(etag)
            if response.status_code != 206:
                offset = 0
            expected = _expected_total(response, offset)
            task = self._task(part.name.removesuffix(".part"), expected, offset)
            with part.open("ab" if offset else "wb") as out:
                for chunk in response.iter_bytes(_CHUNK):
                    out.write(chunk)
                    if self._progress is not None and task is not None:
                        self._progress.advance(task, len(chunk))
        size = part.stat().st_size
        return expected is None or size >= expected

    def _task(self, name: str, total: int | None, done: int) -> TaskID | None:
        if self._progress is None:
            return None
        return self._progress.add_task(name, total=total, completed=done)


def _expected_total(response: httpx.Response, offset: int) -> int | None:
    if response.headers.get("Content-Encoding", "identity") != "identity":
        return None  # the decoded length differs from the encoded one; zip CRCs still check
    content_range = response.headers.get("Content-Range", "")
    if response.status_code == 206 and "/" in content_range:
        total = content_range.rsplit("/", 1)[1]
        return int(total) if total.isdigit() else None
    length = response.headers.get("Content-Length")
    return offset + int(length) if length and length.isdigit() else None


def _month(document_id: str) -> dt.date | None:
    try:
        return dt.datetime.strptime(document_id, "%Y-%b").date()
    except ValueError:
        return None


def msrc_documents(index_path: Path, since: str) -> list[tuple[str, str]]:
    """(ID, CvrfUrl) of the monthly documents released at or after ``since`` (YYYY-MM)."""
    try:
        floor = dt.datetime.strptime(since, "%Y-%m").date()
    except ValueError:
        raise MalformedError(f"--msrc-since {since!r}: expected YYYY-MM") from None
    index = loads_object(index_path.read_bytes(), "MSRC update index")
    out: list[tuple[str, str]] = []
    for entry in index.get("value") or []:
        if not isinstance(entry, dict):
            continue
        doc_id, url = entry.get("ID"), entry.get("CvrfUrl")
        month = _month(doc_id) if isinstance(doc_id, str) else None
        if month is None or not isinstance(url, str) or month < floor:
            continue
        out.append((str(doc_id), url))
    return sorted(out, key=lambda item: _month(item[0]) or dt.date.min)


def run_update(
    plan: UpdatePlan,
    *,
    transport: httpx.BaseTransport | None = None,
    console: Console | None = None,
) -> list[ImportReport]:
    """Download every planned document, parse all of them, then import in one transaction."""
    progress = (
        Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            console=console,
            transient=False,
        )
        if console is not None
        else None
    )
    files: list[tuple[Path, str]] = []
    with progress if progress is not None else nullcontext():
        downloader = Downloader(
            plan.cache_dir,
            transport=transport,
            progress=progress,
            retries=plan.retries,
            timeout=plan.timeout,
        )
        try:
            if "msrc" in plan.feeds:
                index = downloader.fetch(
                    f"{plan.msrc_url.rstrip('/')}/updates",
                    "msrc-updates.json",
                    accept="application/json",
                )
                for doc_id, url in msrc_documents(index, plan.msrc_since):
                    path = downloader.fetch(url, f"msrc-{doc_id}.json", accept="application/json")
                    files.append((path, doc_id))
            if "osv" in plan.feeds:
                for ecosystem in plan.ecosystems:
                    url = f"{plan.osv_url.rstrip('/')}/{ecosystem}/all.zip"
                    path = downloader.fetch(url, f"osv-{ecosystem}.zip")
                    files.append((path, ecosystem))
        finally:
            downloader.close()

    def batches() -> Iterator[tuple[FeedBatch, str]]:
        # Parsed lazily inside the import transaction: a malformed document rolls it back.
        for path, label in files:
            for batch, origin in read_path(path):
                if batch.source.feed == "osv":
                    batch.source = type(batch.source)("osv", label, batch.source.newest)
                yield batch, origin

    # A database this update creates is removed again if the import fails (it would scan clean).
    with creating(plan.db_path) as path, AdvisoryDB(path) as db:
        return db.import_batches(batches())

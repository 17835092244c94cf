"""``db update`` against a local HTTP server serving the fixture files (never the internet)."""

from __future__ import annotations

import hashlib
import json
import threading
import zipfile
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from chainproof.errors import DownloadError
from chainproof.vuln.db import AdvisoryDB
from chainproof.vuln.update import UpdatePlan, run_update

from .conftest import DATA

pytestmark = pytest.mark.integration


class _Files:
    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        #: path -> how many more responses to cut off half-way
        self.truncate: dict[str, int] = {}
        self.requests: list[tuple[str, str]] = []


def _handler(state: _Files) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            state.requests.append((self.path, self.headers.get("Range", "")))
            body = state.files.get(self.path)
            if body is None:
                self.send_error(404)
                return
            etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
            start = 0
            rng = self.headers.get("Range", "")
            if rng.startswith("bytes=") and self.headers.get("If-Range", etag) == etag:
                start = int(rng[6:].split("-")[0])
            if start >= len(body) and start:
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(body)}")
                self.end_headers()
                return
            self.send_response(206 if start else 200)
            self.send_header("ETag", etag)
            self.send_header("Content-Length", str(len(body) - start))
            if start:
                self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
            self.end_headers()
            payload = body[start:]
            if state.truncate.get(self.path, 0) > 0:
                state.truncate[self.path] -= 1
                self.wfile.write(payload[: len(payload) // 2])
                self.wfile.flush()
                self.close_connection = True
                return
            self.wfile.write(payload)

    return Handler


@pytest.fixture
def server(cvrf_json: Path) -> Iterator[tuple[str, _Files]]:
    state = _Files()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    base = f"http://127.0.0.1:{httpd.server_address[1]}"
    export = Path(cvrf_json).parent / "nuget-all.zip"
    with zipfile.ZipFile(export, "w") as z:
        for f in (DATA / "osv").iterdir():
            z.write(f, f.name)
    state.files["/osv/PyPI/all.zip"] = export.read_bytes()
    state.files["/msrc/cvrf/2024-Jan"] = cvrf_json.read_bytes()
    state.files["/msrc/updates"] = json.dumps(
        {
            "value": [
                {"ID": "2023-Dec", "CvrfUrl": f"{base}/msrc/cvrf/2023-Dec"},
                {"ID": "2024-Jan", "CvrfUrl": f"{base}/msrc/cvrf/2024-Jan"},
            ]
        }
    ).encode()
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield base, state
    httpd.shutdown()
    httpd.server_close()


def _plan(tmp_path: Path, base: str) -> UpdatePlan:
    return UpdatePlan(
        db_path=tmp_path / "a.db",
        ecosystems=("PyPI",),
        msrc_since="2024-01",
        msrc_url=f"{base}/msrc",
        osv_url=f"{base}/osv",
        cache_dir=tmp_path / "cache",
        retries=2,
        timeout=10,
    )


def test_update_imports_both_feeds(tmp_path: Path, server: tuple[str, _Files]) -> None:
    base, state = server
    reports = run_update(_plan(tmp_path, base))
    assert [(r.source_id, r.windows_fixes, r.advisories) for r in reports] == [
        ("2024-Jan", 862, 0),
        ("PyPI", 0, 2),
    ]
    # 2023-Dec is before --msrc-since and never requested
    assert not any("2023-Dec" in path for path, _ in state.requests)
    with AdvisoryDB(tmp_path / "a.db") as db:
        assert {s.source_id for s in db.status().sources} == {"2024-Jan", "PyPI"}


def test_interrupted_download_resumes_with_range(
    tmp_path: Path, server: tuple[str, _Files]
) -> None:
    base, state = server
    state.truncate["/msrc/cvrf/2024-Jan"] = 1
    reports = run_update(_plan(tmp_path, base))
    assert reports[0].windows_fixes == 862
    ranges = [r for path, r in state.requests if path == "/msrc/cvrf/2024-Jan"]
    assert ranges[0] == "" and ranges[1].startswith("bytes=") and ranges[1] != "bytes=0-"


def test_truncated_download_fails_and_keeps_the_database(
    tmp_path: Path, server: tuple[str, _Files]
) -> None:
    base, state = server
    plan = _plan(tmp_path, base)
    run_update(plan)
    with AdvisoryDB(plan.db_path) as db:
        before = db.status()
    state.files["/osv/PyPI/all.zip"] = state.files["/osv/PyPI/all.zip"] + b"\0" * 100
    state.truncate["/osv/PyPI/all.zip"] = 10
    with pytest.raises(DownloadError, match="download incomplete"):
        run_update(plan)
    with AdvisoryDB(plan.db_path) as db:
        after = db.status()
    assert (after.sources, after.msrc_fixes, after.advisories) == (
        before.sources,
        before.msrc_fixes,
        before.advisories,
    )


def test_http_error_is_reported(tmp_path: Path, server: tuple[str, _Files]) -> None:
    base, _ = server
    plan = _plan(tmp_path, base)
    plan.ecosystems = ("NoSuchEcosystem",)
    with pytest.raises(DownloadError, match="answered 404"):
        run_update(plan)
    assert not plan.db_path.exists()


def test_cli_update_with_progress(
    tmp_path: Path,
    server: tuple[str, _Files],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from chainproof.cli import main as cli_main

    base, _ = server
    argv = ["db", "update", "--db", str(tmp_path / "c.db"), "--feed", "osv"]
    argv += ["--ecosystem", "PyPI", "--osv-url", f"{base}/osv", "--cache-dir", str(tmp_path)]
    assert cli_main.main(argv) == 0
    captured = capsys.readouterr()
    assert "PyPI: 2 advisories" in captured.out
    assert "osv-PyPI.zip" in captured.err  # the progress line names the download


def test_injected_transport_and_server_errors(tmp_path: Path) -> None:
    import httpx

    from chainproof.vuln.update import Downloader

    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.headers.get("Accept", ""))
        if request.url.path == "/ok":
            return httpx.Response(200, content=b'{"value": []}')
        return httpx.Response(503)

    downloader = Downloader(tmp_path, transport=httpx.MockTransport(handler), retries=0)
    try:
        path = downloader.fetch("https://feeds.invalid/ok", "ok.json", accept="application/json")
        assert path.read_bytes() == b'{"value": []}'
        assert not (tmp_path / "ok.json.part").exists()
        with pytest.raises(DownloadError, match="answered 503"):
            downloader.fetch("https://feeds.invalid/down", "down.json")
    finally:
        downloader.close()
    assert calls[0] == "application/json"

"""Registry misbehaviour a real registry cannot be told to produce.

These tests replace the network with ``httpx.MockTransport`` (the injection point
``RegistryOptions.transport``) because docker-registry cannot be made to answer 500 then 200,
send Retry-After, break a transfer off, serve garbage, redirect blobs to another host, or
implement the referrers API (2.8 predates it). Everything a real registry can do is tested
against one in the other modules.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from chainproof.errors import (
    AuthError,
    IntegrityError,
    MalformedError,
    NotFoundError,
    RegistryError,
    TransportSecurityError,
    UnsupportedError,
)
from chainproof.oci import image as oci_image
from chainproof.oci import mediatypes as mt
from chainproof.oci.digest import Digest
from chainproof.oci.model import Descriptor
from chainproof.oci.reference import parse_registry
from chainproof.oci.registry import RegistryOptions, RegistrySource

Handler = Callable[[httpx.Request], httpx.Response]
MANIFEST = json.dumps(
    {
        "schemaVersion": 2,
        "mediaType": mt.OCI_MANIFEST,
        "config": {"mediaType": mt.OCI_CONFIG, "digest": str(Digest.of(b"{}")), "size": 2},
        "layers": [],
    }
).encode()
MANIFEST_DIGEST = str(Digest.of(MANIFEST))


class Recorder:
    def __init__(self) -> None:
        self.sleeps: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.sleeps.append(seconds)


def _source(
    handler: Handler, tmp_path: Path, ref: str = "registry.test/team/app:v1", **kwargs: object
) -> tuple[RegistrySource, Recorder]:
    sleep = Recorder()
    options = RegistryOptions(
        transport=httpx.MockTransport(handler),
        authfile=tmp_path / "absent.json",
        sleep=sleep,
        **kwargs,  # type: ignore[arg-type]
    )
    return RegistrySource(parse_registry(ref), options), sleep


def _manifest_ok() -> httpx.Response:
    return httpx.Response(
        200,
        content=MANIFEST,
        headers={"Content-Type": mt.OCI_MANIFEST, "Docker-Content-Digest": MANIFEST_DIGEST},
    )


def _registry(routes: dict[str, Callable[[httpx.Request], httpx.Response]]) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v2/":
            return httpx.Response(200)
        route = routes.get(request.url.path)
        return route(request) if route else httpx.Response(404)

    return handler


def _sequence(*responses: httpx.Response | Exception) -> Callable[[httpx.Request], httpx.Response]:
    queue = list(responses)

    def answer(request: httpx.Request) -> httpx.Response:
        item = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(item, Exception):
            raise item
        return item

    return answer


def test_retries_500_and_429_then_succeeds(tmp_path: Path) -> None:
    route = _sequence(
        httpx.Response(500),
        httpx.Response(429, headers={"Retry-After": "3"}),
        httpx.Response(502),
        _manifest_ok(),
    )
    source, sleep = _source(_registry({"/v2/team/app/manifests/v1": route}), tmp_path)
    with source:
        raw, digest = source.resolve()
    assert raw.data == MANIFEST and str(digest) == MANIFEST_DIGEST
    # Exponential backoff (0.5, then 2.0 at attempt 3), with Retry-After honoured in between.
    assert sleep.sleeps == [0.5, 3.0, 2.0]


def test_retry_after_is_bounded(tmp_path: Path) -> None:
    route = _sequence(httpx.Response(503, headers={"Retry-After": "86400"}), _manifest_ok())
    source, sleep = _source(
        _registry({"/v2/team/app/manifests/v1": route}), tmp_path, backoff_max=7.0
    )
    with source:
        source.resolve()
    assert sleep.sleeps == [7.0]


def test_gives_up_after_retries_with_registry_error(tmp_path: Path) -> None:
    route = _sequence(httpx.Response(503))
    source, sleep = _source(_registry({"/v2/team/app/manifests/v1": route}), tmp_path, retries=2)
    with source, pytest.raises(RegistryError, match=r"HTTP 503 .*after 3 attempts"):
        source.resolve()
    assert len(sleep.sleeps) == 2


def test_connection_errors_are_retried(tmp_path: Path) -> None:
    route = _sequence(httpx.ConnectError("connection refused"), _manifest_ok())
    source, sleep = _source(_registry({"/v2/team/app/manifests/v1": route}), tmp_path)
    with source:
        raw, _ = source.resolve()
    assert raw.data == MANIFEST and len(sleep.sleeps) == 1


def test_unreachable_after_retries(tmp_path: Path) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused")

    source, _ = _source(handler, tmp_path, retries=1)
    with source, pytest.raises(RegistryError, match=r"cannot reach registry\.test.*2 attempts"):
        source.resolve()


def test_403_is_auth_error_and_404_not_found(tmp_path: Path) -> None:
    source, _ = _source(
        _registry({"/v2/team/app/manifests/v1": lambda r: httpx.Response(403)}), tmp_path
    )
    with source, pytest.raises(AuthError, match="HTTP 403"):
        source.resolve()
    body = {"errors": [{"code": "MANIFEST_UNKNOWN", "message": "manifest unknown"}]}
    source, _ = _source(
        _registry({"/v2/team/app/manifests/v1": lambda r: httpx.Response(404, json=body)}),
        tmp_path,
    )
    with source, pytest.raises(NotFoundError, match=r"MANIFEST_UNKNOWN: manifest unknown"):
        source.resolve()


def test_garbage_manifest_body_fails_cleanly(tmp_path: Path) -> None:
    garbage = b"<html>oops</html>"
    # Without a digest header the parser meets it: MalformedError.
    plain = _registry({"/v2/team/app/manifests/v1": lambda r: httpx.Response(200, content=garbage)})
    source, _ = _source(plain, tmp_path)
    with source, pytest.raises(MalformedError, match="malformed JSON"):
        oci_image.resolve(source, "registry.test/team/app:v1")
    # With the digest the registry announced, the mismatch is caught first.
    announced = _registry(
        {
            "/v2/team/app/manifests/v1": lambda r: httpx.Response(
                200, content=garbage, headers={"Docker-Content-Digest": MANIFEST_DIGEST}
            )
        }
    )
    source, _ = _source(announced, tmp_path)
    with source, pytest.raises(IntegrityError, match="digest mismatch"):
        oci_image.resolve(source, "registry.test/team/app:v1")


def test_garbage_digest_header_is_registry_error(tmp_path: Path) -> None:
    handler = _registry(
        {
            "/v2/team/app/manifests/v1": lambda r: httpx.Response(
                200, content=MANIFEST, headers={"Docker-Content-Digest": "md5:zzz"}
            )
        }
    )
    source, _ = _source(handler, tmp_path)
    with source, pytest.raises(RegistryError, match="invalid Docker-Content-Digest"):
        source.resolve()


def test_oversized_manifest_is_refused(tmp_path: Path) -> None:
    big = b"{" + b" " * (4 * 1024 * 1024) + b"}"
    handler = _registry({"/v2/team/app/manifests/v1": lambda r: httpx.Response(200, content=big)})
    source, _ = _source(handler, tmp_path)
    with source, pytest.raises(MalformedError, match="4194304-byte limit"):
        source.resolve()


def test_schema1_is_asked_for_and_refused(tmp_path: Path) -> None:
    seen: list[str] = []
    schema1 = json.dumps({"schemaVersion": 1, "name": "team/app", "fsLayers": []}).encode()

    def manifest(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["accept"])
        return httpx.Response(
            200, content=schema1, headers={"Content-Type": mt.DOCKER_SCHEMA1_SIGNED}
        )

    source, _ = _source(_registry({"/v2/team/app/manifests/v1": manifest}), tmp_path)
    with source, pytest.raises(UnsupportedError, match="schema 1"):
        oci_image.resolve(source, "registry.test/team/app:v1")
    assert mt.DOCKER_SCHEMA1_SIGNED in seen[0] and mt.OCI_INDEX in seen[0]


def test_broken_blob_transfer_is_registry_error(tmp_path: Path) -> None:
    digest = Digest.of(b"x" * 100)

    def chunks() -> Iterator[bytes]:
        yield b"x" * 10
        raise httpx.ReadError("connection reset by peer")

    handler = _registry(
        {f"/v2/team/app/blobs/{digest}": lambda r: httpx.Response(200, content=chunks())}
    )
    source, _ = _source(handler, tmp_path)
    with source, pytest.raises(RegistryError, match="broke off"):
        list(source.open_blob(Descriptor(mt.OCI_LAYER, digest, 100)))


def test_blob_redirect_to_other_host_drops_credentials(tmp_path: Path) -> None:
    """Bearer auth on the registry; the blob lives behind a redirect to storage."""
    blob = b"layer bytes"
    digest = Digest.of(blob)
    seen: dict[str, str | None] = {}

    def handler(request: httpx.Request) -> httpx.Response:
        host, path = request.url.host, request.url.path
        if host == "auth.test":
            return httpx.Response(200, json={"token": "tok-123"})
        if host == "storage.test":
            seen["storage"] = request.headers.get("authorization")
            return httpx.Response(200, content=blob)
        if request.headers.get("authorization") != "Bearer tok-123":
            challenge = 'Bearer realm="https://auth.test/token",service="registry.test"'
            return httpx.Response(401, headers={"WWW-Authenticate": challenge})
        if path == f"/v2/team/app/blobs/{digest}":
            seen["registry"] = request.headers.get("authorization")
            return httpx.Response(307, headers={"Location": "https://storage.test/b?sig=1"})
        return httpx.Response(404)

    source, _ = _source(handler, tmp_path)
    with source:
        assert b"".join(source.open_blob(Descriptor(mt.OCI_LAYER, digest, len(blob)))) == blob
    assert seen == {"registry": "Bearer tok-123", "storage": None}


def test_redirect_to_plain_http_is_refused(tmp_path: Path) -> None:
    digest = Digest.of(b"blob")
    handler = _registry(
        {
            f"/v2/team/app/blobs/{digest}": lambda r: httpx.Response(
                302, headers={"Location": "http://cdn.test/blob"}
            )
        }
    )
    source, _ = _source(handler, tmp_path)
    with source, pytest.raises(TransportSecurityError, match="redirected to plain HTTP"):
        list(source.open_blob(Descriptor(mt.OCI_LAYER, digest, 4)))


def test_garbage_token_answer_is_registry_error(tmp_path: Path) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "auth.test":
            return httpx.Response(200, content=b"not json")
        challenge = 'Bearer realm="https://auth.test/token",service="registry.test"'
        return httpx.Response(401, headers={"WWW-Authenticate": challenge})

    source, _ = _source(handler, tmp_path)
    with source, pytest.raises(RegistryError, match="not a JSON object"):
        source.resolve()


def _referrer(digest: str, artifact_type: str) -> dict[str, object]:
    return {
        "mediaType": mt.OCI_MANIFEST,
        "digest": digest,
        "size": 10,
        "artifactType": artifact_type,
    }


def test_referrers_api_with_pagination_and_filter(tmp_path: Path) -> None:
    subject = Digest.of(b"subject")
    first = str(Digest.of(b"sig"))
    second = str(Digest.of(b"sbom"))
    queries: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v2/":
            return httpx.Response(200)
        if request.url.path == f"/v2/team/app/referrers/{subject}":
            queries.append(str(request.url.query, "ascii"))
            if "page=2" not in str(request.url.query):
                link = f'</v2/team/app/referrers/{subject}?page=2>; rel="next"'
                page = {"schemaVersion": 2, "manifests": [_referrer(first, "application/sig")]}
                return httpx.Response(200, json=page, headers={"Link": link})
            page = {"schemaVersion": 2, "manifests": [_referrer(second, "application/sbom")]}
            return httpx.Response(200, json=page)
        return httpx.Response(404)

    source, _ = _source(handler, tmp_path)
    with source:
        everything = source.referrers(subject)
        signatures = source.referrers(subject, "application/sig")
    assert [str(d.digest) for d in everything] == [first, second]
    # The registry ignored the filter here; the client applies it anyway.
    assert [str(d.digest) for d in signatures] == [first]
    assert queries[2] == "artifactType=application%2Fsig"


def test_referrers_api_garbage_is_registry_error(tmp_path: Path) -> None:
    subject = Digest.of(b"subject")
    handler = _registry(
        {
            f"/v2/team/app/referrers/{subject}": lambda r: httpx.Response(
                200, json={"manifests": [{"digest": "nope"}]}
            )
        }
    )
    source, _ = _source(handler, tmp_path)
    with source, pytest.raises(RegistryError, match="malformed answer"):
        source.referrers(subject)


def test_foreign_layer_with_http_url_is_never_fetched(tmp_path: Path) -> None:
    digest = Digest.of(b"foreign")
    fetched: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        fetched.append(str(request.url))
        return httpx.Response(200) if request.url.path == "/v2/" else httpx.Response(404)

    descriptor = Descriptor(
        mt.DOCKER_LAYER_FOREIGN_GZIP, digest, 7, urls=("http://go.microsoft.com/layer",)
    )
    source, _ = _source(handler, tmp_path, foreign_hosts=frozenset({"go.microsoft.com"}))
    with source, pytest.raises(NotFoundError, match="only https URLs"):
        list(source.open_blob(descriptor))
    assert not any("microsoft" in url for url in fetched)


def test_content_encoding_from_a_proxy_is_undone(tmp_path: Path) -> None:
    """A proxy that gzips the transfer anyway must not change the blob we hash."""
    blob = b"layer bytes " * 100
    digest = Digest.of(blob)

    def chunks() -> Iterator[bytes]:
        yield gzip.compress(blob)

    handler = _registry(
        {
            f"/v2/team/app/blobs/{digest}": lambda r: httpx.Response(
                200, content=chunks(), headers={"Content-Encoding": "gzip"}
            )
        }
    )
    source, _ = _source(handler, tmp_path)
    with source:
        assert b"".join(source.open_blob(Descriptor(mt.OCI_LAYER, digest, len(blob)))) == blob


def test_unparsable_retry_after_keeps_the_backoff(tmp_path: Path) -> None:
    route = _sequence(httpx.Response(503, headers={"Retry-After": "soon-ish"}), _manifest_ok())
    source, sleep = _source(_registry({"/v2/team/app/manifests/v1": route}), tmp_path)
    with source:
        source.resolve()
    assert sleep.sleeps == [0.5]


def test_http_date_retry_after_is_honoured_and_bounded(tmp_path: Path) -> None:
    route = _sequence(
        httpx.Response(429, headers={"Retry-After": "Fri, 31 Dec 2100 23:59:59 GMT"}),
        _manifest_ok(),
    )
    source, sleep = _source(_registry({"/v2/team/app/manifests/v1": route}), tmp_path)
    with source:
        source.resolve()
    assert sleep.sleeps == [10.0]

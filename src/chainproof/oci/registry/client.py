"""An OCI distribution-spec client: auth, TLS policy, retries, manifests, blobs, referrers.

Everything it returns is *unverified*; :mod:`chainproof.oci.image` checks digests. Errors::

    AuthError               401/403 from the registry or its token server
    NotFoundError           404 for a manifest or blob (or a foreign layer we may not fetch)
    TransportSecurityError  TLS failure, TLS below the minimum, plain HTTP not allowed
    RegistryError           unreachable, 5xx/429 after retries, garbage answers
    MalformedError          a manifest larger than the 4 MiB limit
"""

from __future__ import annotations

import contextlib
import email.utils
import time
import urllib.parse
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx

from chainproof import _jsonutil
from chainproof._version import __version__
from chainproof.errors import (
    AuthError,
    Error,
    MalformedError,
    NotFoundError,
    RegistryError,
    TransportSecurityError,
)
from chainproof.oci import mediatypes as mt
from chainproof.oci.digest import Digest
from chainproof.oci.model import Descriptor
from chainproof.oci.reference import DOCKER_HUB, DOCKER_HUB_API
from chainproof.oci.registry import _auth, _tls
from chainproof.oci.registry.options import RegistryOptions
from chainproof.oci.sources.interface import CHUNK_SIZE, RawManifest

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

MAX_MANIFEST_BYTES = 4 * 1024 * 1024
MAX_SMALL_BODY = 64 * 1024  # token responses and error documents
MAX_REDIRECTS = 5
MAX_REFERRER_PAGES = 64
#: Blobs up to this size go up in one PUT; larger ones in PATCH chunks of UPLOAD_CHUNK.
MONOLITHIC_LIMIT = 16 * 1024 * 1024
UPLOAD_CHUNK = 8 * 1024 * 1024
_RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
_REDIRECT_STATUS = frozenset({301, 302, 303, 307, 308})
#: Schema 1 is asked for too, so the parser sees it and refuses it with a clear message
#: instead of the registry answering "manifest unknown".
ACCEPT = ", ".join((*mt.ACCEPT_MANIFESTS, mt.DOCKER_SCHEMA1_SIGNED, mt.DOCKER_SCHEMA1))
_KNOWN_MANIFEST_TYPES = mt.INDEX_TYPES | mt.MANIFEST_TYPES | mt.SCHEMA1_TYPES


@dataclass
class _Token:
    value: str
    expires: float


@dataclass(frozen=True)
class PushedManifest:
    """What a manifest PUT produced; ``subject_processed`` is the OCI-Subject answer (the
    registry indexed the ``subject`` for the referrers API)."""

    digest: Digest
    subject_processed: bool = False


def _push_scope(repository: str) -> str:
    return f"repository:{repository}:pull,push"


def _one_line(text: str, limit: int = 200) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _authority(url: httpx.URL) -> str:
    default = 443 if url.scheme == "https" else 80
    host = url.host if ":" not in url.host else f"[{url.host}]"
    return host if url.port in (None, default) else f"{host}:{url.port}"


class RegistryClient:
    """HTTP access to one registry host.

    ``last_tls_version`` is the TLS version of the most recent HTTPS response ("TLSv1.3"),
    None before the first one or over plain HTTP.
    """

    def __init__(self, host: str, options: RegistryOptions | None = None) -> None:
        self.options = options or RegistryOptions()
        self.host = host
        self.api_host = DOCKER_HUB_API if host == DOCKER_HUB else host
        self.last_tls_version: str | None = None
        verify: Any = True
        if self.options.transport is None:
            verify = _tls.make_context(self.options)
        self._http = httpx.Client(
            transport=self.options.transport,
            verify=verify,
            follow_redirects=False,  # followed by hand: scheme policy and credential stripping
            timeout=httpx.Timeout(self.options.timeout, connect=min(self.options.timeout, 30.0)),
            headers={"User-Agent": f"chainproof/{__version__}"},
        )
        self._scheme: str | None = None
        self._challenge: _auth.Challenge | None = None
        self._tokens: dict[tuple[str, str, str], _Token] = {}
        self._credentials: _auth.Credentials | None = None
        self._credentials_loaded = False

    # -- plumbing ----------------------------------------------------------------------

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _backoff(self, attempt: int, response: httpx.Response | None) -> float:
        delay = min(self.options.backoff_base * (2**attempt), self.options.backoff_max)
        if response is not None:
            after = response.headers.get("retry-after", "").strip()
            if after.isdigit():
                delay = float(after)
            elif after:
                # Unparsable: keep the exponential delay.
                with contextlib.suppress(TypeError, ValueError, OverflowError):
                    delay = email.utils.parsedate_to_datetime(after).timestamp() - time.time()
        # Bounded either way: a hostile Retry-After must not park us for hours.
        return float(max(0.0, min(delay, self.options.backoff_max)))

    def _record_tls(self, response: httpx.Response) -> None:
        stream = response.extensions.get("network_stream")
        if stream is None:
            return
        ssl_object = stream.get_extra_info("ssl_object")
        self.last_tls_version = ssl_object.version() if ssl_object is not None else None

    def _send(
        self,
        method: str,
        url: str,
        headers: dict[str, str] | None = None,
        *,
        data: dict[str, str] | None = None,
        content: bytes | None = None,
    ) -> httpx.Response:
        """One request with retries on 429/5xx and connection errors; the body left unread."""
        try:
            target = httpx.URL(url)
        except httpx.InvalidURL:
            raise RegistryError(f"{self.host}: invalid URL {_one_line(url, 100)!r}") from None
        where = _authority(target)
        if target.scheme == "http" and not self.options.is_insecure(where):
            raise TransportSecurityError(
                f"plain HTTP to {where} refused; pass --insecure-registry {where} to allow it"
            )
        attempts = self.options.retries + 1
        for attempt in range(attempts):
            last = attempt == attempts - 1
            try:
                request = self._http.build_request(
                    method, url, headers=headers, data=data, content=content
                )
                response = self._http.send(request, stream=True)
            except httpx.TransportError as exc:
                if target.scheme == "https" and _tls.is_tls_failure(exc):
                    raise _tls.describe_failure(exc, where, self.options.min_tls) from None
                if last:
                    raise RegistryError(
                        f"cannot reach {where}: {_one_line(str(exc)) or type(exc).__name__}"
                        + (f" (after {attempts} attempts)" if attempts > 1 else "")
                    ) from None
                self.options.sleep(self._backoff(attempt, None))
                continue
            self._record_tls(response)
            if response.status_code in _RETRY_STATUS and not last:
                delay = self._backoff(attempt, response)
                response.close()
                self.options.sleep(delay)
                continue
            return response
        raise AssertionError("unreachable")  # pragma: no cover

    def _read(self, response: httpx.Response, limit: int, what: str) -> bytes:
        """The body, refusing more than ``limit`` bytes whatever Content-Length claims."""
        parts: list[bytes] = []
        size = 0
        try:
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > limit:
                    raise MalformedError(f"{what}: larger than the {limit}-byte limit")
                parts.append(chunk)
        except httpx.HTTPError as exc:
            raise RegistryError(f"{what}: transfer from {self.host} failed: {exc}") from None
        finally:
            response.close()
        return b"".join(parts)

    def _error_detail(self, response: httpx.Response) -> str:
        try:
            body = self._read(response, MAX_SMALL_BODY, "error response")
        except Error:
            return ""
        try:
            document = _jsonutil.loads_object(body, "error response")
        except Error:
            return ""
        errors = document.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            code = errors[0].get("code", "")
            message = errors[0].get("message", "")
            return _one_line(f"{code}: {message}" if code and message else str(code or message))
        return ""

    def _fail(self, response: httpx.Response, what: str) -> Error:
        """The chainproof error for a non-success answer (closes the response)."""
        status = response.status_code
        detail = self._error_detail(response)
        suffix = f" ({detail})" if detail else ""
        if status in (401, 403):
            return self._auth_failure(status, what, suffix)
        if status == 404:
            return NotFoundError(f"{what} not found in {self.host}{suffix}")
        if status in _RETRY_STATUS:
            tries = self.options.retries + 1
            return RegistryError(
                f"{self.host} answered HTTP {status} for {what} "
                f"after {tries} attempt{'s' if tries != 1 else ''}{suffix}"
            )
        return RegistryError(f"{self.host} answered HTTP {status} for {what}{suffix}")

    def _auth_failure(self, status: int, what: str, suffix: str) -> AuthError:
        creds = self.credentials()
        if creds is None:
            return AuthError(
                f"{self.host} requires authentication for {what} (HTTP {status}){suffix}; "
                f"no credentials for {self.host} in {self.options.resolved_authfile}"
            )
        verb = "was denied" if status == 403 else "refused the credentials"
        return AuthError(
            f"{self.host} {verb} for {what} (HTTP {status}, credentials from {creds.origin})"
            f"{suffix}"
        )

    # -- scheme and authentication -----------------------------------------------------

    def credentials(self) -> _auth.Credentials | None:
        if not self._credentials_loaded:
            self._credentials = _auth.lookup(
                self.host,
                self.options.resolved_authfile,
                self.options.credential_helper_timeout,
            )
            self._credentials_loaded = True
        return self._credentials

    def _ping(self) -> None:
        """Choose the scheme and learn the auth challenge from ``GET /v2/`` (as Docker does)."""
        schemes = ["https"]
        if self.options.is_insecure(self.api_host):
            schemes.append("http")
        first_error: Error | None = None
        for scheme in schemes:
            try:
                response = self._send("GET", f"{scheme}://{self.api_host}/v2/")
            except (RegistryError, TransportSecurityError) as exc:
                first_error = first_error or exc
                continue
            with contextlib.closing(response):
                if first_error is not None and response.status_code not in (200, 401):
                    # Plain HTTP to a TLS port (Go answers 400): the HTTPS failure is the
                    # real story, not this answer.
                    raise first_error
                if response.status_code == 401:
                    challenges = _auth.parse_challenges(
                        response.headers.get("www-authenticate", "")
                    )
                    self._challenge = next(
                        (c for c in challenges if c.scheme in ("bearer", "basic")), None
                    )
                elif response.status_code >= 500:
                    raise self._fail(response, "the API root /v2/")
            self._scheme = scheme
            return
        raise first_error or RegistryError(f"cannot reach {self.host}")

    def _base(self) -> str:
        if self._scheme is None:
            self._ping()
        return f"{self._scheme}://{self.api_host}"

    def _token(self, params: dict[str, str], scope: str, *, fresh: bool = False) -> str:
        realm = params.get("realm", "")
        if not realm.startswith(("https://", "http://")):
            raise RegistryError(f"{self.host}: bearer challenge without a usable realm")
        service = params.get("service", "")
        key = (realm, service, scope)
        cached = self._tokens.get(key)
        if cached is not None and not fresh and cached.expires > time.monotonic():
            return cached.value
        creds = self.credentials()
        query = {"scope": scope} if scope else {}
        if service:
            query["service"] = service
        what = f"token from {realm}"
        if creds is not None and creds.identity_token:
            form = {
                "grant_type": "refresh_token",
                "refresh_token": creds.identity_token,
                "client_id": "chainproof",
                **query,
            }
            response = self._send("POST", realm, data=form)
        else:
            headers = {}
            if creds is not None and creds.has_basic:
                headers["Authorization"] = _auth.basic_header(creds)
                query["account"] = creds.username
            url = str(httpx.URL(realm).copy_merge_params(query))
            response = self._send("GET", url, headers)
        if response.status_code != 200:
            raise self._fail(response, f"a token for {scope or 'the registry'}")
        body = self._read(response, MAX_SMALL_BODY, what)
        try:
            document = _jsonutil.loads_object(body, what)
        except Error:
            raise RegistryError(f"{what}: the answer is not a JSON object") from None
        value = document.get("token") or document.get("access_token")
        if not isinstance(value, str) or not value:
            raise RegistryError(f"{what}: the answer has no 'token' or 'access_token'")
        expires_in = document.get("expires_in")
        lifetime = expires_in if isinstance(expires_in, int) and expires_in > 0 else 60
        # Renew a little early so a token does not expire between check and use.
        self._tokens[key] = _Token(value, time.monotonic() + max(lifetime - 5, 1))
        return value

    def _auth_headers(self, scope: str, *, fresh: bool = False) -> dict[str, str]:
        challenge = self._challenge
        if challenge is None:
            return {}
        if challenge.scheme == "bearer":
            return {"Authorization": f"Bearer {self._token(challenge.params, scope, fresh=fresh)}"}
        creds = self.credentials()
        if challenge.scheme == "basic" and creds is not None and creds.has_basic:
            return {"Authorization": _auth.basic_header(creds)}
        return {}

    def _get(self, path: str, scope: str, headers: dict[str, str]) -> httpx.Response:
        """GET on the registry with auth (one renewal on 401) and hand-followed redirects."""
        response, auth = self._call("GET", self._base() + path, scope, headers)
        return self._follow(response, {**headers, **auth})

    def _call(
        self,
        method: str,
        url: str,
        scope: str,
        headers: dict[str, str],
        content: bytes | None = None,
    ) -> tuple[httpx.Response, dict[str, str]]:
        """One request with auth (one renewal on 401); returns the response and the auth used.

        Credentials go only to the registry itself: an upload URL on another host (blob
        storage behind the registry) gets the request without them.
        """
        if _authority(httpx.URL(url)) != _authority(httpx.URL(self._base())):
            return self._send(method, url, headers, content=content), {}
        auth = self._auth_headers(scope)
        response = self._send(method, url, {**headers, **auth}, content=content)
        if response.status_code == 401:
            challenges = _auth.parse_challenges(response.headers.get("www-authenticate", ""))
            bearer = next((c for c in challenges if c.scheme == "bearer"), None)
            basic = next((c for c in challenges if c.scheme == "basic"), None)
            retry_auth: dict[str, str] = {}
            if bearer is not None:
                self._challenge = bearer
                retry_scope = bearer.params.get("scope", scope)
                retry_auth = self._auth_headers(retry_scope, fresh=True)
            elif basic is not None and not auth:
                self._challenge = basic
                retry_auth = self._auth_headers(scope)
            if retry_auth:
                response.close()
                auth = retry_auth
                response = self._send(method, url, {**headers, **auth}, content=content)
        return response, auth

    def _follow(self, response: httpx.Response, headers: dict[str, str]) -> httpx.Response:
        origin = _authority(response.request.url)
        for _hop in range(MAX_REDIRECTS):
            if response.status_code not in _REDIRECT_STATUS:
                return response
            location = response.headers.get("location", "")
            current = response.request.url
            response.close()
            if not location:
                raise RegistryError(f"{self.host}: redirect without a Location")
            try:
                target = current.join(location)
            except httpx.InvalidURL:
                raise RegistryError(f"{self.host}: redirect to an invalid URL") from None
            where = _authority(target)
            if target.scheme not in ("https", "http"):
                raise RegistryError(
                    f"{self.host}: redirect to unsupported URL scheme {target.scheme!r}"
                )
            if target.scheme == "http" and not self.options.is_insecure(where):
                raise TransportSecurityError(
                    f"{self.host} redirected to plain HTTP at {where}; refused "
                    f"(pass --insecure-registry {where} to allow it)"
                )
            if where != origin:
                # Blob storage (S3, CDN) must never see the registry's credentials.
                headers = {k: v for k, v in headers.items() if k.lower() != "authorization"}
            response = self._send("GET", str(target), headers)
        response.close()
        raise RegistryError(f"{self.host}: more than {MAX_REDIRECTS} redirects")

    # -- the API -----------------------------------------------------------------------

    def get_manifest(
        self, repository: str, reference: str, accept: str = ACCEPT
    ) -> tuple[RawManifest, Digest | None]:
        """The manifest bytes, their media type, and the Docker-Content-Digest if sent."""
        what = (
            f"manifest {repository}:{reference}"
            if ":" not in reference
            else (f"manifest {repository}@{reference}")
        )
        response = self._get(
            f"/v2/{repository}/manifests/{reference}",
            f"repository:{repository}:pull",
            {"Accept": accept},
        )
        if response.status_code != 200:
            raise self._fail(response, what)
        media_type = response.headers.get("content-type", "").split(";")[0].strip()
        header_digest = response.headers.get("docker-content-digest", "").strip()
        data = self._read(response, MAX_MANIFEST_BYTES, what)
        digest: Digest | None = None
        if header_digest:
            try:
                digest = Digest.parse(header_digest)
            except Error:
                raise RegistryError(
                    f"{self.host} sent an invalid Docker-Content-Digest for {what}: "
                    f"{_one_line(header_digest, 80)!r}"
                ) from None
        if media_type not in _KNOWN_MANIFEST_TYPES:
            media_type = ""  # let the document's own mediaType (or its shape) decide
        return RawManifest(data, media_type), digest

    def blob_response(self, repository: str, digest: Digest) -> httpx.Response:
        """An open response for a blob (status checked, body unread)."""
        response = self._get(
            f"/v2/{repository}/blobs/{digest}",
            f"repository:{repository}:pull",
            {"Accept-Encoding": "identity"},
        )
        if response.status_code != 200:
            raise self._fail(response, f"blob {digest.short()} in {repository}")
        return response

    # -- pushing -----------------------------------------------------------------------

    def blob_exists(self, repository: str, digest: Digest) -> bool:
        """Whether the repository already holds the blob (``HEAD``; a redirect means yes)."""
        response, _ = self._call(
            "HEAD", f"{self._base()}/v2/{repository}/blobs/{digest}", _push_scope(repository), {}
        )
        if response.status_code == 200 or response.status_code in _REDIRECT_STATUS:
            response.close()
            return True
        if response.status_code == 404:
            response.close()
            return False
        raise self._fail(response, f"blob {digest.short()} in {repository}")

    def push_blob(self, repository: str, data: bytes) -> Digest:
        """Upload ``data`` unless the registry has it: one POST + PUT, chunked when large."""
        digest = Digest.of(data)
        if self.blob_exists(repository, digest):
            return digest
        if len(data) <= MONOLITHIC_LIMIT:
            location = self._start_upload(repository, digest)
            self._finish_upload(location, digest, data, repository)
        else:
            chunks = (data[i : i + UPLOAD_CHUNK] for i in range(0, len(data), UPLOAD_CHUNK))
            self.push_blob_chunks(repository, digest, chunks)
        return digest

    def push_blob_chunks(self, repository: str, digest: Digest, chunks: Iterable[bytes]) -> None:
        """Upload a blob piece by piece (``PATCH`` with Content-Range), closed by a PUT.

        The registry checks the digest when the upload closes; a wrong one is refused there
        and nothing becomes visible under it.
        """
        location = self._start_upload(repository, digest)
        offset = 0
        what = f"upload of blob {digest.short()} to {repository}"
        for chunk in chunks:
            if not chunk:
                continue
            headers = {
                "Content-Type": "application/octet-stream",
                "Content-Range": f"{offset}-{offset + len(chunk) - 1}",
            }
            response, _ = self._call(
                "PATCH", location, _push_scope(repository), headers, content=chunk
            )
            if response.status_code != 202:
                raise self._fail(response, what)
            location = self._upload_location(response, what)
            response.close()
            offset += len(chunk)
        self._finish_upload(location, digest, b"", repository)

    def _start_upload(self, repository: str, digest: Digest) -> str:
        what = f"upload of blob {digest.short()} to {repository}"
        response, _ = self._call(
            "POST",
            f"{self._base()}/v2/{repository}/blobs/uploads/",
            _push_scope(repository),
            {},
            content=b"",
        )
        if response.status_code != 202:
            raise self._fail(response, what)
        location = self._upload_location(response, what)
        response.close()
        return location

    def _upload_location(self, response: httpx.Response, what: str) -> str:
        location = response.headers.get("location", "")
        if not location:
            response.close()
            raise RegistryError(f"{self.host} answered the {what} without a Location")
        try:
            return str(response.request.url.join(location))
        except httpx.InvalidURL:
            response.close()
            raise RegistryError(f"{self.host}: invalid upload Location for the {what}") from None

    def _finish_upload(self, location: str, digest: Digest, data: bytes, repository: str) -> None:
        url = httpx.URL(location).copy_merge_params({"digest": str(digest)})
        headers = {"Content-Type": "application/octet-stream"}
        response, _ = self._call("PUT", str(url), _push_scope(repository), headers, content=data)
        if response.status_code not in (201, 204):
            raise self._fail(response, f"upload of blob {digest.short()} to {repository}")
        response.close()

    def put_manifest(
        self, repository: str, reference: str, data: bytes, media_type: str
    ) -> PushedManifest:
        """PUT a manifest under a tag or its digest; every blob it names must be pushed first."""
        digest = Digest.of(data)
        what = (
            f"manifest {repository}:{reference}"
            if ":" not in reference
            else (f"manifest {repository}@{reference}")
        )
        if len(data) > MAX_MANIFEST_BYTES:
            raise MalformedError(f"{what}: larger than the {MAX_MANIFEST_BYTES}-byte limit")
        response, _ = self._call(
            "PUT",
            f"{self._base()}/v2/{repository}/manifests/{reference}",
            _push_scope(repository),
            {"Content-Type": media_type},
            content=data,
        )
        if response.status_code not in (200, 201, 202):
            raise self._fail(response, f"push of {what}")
        announced = response.headers.get("docker-content-digest", "").strip()
        subject = response.headers.get("oci-subject", "").strip()
        response.close()
        if announced and announced != str(digest):
            raise RegistryError(
                f"{self.host} stored {what} as {_one_line(announced, 80)}, not {digest}"
            )
        return PushedManifest(digest, subject_processed=bool(subject))

    def supports_referrers(self, repository: str, subject: Digest) -> bool:
        """Whether the registry serves the referrers API (distribution 2.x answers 404)."""
        response = self._get(
            f"/v2/{repository}/referrers/{subject}",
            f"repository:{repository}:pull",
            {"Accept": mt.OCI_INDEX},
        )
        status = response.status_code
        if status in (200, 404):
            response.close()
            return status == 200
        raise self._fail(response, f"referrers of {subject.short()}")

    def url_response(self, url: str) -> httpx.Response:
        """An open response for an external URL (foreign layers): never any credentials."""
        response = self._send("GET", url, {"Accept-Encoding": "identity"})
        response = self._follow(response, {"Accept-Encoding": "identity"})
        if response.status_code != 200:
            status = response.status_code
            response.close()
            if status == 404:
                raise NotFoundError(f"{url} not found (HTTP 404)")
            raise RegistryError(f"{url} answered HTTP {status}")
        return response

    def stream(self, response: httpx.Response, what: str) -> Iterator[bytes]:
        """Yield a response body in chunks; a broken transfer is a RegistryError (no Range)."""
        try:
            encoding = response.headers.get("content-encoding", "identity").strip().lower()
            if encoding in ("", "identity") and not response.is_stream_consumed:
                # No decoder and no re-chunking: the transport's own reads go straight
                # through, which is measurably faster for multi-GB layers.
                yield from response.iter_raw()
            else:
                yield from response.iter_bytes(CHUNK_SIZE)
        except httpx.HTTPError as exc:
            raise RegistryError(
                f"{what}: transfer from {_authority(response.request.url)} broke off: "
                f"{_one_line(str(exc)) or type(exc).__name__}"
            ) from None
        finally:
            response.close()

    def referrers(
        self, repository: str, subject: Digest, artifact_type: str = ""
    ) -> list[Descriptor]:
        """Referrers of ``subject``: the referrers API, else the ``sha256-<hex>`` tag index."""
        path = f"/v2/{repository}/referrers/{subject}"
        if artifact_type:
            path += "?" + urllib.parse.urlencode({"artifactType": artifact_type})
        scope = f"repository:{repository}:pull"
        response = self._get(path, scope, {"Accept": mt.OCI_INDEX})
        if response.status_code == 404:
            # Registries without the API must answer 404 (distribution spec); then the
            # tag schema is where clients like oras and cosign put the list.
            response.close()
            return self._referrers_by_tag(repository, subject, artifact_type)
        found: list[Descriptor] = []
        for page in range(MAX_REFERRER_PAGES):
            what = f"referrers of {subject.short()} (page {page + 1})"
            if response.status_code != 200:
                raise self._fail(response, what)
            link = response.headers.get("link", "")
            base = response.request.url
            body = self._read(response, MAX_MANIFEST_BYTES, what)
            found.extend(self._index_entries(body, what))
            next_url = _next_link(link, base)
            if next_url is None:
                break
            if _authority(next_url) != _authority(base) or next_url.scheme != base.scheme:
                raise RegistryError(f"{what}: pagination link leaves {self.host}")
            target = next_url.raw_path.decode("ascii")
            response = self._get(target, scope, {"Accept": mt.OCI_INDEX})
        else:
            raise RegistryError(
                f"referrers of {subject.short()}: more than {MAX_REFERRER_PAGES} pages"
            )
        return _filter(found, artifact_type)

    def _referrers_by_tag(
        self, repository: str, subject: Digest, artifact_type: str
    ) -> list[Descriptor]:
        tag = f"{subject.algorithm}-{subject.hex}"
        try:
            raw, _ = self.get_manifest(repository, tag, mt.OCI_INDEX)
        except NotFoundError:
            return []
        what = f"referrers tag {tag}"
        return _filter(self._index_entries(raw.data, what), artifact_type)

    def _index_entries(self, body: bytes, what: str) -> list[Descriptor]:
        try:
            document = _jsonutil.loads_object(body, what)
            entries = document.get("manifests")
            if entries is None:
                entries = []
            if not isinstance(entries, list):
                raise MalformedError(f"{what}: 'manifests' must be a list")
            return [Descriptor.from_json(e, f"{what} entry {i}") for i, e in enumerate(entries)]
        except Error as exc:
            raise RegistryError(f"{self.host} sent a malformed answer: {exc}") from None


def _next_link(header: str, base: httpx.URL) -> httpx.URL | None:
    """The ``rel="next"`` target of an RFC 8288 Link header, resolved against ``base``."""
    for part in header.split(","):
        segments = [s.strip() for s in part.split(";")]
        if not segments or not segments[0].startswith("<") or not segments[0].endswith(">"):
            continue
        rels = {
            s.split("=", 1)[1].strip().strip('"')
            for s in segments[1:]
            if s.lower().startswith("rel=")
        }
        if "next" in rels:
            return base.join(segments[0][1:-1])
    return None


def _filter(descriptors: list[Descriptor], artifact_type: str) -> list[Descriptor]:
    # Registries may ignore the filter (OCI-Filters-Applied is optional): apply it again.
    if not artifact_type:
        return descriptors
    return [d for d in descriptors if d.artifact_type == artifact_type]

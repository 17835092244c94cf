"""The registry as an :class:`~chainproof.oci.sources.interface.ImageSource`."""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx

from chainproof.errors import Error, NotFoundError
from chainproof.oci.registry.client import RegistryClient
from chainproof.oci.registry.options import RegistryOptions
from chainproof.oci.sources.interface import ImageSource, RawManifest

if TYPE_CHECKING:
    from collections.abc import Iterator

    from chainproof.oci.digest import Digest
    from chainproof.oci.model import Descriptor
    from chainproof.oci.reference import RegistryRef


class RegistrySource(ImageSource):
    """Manifests and blobs of one repository in a registry (bytes unverified)."""

    def __init__(self, ref: RegistryRef, options: RegistryOptions | None = None) -> None:
        self.ref = ref
        self.options = options or RegistryOptions()
        self.location = ref.name
        self.client = RegistryClient(ref.host, self.options)

    def __enter__(self) -> RegistrySource:
        return self

    def resolve(self) -> tuple[RawManifest, Digest | None]:
        raw, served = self.client.get_manifest(self.ref.repository, self.ref.identifier)
        # A pinned digest is what the user asked for; otherwise hold the registry to the
        # digest it announced for the tag (as skopeo and crane do).
        return raw, self.ref.digest or served

    def get_manifest(self, digest: Digest) -> RawManifest:
        raw, _ = self.client.get_manifest(self.ref.repository, str(digest))
        return raw

    def get_tag(self, tag: str) -> RawManifest | None:
        try:
            raw, _ = self.client.get_manifest(self.ref.repository, tag)
        except NotFoundError:
            return None
        return raw

    def blob_fingerprint(self, descriptor: Descriptor) -> str | None:
        # A registry serves a blob by its digest (or fails); there are no bytes at rest here
        # that could change under a verified digest.
        del descriptor
        return ""

    def open_blob(self, descriptor: Descriptor) -> Iterator[bytes]:
        what = f"blob {descriptor.digest.short()}"
        response = self._open(descriptor)
        yield from self.client.stream(response, what)

    def _open(self, descriptor: Descriptor) -> httpx.Response:
        if not descriptor.urls:
            return self.client.blob_response(self.ref.repository, descriptor.digest)
        allowed, refused = self._split_urls(descriptor.urls)
        # Foreign layers live at their URLs; other blobs with URLs are in the registry first.
        attempts: list[str | None] = [*allowed, None] if descriptor.is_foreign else [None, *allowed]
        errors: list[str] = []
        for url in attempts:
            try:
                if url is None:
                    return self.client.blob_response(self.ref.repository, descriptor.digest)
                return self.client.url_response(url)
            except NotFoundError as exc:
                errors.append(str(exc))
            except Error as exc:
                if url is None:
                    raise
                errors.append(str(exc))
        kind = "foreign layer" if descriptor.is_foreign else "blob"
        message = f"{kind} {descriptor.digest.short()} is not in {self.location}"
        if refused:
            hosts = sorted({host for host, _ in refused})
            https_hosts = sorted(
                {host for host, url in refused if url.lower().startswith("https://")}
            )
            message += f" and its URLs are not allowed ({', '.join(hosts)}): " + (
                " ".join(f"--allow-foreign-host {h}" for h in https_hosts)
                + " fetches it from there"
                if https_hosts
                else "only https URLs are ever fetched"
            )
        elif allowed:
            message += f" nor at its URLs ({'; '.join(errors[-len(allowed) :])})"
        raise NotFoundError(message)

    def _split_urls(self, urls: tuple[str, ...]) -> tuple[list[str], list[tuple[str, str]]]:
        allowed: list[str] = []
        refused: list[tuple[str, str]] = []
        for url in urls:
            try:
                parsed = httpx.URL(url)
            except httpx.InvalidURL:
                refused.append(("(invalid URL)", url))
                continue
            host = parsed.host or "(no host)"
            if parsed.scheme == "https" and self.options.allows_foreign(host, parsed.port):
                allowed.append(url)
            else:
                refused.append((host if parsed.port is None else f"{host}:{parsed.port}", url))
        return allowed, refused

    def referrers(self, subject: Digest, artifact_type: str = "") -> list[Descriptor]:
        return self.client.referrers(self.ref.repository, subject, artifact_type)

    def close(self) -> None:
        self.client.close()

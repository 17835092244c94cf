"""Open any IMAGE argument: pick the source for its transport and resolve it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from chainproof.oci import image as images
from chainproof.oci import reference as references
from chainproof.oci.platform import PlatformSpec
from chainproof.oci.sources.docker_archive import DockerArchiveSource
from chainproof.oci.sources.layout import LayoutSource

if TYPE_CHECKING:
    from chainproof.oci.image import ResolvedTarget
    from chainproof.oci.registry.options import RegistryOptions
    from chainproof.oci.sources.interface import ImageSource


@dataclass(frozen=True)
class OpenOptions:
    """How to reach and narrow down an image (the CLI's shared image options)."""

    platform: str = ""
    all_platforms: bool = False
    registry: RegistryOptions | None = None
    #: Verified layers to reuse: a ``chainproof.layers.cache.LayerCache``; None streams every
    #: layer. Typed ``object`` so that oci, below layers, does not import it.
    layer_cache: object | None = None


def open_source(reference: references.ImageRef, options: OpenOptions | None = None) -> ImageSource:
    """A source for a parsed reference; the caller closes it."""
    options = options or OpenOptions()
    if isinstance(reference, references.LocalRef):
        if reference.transport == "oci":
            return LayoutSource.from_directory(reference.path, reference.tag, reference.digest)
        if reference.transport == "oci-archive":
            return LayoutSource.from_archive(reference.path, reference.tag, reference.digest)
        return DockerArchiveSource(reference.path, reference.tag)
    from chainproof.oci.registry import RegistrySource

    return RegistrySource(reference, options.registry)


def open_target(
    reference: str, options: OpenOptions | None = None
) -> tuple[ImageSource, ResolvedTarget]:
    """Parse, open and resolve ``reference``; returns the open source and what it resolved to.

    The caller closes the source (it is needed to stream layers afterwards).
    """
    options = options or OpenOptions()
    parsed = references.parse(reference)
    spec = PlatformSpec.parse(options.platform) if options.platform else None
    source = open_source(parsed, options)
    source.layer_cache = options.layer_cache
    try:
        target = images.resolve(source, str(parsed), spec, all_platforms=options.all_platforms)
    except BaseException:
        source.close()
        raise
    return source, target

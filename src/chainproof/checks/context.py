"""What a check gets to look at."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chainproof.oci.image import PlatformImage
    from chainproof.oci.sources.interface import ImageSource


@dataclass
class CheckContext:
    """One platform image being verified, the source it came from, and user options.

    ``shared`` lets checks hand results to later checks in the same run (e.g. the SBOM to the
    vulnerability matcher) without recomputing them.
    """

    image: PlatformImage
    source: ImageSource
    options: dict[str, Any] = field(default_factory=dict)
    shared: dict[str, Any] = field(default_factory=dict)

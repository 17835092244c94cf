"""What a check gets to look at."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chainproof.oci.image import PlatformImage
    from chainproof.oci.sources.interface import ImageSource


@dataclass
class CheckContext:
    """One platform image being verified and the source it came from.

    A check's configuration is given to its constructor (built from the policy); ``shared``
    lets checks hand results to later checks in the same run (e.g. the SBOM to the
    vulnerability matcher) without recomputing them.
    """

    image: PlatformImage
    source: ImageSource
    shared: dict[str, Any] = field(default_factory=dict)

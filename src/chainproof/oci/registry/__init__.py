"""Registry access over the OCI distribution spec.

``RegistrySource(ref, options)`` is the :class:`~chainproof.oci.sources.interface.ImageSource`
for ``docker://`` and plain references; :class:`RegistryOptions` carries the user's TLS,
trust and credential choices. See docs/registry.md.
"""

from __future__ import annotations

from chainproof.oci.registry.client import RegistryClient
from chainproof.oci.registry.options import RegistryOptions
from chainproof.oci.registry.source import RegistrySource

__all__ = ["RegistryClient", "RegistryOptions", "RegistrySource"]

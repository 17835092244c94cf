"""Registry access over the OCI distribution spec.

``RegistrySource(ref, options)`` is the :class:`~chainproof.oci.sources.interface.ImageSource`
for ``docker://`` and plain references; :class:`RegistryOptions` carries the user's TLS,
trust and credential choices. See docs/registry.md.

The client (and httpx) load on first use, so commands that never touch a registry, and the
CLI's start-up, do not pay for them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chainproof.oci.registry.options import RegistryOptions

if TYPE_CHECKING:
    from chainproof.oci.registry.client import RegistryClient
    from chainproof.oci.registry.source import RegistrySource

__all__ = ["RegistryClient", "RegistryOptions", "RegistrySource"]


def __getattr__(name: str) -> Any:
    if name == "RegistryClient":
        from chainproof.oci.registry.client import RegistryClient

        return RegistryClient
    if name == "RegistrySource":
        from chainproof.oci.registry.source import RegistrySource

        return RegistrySource
    raise AttributeError(name)

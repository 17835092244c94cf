"""chainproof: supply-chain verification for container images, Windows images first-class."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]

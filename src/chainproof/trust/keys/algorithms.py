"""Key algorithm names ``chainproof keygen`` offers (kept import-light for the CLI parser)."""

from __future__ import annotations

ALGORITHMS = ("ecdsa-p256", "ed25519", "rsa-3072", "mldsa-65", "hybrid-ecdsa-p256-mldsa-65")
DEFAULT_ALGORITHM = "ecdsa-p256"

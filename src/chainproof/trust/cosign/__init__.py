"""cosign's tag schema: ``sha256-<hex>.sig`` signatures and ``.att`` attestations.

:mod:`~chainproof.trust.cosign.verify` verifies them (keys, hybrid PQ keys, keyless with
Fulcio/Rekor offline); :mod:`~chainproof.trust.cosign.sign` builds them, byte for byte as cosign.
"""

"""Sigstore bundles (v0.1-v0.3) attached as OCI referrers, verified offline.

:mod:`~chainproof.trust.sigstore.bundle` verifies a bundle (keyless or managed key);
:mod:`~chainproof.trust.sigstore.verifier` holds what bundles and cosign's keyless signatures
share (trusted root, identity policy, sigstore-python's verifier with chainproof's fixes);
:mod:`~chainproof.trust.sigstore.sign` writes key-signed v0.3 bundles.
"""

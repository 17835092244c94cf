"""Signatures and attestations: cosign, Sigstore bundles, Notation, DSSE / in-toto.

Formats implement :class:`chainproof.trust.interface.SignatureFormat`; keys are loaded by URI
through :mod:`chainproof.trust.keys`. Everything verifies offline from explicit trust inputs.
"""

"""Notary Project (Notation) signatures: envelopes, trust store, trust policy, certificates.

Reading order: :mod:`~chainproof.trust.notation.envelope` (JWS / COSE parsing),
:mod:`~chainproof.trust.notation.trustpolicy` and :mod:`~chainproof.trust.notation.truststore`
(what the user trusts), :mod:`~chainproof.trust.notation.certificates` (the Notary Project
certificate requirements, on ``cryptography.x509.verification``),
:mod:`~chainproof.trust.notation.timestamp` (RFC 3161 countersignatures),
:mod:`~chainproof.trust.notation.verify` (the validations at each verification level, and the
signature format), :mod:`~chainproof.trust.notation.sign` (``notation sign --key``).
"""

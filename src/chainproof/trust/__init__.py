"""Signatures and attestations: cosign, Sigstore bundles, Notation, DSSE / in-toto.

Everything verifies offline from explicit trust inputs. The rooms, each a sub-package:

=================  ===========================================================================
``cosign/``        cosign's ``.sig`` / ``.att`` tag schema: verify and sign
``sigstore/``      Sigstore bundles as referrers: verify (keyless, managed key) and sign
``notation/``      Notary Project signatures: envelopes, trust policy and store, certificates
``envelopes/``     DSSE (the one implementation) and in-toto Statements, used by the formats
``keys/``          public and private keys behind URIs: file, ``pkcs11:``, Transit, AWS KMS
``publishing/``    ``sign`` / ``attest``: build an attachment, write it beside the image
=================  ===========================================================================

Beside them: :mod:`~chainproof.trust.interface` (the :class:`SignatureFormat` extension point
and :class:`TrustInputs`), :mod:`~chainproof.trust.attachment` (what signing produces),
:mod:`~chainproof.trust.fips` (FIPS algorithm policy), :mod:`~chainproof.trust.check` (the
``signature.*`` / ``attestation.*`` checks) and the demo's signing part. Dependencies point
down that list's reverse: publishing → formats → envelopes, keys; nothing imports upward.
"""

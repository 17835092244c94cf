"""Keys behind URIs: public keys to verify with, private keys to sign with.

:mod:`~chainproof.trust.keys.model` (:class:`VerificationKey`, one verify for every algorithm),
:mod:`~chainproof.trust.keys.interface` (the :class:`KeyBackend` / :class:`Signer` extension
point), :mod:`~chainproof.trust.keys.registry` (URI scheme → backend: ``load_key``,
``load_signer``), the backends (:mod:`~chainproof.trust.keys.file`,
:mod:`~chainproof.trust.keys.pkcs11`, :mod:`~chainproof.trust.keys.vault`,
:mod:`~chainproof.trust.keys.awskms`), and :mod:`~chainproof.trust.keys.private` (keys in
memory, generation, cosign's encrypted key file). Kept import-light: ``keygen``'s parser imports
:mod:`~chainproof.trust.keys.algorithms`.
"""

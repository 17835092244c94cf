"""Sign or attest an IMAGE and write the result beside it (``chainproof sign`` / ``attest``).

:mod:`~chainproof.trust.publishing.publish` resolves the image and builds the attachment with
the format's signer; :mod:`~chainproof.trust.publishing.destination` writes it to an OCI layout
or a registry (tag schema or referrers, never a partial write);
:mod:`~chainproof.trust.publishing.overlay` adds attachments to a source in memory (the demo).
"""

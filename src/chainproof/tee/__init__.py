"""Confidential-computing attestation evidence, verified offline.

Three evidence formats, one result type (:class:`~chainproof.tee.result.AttestationResult`):

- AMD SEV-SNP attestation reports (:mod:`chainproof.tee.snp`): the report's ECDSA P-384
  signature, the VCEK/VLEK → ASK → ARK chain up to the AMD roots shipped in ``data/amd``,
  the TCB in the certificate against the report, and the guest policy.
- Microsoft Azure Attestation tokens (:mod:`chainproof.tee.maa`): the JWT signature against
  a JWKS or a pinned certificate, issuer, lifetime, and the SEV-SNP claims inside.
- Intel TDX quotes (:mod:`chainproof.tee.tdx`): through Phala's ``dcap-qvl``.

:mod:`chainproof.tee.binding` defines how a workload's evidence carries the digest of the
chainproof policy and of the images it admitted (see ``docs/tee.md``).

Expected verification failures are results (``verified = False``); input that cannot be
parsed or is refused outright raises a :class:`chainproof.errors.InputError`.
"""

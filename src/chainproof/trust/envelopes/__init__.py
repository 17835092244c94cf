"""Signed-statement envelopes shared by the formats: DSSE and in-toto Statements.

:mod:`~chainproof.trust.envelopes.dsse` is chainproof's one DSSE implementation (PAE, parsing,
signing, verification); :mod:`~chainproof.trust.envelopes.intoto` parses and builds in-toto
Statements.
"""

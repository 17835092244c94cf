"""The policy engine: one ``chainproof.policy/v1`` file decides "may this image run here?".

:class:`Policy` loads and compiles a policy; :meth:`Policy.requirements_for` says what it
requires of an image reference (the configuration of every check), and
:func:`chainproof.policy.evaluate.evaluate` judges what the checks found. The command line's
flags build an implicit policy (:func:`command_line_policy`) through the same model, so there is
one way checks are configured. ``docs/policy.md`` documents every key.
"""

from __future__ import annotations

import functools

from chainproof.policy.document import PolicyError
from chainproof.policy.model import SCHEMA_ID, PolicyDocument
from chainproof.policy.policy import Policy
from chainproof.policy.requirements import ImageFacts, Requirements

__all__ = [
    "SCHEMA_ID",
    "ImageFacts",
    "Policy",
    "PolicyDocument",
    "PolicyError",
    "Requirements",
    "default_policy",
]


@functools.cache
def default_policy() -> Policy:
    """No trust inputs, default thresholds: what ``chainproof verify IMAGE`` alone checks."""
    from chainproof.policy.flags import command_line_policy

    return command_line_policy()

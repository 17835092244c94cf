"""MSRC remediation SubTypes: which ones decide a fix for a container image.

A CVRF ``Remediation`` of Type *Vendor Fix* names its kind of update in ``SubType``. Container
images are serviced by replacing the base image with the month's cumulative update; they never
receive hotpatches (Azure Edition / Arc hotpatch enrolment), and the Windows 7/8.1-era
"Security Only" and "Monthly Rollup" packages do not exist for the container releases.
So only :data:`DECIDING` rows decide whether an image is fixed; every row is stored and shown
by ``chainproof db query``. The audit of every SubType seen in the monthly documents since
January 2021 (and how each is treated) is the table in docs/vulnerabilities.md.
"""

from __future__ import annotations

#: The one SubType whose FixedBuild decides for container images.
DECIDING = "Security Update"
#: Marks rows imported before the SubType was stored (schema 1): they still decide, as they did,
#: and the findings say to re-import.
NOT_RECORDED = "(not recorded)"

#: Spellings MSRC has used for hotpatch rows (2022-Feb … 2026), compared case-folded and
#: without spaces.
_HOTPATCH_KEYS = frozenset({"securityhotpatchupdate", "azurehotpatch", "hotpatch"})


def _key(subtype: str) -> str:
    return "".join(subtype.split()).casefold()


def is_hotpatch(subtype: str) -> bool:
    return _key(subtype) in _HOTPATCH_KEYS


def decides(subtype: str) -> bool:
    """Whether a row with this SubType decides a fix for a container image.

    ``""`` is what documents older than 2017 (no SubType at all) give: those rows are the
    cumulative updates of their time and decide, like :data:`NOT_RECORDED` rows.
    """
    return subtype in (DECIDING, NOT_RECORDED, "")


def role(subtype: str) -> str:
    """A short label for ``db query``: why a row decides or not."""
    if subtype == NOT_RECORDED:
        return "decides (SubType not recorded: re-import)"
    if decides(subtype):
        return "decides"
    if is_hotpatch(subtype):
        return "hotpatch: not for container images"
    return f"{subtype}: not for container images"

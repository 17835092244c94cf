"""Windows builds: from an image's ``os.version`` to the MSRC product names that describe it.

MSRC names a Windows product by release and installation type: "Windows Server 2022" (full
Server, Desktop Experience) and "Windows Server 2022 (Server Core installation)". Container
images are Server Core (``servercore``), Nano Server (``nanoserver``) or full Server
(``server``/``windows``). MSRC publishes no Nano Server product for any release that still
ships containers, and Nano Server images are serviced by the same cumulative update as Server
Core of the same build, so Nano Server is matched as Server Core (a superset of Nano's
components: this may over-report a CVE in a component Nano Server does not carry).
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from chainproof.errors import MalformedError


class Installation(enum.StrEnum):
    SERVER_CORE = "Server Core"
    NANO_SERVER = "Nano Server"
    SERVER = "Server"


#: Build number → MSRC release name (server SKUs that have container base images).
RELEASES: dict[int, str] = {
    14393: "Windows Server 2016",
    16299: "Windows Server, version 1709",
    17134: "Windows Server, version 1803",
    17763: "Windows Server 2019",
    18362: "Windows Server, version 1903",
    18363: "Windows Server, version 1909",
    19041: "Windows Server, version 2004",
    19042: "Windows Server, version 20H2",
    20348: "Windows Server 2022",
    25398: "Windows Server 2022, 23H2 Edition",
    26100: "Windows Server 2025",
}

#: Releases MSRC lists only as Server Core (semi-annual channel and 23H2 had no full Server).
_CORE_ONLY = {16299, 17134, 18362, 18363, 19041, 19042, 25398}

_VERSION_RE = re.compile(r"^(?:10\.0\.)?(\d{4,6})(?:\.(\d{1,7}))?$")
#: MSRC has published ``10.0.20348..2762`` (October 2024, every Server 2022 row): the doubled
#: dot is read as one, since build and UBR are unambiguous.
_FIXED_BUILD_RE = re.compile(r"^10\.0\.(\d{4,6})\.{1,2}(\d{1,7})$")


@dataclass(frozen=True, order=True)
class WindowsBuild:
    """``(build, ubr)``; ordering is the servicing order within one release."""

    build: int
    ubr: int

    def __str__(self) -> str:
        return f"10.0.{self.build}.{self.ubr}"


def parse_os_version(text: str) -> WindowsBuild:
    """Parse ``10.0.20348.2227`` (or ``20348.2227``) as in an image config's ``os.version``."""
    match = _VERSION_RE.match(text.strip())
    if not match:
        raise MalformedError(f"not a Windows build number: {text!r} (expected 10.0.BUILD.UBR)")
    return WindowsBuild(int(match.group(1)), int(match.group(2) or 0))


def parse_fixed_build(text: str) -> WindowsBuild | None:
    """An MSRC ``FixedBuild`` of a Windows product, or None for other products' versions."""
    match = _FIXED_BUILD_RE.match(text.strip())
    if not match:
        return None
    return WindowsBuild(int(match.group(1)), int(match.group(2)))


def product_key(name: str) -> str:
    """How product names are compared: case-folded, runs of white space as one space.

    Until May 2022 MSRC spelled "Windows Server 2016  (Server Core installation)" and the
    2019 one with two spaces (same ProductID as the one-space spelling used since).
    """
    return " ".join(name.split()).casefold()


def normalize_installation(text: str) -> Installation | None:
    """Map the spellings found in SBOMs, registry values and image names to an installation."""
    key = re.sub(r"[^a-z]", "", text.lower())
    if key in {"servercore", "core", "servercoreinstallation"}:
        return Installation.SERVER_CORE
    if key in {"nanoserver", "nano"}:
        return Installation.NANO_SERVER
    if key in {"server", "windows", "full", "serverfull", "desktopexperience"}:
        return Installation.SERVER
    return None


def product_names(build: int, installation: Installation) -> tuple[str, ...]:
    """MSRC product names to look up for this build and installation (empty if unknown)."""
    release = RELEASES.get(build)
    if release is None:
        return ()
    core = f"{release} (Server Core installation)"
    if installation is Installation.SERVER and build not in _CORE_ONLY:
        return (release,)
    return (core,)


def release_name(build: int) -> str:
    return RELEASES.get(build, "")

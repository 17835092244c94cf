""".NET Framework 4.x on Windows Server: MSRC product rows and the image's patch level.

MSRC names these products "Microsoft .NET Framework 4.8 on Windows Server 2022 (Server Core
installation)", "... 3.5 AND 4.8.1 on ...", "... 4.6.2/4.7/4.7.1/4.7.2 on Windows Server
2016", and writes their ``FixedBuild`` inconsistently: ``4.8.4465.0``, ``4.8.04690.02``,
``3.5.04556.03`` and ``10.0.04614.06`` (all the 4.8 build of the cumulative update),
``4.8.1.9256.03``, a bare ``04590.02``, or an OS build ``10.0.14393.6614`` where the
framework is serviced by the OS cumulative update (4.6.2-4.7.2 on Server 2016). What is
comparable is the framework build — the third part of the files' version (``mscorlib.dll``
``4.8.4690.0``) and of the update package (``Package_for_DotNetRollup~…~10.0.4690.2``) —
within one servicing line (4.6.2-4.7.2, 4.8, 4.8.1: .NET Framework 4.x is an in-place
upgrade, so an image has exactly one).

The image's line comes from ``NDP\\v4\\Full`` ``Release``; its level is the highest build the
image evidences: the NDP ``Version`` (the line's release build), the installed
``Package_for_DotNetRollup*`` packages in CBS, and the file versions of ``mscorlib.dll``,
``System.dll`` and ``clr.dll``. docs/vulnerabilities.md has the rule and its limits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from chainproof.vuln.windows import RELEASES, parse_fixed_build, product_key

LINE_47 = "4.6.2-4.7.2"
LINE_48 = "4.8"
LINE_481 = "4.8.1"

#: Framework builds each line's updates have used (4.7.2 … 4081, 4.8 3761 … 4xxx,
#: 4.8.1 9032 … 9xxx). A number outside is not a build of that line.
_BUILD_RANGE = {LINE_47: (2000, 4999), LINE_48: (3000, 8999), LINE_481: (9000, 9999)}
#: File (and NDP ``Version``) major.minor of each line's binaries.
_FILE_MINOR = {LINE_47: (6, 7), LINE_48: (8,), LINE_481: (8,)}
#: ``NDP\v4\Full`` ``Release`` thresholds (Microsoft's documented table).
_RELEASE_LINES = ((533320, LINE_481), (528040, LINE_48), (394802, LINE_47))

_PRODUCT_RE = re.compile(r"^Microsoft \.NET Framework (?P<versions>.+?) on (?P<os>Windows .+)$")
_CORE_SUFFIX = " (server core installation)"
_ROLLUP_RE = re.compile(r"^DotNetRollup(?:_(?P<line>\d+))?$", re.IGNORECASE)
_ROLLUP_LINES = {"481": LINE_481, "48": LINE_48, "47": LINE_47, "472": LINE_47}


@dataclass(frozen=True)
class FrameworkProduct:
    line: str
    os_product: str  # "Windows Server 2022 (Server Core installation)"
    os_build: int


@dataclass(frozen=True)
class FrameworkFix:
    """``framework_build`` set: the line's build; else ``os_build``/``os_ubr`` of the OS CU."""

    framework_build: int | None
    os_build: int | None = None
    os_ubr: int | None = None


def line_of(versions_text: str) -> str:
    versions = {v.strip() for v in re.split(r"/| AND ", versions_text) if v.strip()}
    if "4.8.1" in versions:
        return LINE_481
    if "4.8" in versions:
        return LINE_48
    if versions & {"4.6.2", "4.7", "4.7.1", "4.7.2"}:
        return LINE_47
    return ""


def parse_product(name: str) -> FrameworkProduct | None:
    """The line and OS product of a .NET Framework product name; None for other products,
    lines older than 4.6.2 (3.5 alone, 4.5.2, 4.6) and OS releases without container images."""
    match = _PRODUCT_RE.match(" ".join(name.split()))
    if match is None:
        return None
    line = line_of(match.group("versions"))
    if not line:
        return None
    os_key = product_key(match.group("os"))
    core = os_key.endswith(_CORE_SUFFIX)
    release_key = os_key.removesuffix(_CORE_SUFFIX)
    for build, release in RELEASES.items():
        if product_key(release) == release_key:
            os_product = f"{release} (Server Core installation)" if core else release
            return FrameworkProduct(line, os_product, build)
    return None


def parse_fix(fixed_build: str, product: FrameworkProduct) -> FrameworkFix | str:
    """The comparable fix of a row, or why it has none (a line the text does not fit)."""
    windows = parse_fixed_build(fixed_build)
    if windows is not None and windows.build >= 10000:
        if windows.build != product.os_build:
            return (
                f"FixedBuild {fixed_build} names Windows build {windows.build}, not the "
                f"{product.os_build} of {product.os_product}"
            )
        return FrameworkFix(None, windows.build, windows.ubr)
    low, high = _BUILD_RANGE[product.line]
    for number in re.findall(r"\d+", fixed_build):
        if low <= int(number) <= high:
            return FrameworkFix(int(number))
    return f"FixedBuild {fixed_build!r} is not a .NET Framework {product.line} build"


def line_for_release(release: int) -> str:
    for minimum, line in _RELEASE_LINES:
        if release >= minimum:
            return line
    return ""


def _in_range(line: str, build: int) -> bool:
    low, high = _BUILD_RANGE[line]
    return low <= build <= high


def version_build(line: str, version: str) -> int | None:
    """The framework build of a file or NDP version (``4.8.4690.0 built by: …``,
    ``4.8.04161``) when it belongs to ``line``, else None."""
    match = re.match(r"^\s*4\.(\d+)\.(\d+)", version)
    if match is None:
        return None
    minor, build = int(match.group(1)), int(match.group(2))
    if minor not in _FILE_MINOR[line] or not _in_range(line, build):
        return None
    return build


def rollup_build(line: str, name: str, version: str) -> int | None:
    """The framework build of an installed ``Package_for_DotNetRollup[_NNN]`` CBS package
    (version ``10.0.<build>.<revision>``) when it can belong to ``line``."""
    match = _ROLLUP_RE.match(name)
    if match is None:
        return None
    suffix = match.group("line")
    if suffix is not None and _ROLLUP_LINES.get(suffix) != line:
        return None
    parts = version.split(".")
    if len(parts) < 3 or not parts[2].isdigit() or not _in_range(line, int(parts[2])):
        return None
    return int(parts[2])


@dataclass(frozen=True)
class FrameworkLevel:
    """Where an image's .NET Framework stands: its line and the highest build evidenced."""

    line: str
    build: int
    evidence: tuple[str, ...]
    notes: tuple[str, ...] = ()

    @property
    def version(self) -> str:
        return f"4.8.{self.build}" if self.line != LINE_47 else f"4.7.{self.build}"


def image_level(
    release: int,
    ndp_version: str,
    rollups: list[tuple[str, str]],
    files: list[tuple[str, str]],
) -> FrameworkLevel | None:
    """The level from the image's evidence: ``rollups`` are (CBS package short name,
    version), ``files`` (evidence path, FileVersion). None when ``release`` is older than
    the 4.6.2 line."""
    line = line_for_release(release)
    if not line:
        return None
    evidence = [f"NDP Release {release} ({line})"]
    candidates: list[int] = []
    floor = version_build(line, ndp_version)
    if floor is not None:
        candidates.append(floor)
        evidence.append(f"NDP Version {ndp_version}")
    package_builds = []
    for name, version in rollups:
        build = rollup_build(line, name, version)
        if build is not None:
            package_builds.append(build)
            evidence.append(f"CBS Package_for_{name} {version}")
    file_builds = []
    ignored = []
    for path, file_version in files:
        build = version_build(line, file_version)
        if build is None:
            ignored.append(f"{path} {file_version.split(' ', 1)[0]}")
            continue
        file_builds.append(build)
        evidence.append(f"{path} {file_version.split(' ', 1)[0]}")
    notes = []
    if ignored:
        notes.append(f"not .NET Framework {line} files, ignored: {', '.join(ignored)}")
    if package_builds and file_builds and max(file_builds) > max(package_builds):
        notes.append(
            f"file versions (build {max(file_builds)}) are newer than every installed .NET "
            f"Framework update package (build {max(package_builds)})"
        )
    candidates += package_builds + file_builds
    if not candidates:
        notes.append(
            f"no build evidence for .NET Framework {line}: every fix of the line is reported"
        )
    return FrameworkLevel(line, max(candidates, default=0), tuple(evidence), tuple(notes))

"""A readable table of an SBOM (the CLI's ``--format table``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chainproof.sbom.model import ComponentType

if TYPE_CHECKING:
    from chainproof.sbom.model import Component, Sbom

_W = "chainproof:windows:"


def os_summary(component: Component) -> str:
    """One line: product, release, build, KB, edition (Windows) or distro (Linux)."""
    if component.ecosystem != "windows":
        return f"{component.supplier or component.name} {component.version}".strip()
    parts = [component.name]
    release = component.property(f"{_W}release")
    if release:
        parts.append(f"({release})")
    parts.append(component.version or "(unknown build)")
    kb = component.property(f"{_W}cumulative-update")
    if kb:
        parts.append(f"cumulative update {kb}")
    missing = component.property(f"{_W}missing-updates")
    if missing and missing != "0":
        latest = component.property(f"{_W}latest-update") or ""
        parts.append(f"{missing} newer updates (latest {latest})")
    details = [
        v
        for v in (component.property(f"{_W}installation-type"), component.property(f"{_W}edition"))
        if v
    ]
    if details:
        parts.append("[" + ", ".join(details) + "]")
    return " ".join(parts)


def render_table(sbom: Sbom, *, include_removed: bool = True) -> str:
    subject = sbom.subject
    lines = [f"image:    {subject.reference}", f"digest:   {subject.digest}"]
    lines.append(f"platform: {subject.platform}")
    system = sbom.operating_system
    if system is not None:
        lines.append(f"os:       {os_summary(system)}")
        for warning in system.warnings:
            lines.append(f"          ! {warning}")
    rows = [("ECOSYSTEM", "NAME", "VERSION", "LAYER", "STATUS")]
    for c in sbom.components:
        if c.type == ComponentType.OPERATING_SYSTEM:
            continue
        if not include_removed and not c.present:
            continue
        status = f"removed by layer {c.removed_by}" if c.removed_by is not None else "present"
        if c.warnings:
            status += " (!)"
        rows.append(
            (
                c.ecosystem,
                c.name,
                c.version or "-",
                "-" if c.layer is None else str(c.layer),
                status,
            )
        )
    widths = [min(max(len(r[i]) for r in rows), 60) for i in range(5)]
    lines.append("")
    for row in rows:
        cells = [
            (cell if len(cell) <= widths[i] else cell[: widths[i] - 1] + "…").ljust(widths[i])
            for i, cell in enumerate(row)
        ]
        lines.append("  ".join(cells).rstrip())
    lines.append("")
    lines.append(f"{len(rows) - 1} components ({len(sbom.present())} present incl. OS)")
    for warning in sbom.warnings:
        lines.append(f"warning: {warning}")
    return "\n".join(lines) + "\n"

"""Generate SBOMs: pick the catalogers for an image, run one layer pass, assemble."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chainproof.layers.scan import scan_image
from chainproof.oci.open import OpenOptions, open_target
from chainproof.sbom.builder import SbomBuilder, assemble

if TYPE_CHECKING:
    from chainproof.layers.scan import Progress
    from chainproof.oci.image import PlatformImage
    from chainproof.oci.sources.interface import ImageSource
    from chainproof.sbom.interface import Cataloger
    from chainproof.sbom.model import Sbom


def default_catalogers(*, windows: bool) -> list[Cataloger]:
    """One cataloger per ecosystem; Windows-only ones only for Windows images."""
    from chainproof.sbom.catalogers import dotnet, linux, nuget, powershell
    from chainproof.sbom.catalogers.golang import GoBinaryCataloger
    from chainproof.sbom.catalogers.pe import PeVersionCataloger
    from chainproof.sbom.catalogers.windows_registry import WindowsRegistryCataloger

    common: list[Cataloger] = [
        dotnet.DepsJsonCataloger(),
        dotnet.RuntimeConfigCataloger(),
        dotnet.SharedRuntimeCataloger(),
        nuget.NuspecCataloger(),
        nuget.PackagesConfigCataloger(),
        nuget.PackagesLockCataloger(),
        powershell.PowerShellModuleCataloger(),
        linux.PythonCataloger(),
        linux.NpmCataloger(),
        linux.JavaArchiveCataloger(),
        GoBinaryCataloger(),
    ]
    if windows:
        return [WindowsRegistryCataloger(), PeVersionCataloger(), *common]
    return [
        linux.OsReleaseCataloger(),
        linux.DpkgCataloger(),
        linux.ApkCataloger(),
        linux.RpmDatabaseCataloger(),
        *common,
    ]


def builder_for(image: PlatformImage) -> SbomBuilder:
    windows = image.platform.os.lower() == "windows"
    return SbomBuilder(default_catalogers(windows=windows), windows=windows)


def sbom_for_image(
    source: ImageSource, image: PlatformImage, reference: str, progress: Progress | None = None
) -> Sbom:
    builder = builder_for(image)
    reports = scan_image(source, image, consumers=[builder], progress=progress)
    return assemble(builder, image, reference, reports)


def generate(
    reference: str, options: OpenOptions | None = None, progress: Progress | None = None
) -> list[Sbom]:
    """An SBOM per selected platform image of ``reference`` (one layer pass each)."""
    source, target = open_target(reference, options or OpenOptions())
    with source:
        return [
            sbom_for_image(source, image, target.reference, progress) for image in target.images
        ]

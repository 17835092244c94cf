"""The .NET and NuGet catalogers against the real manifests in ../shared/fixtures."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from chainproof.sbom.catalogers.dotnet import (
    DepsJsonCataloger,
    RuntimeConfigCataloger,
    SharedRuntimeCataloger,
)
from chainproof.sbom.catalogers.nuget import (
    NuspecCataloger,
    PackagesConfigCataloger,
    PackagesLockCataloger,
)
from tests.sbom.helpers import run_files

if TYPE_CHECKING:
    from pathlib import Path

    from chainproof.sbom.model import Component

DOTNET = "windows/dotnet"


def deps(shared: Path, name: str) -> list[Component]:
    data = (shared / DOTNET / name).read_bytes()
    components, warnings = run_files(
        DepsJsonCataloger(), [(f"app/{name.rsplit('/', 1)[-1]}", data)]
    )
    assert warnings == []
    return components


def versions(components: list[Component]) -> dict[str, str]:
    return {c.name: c.version for c in components}


def test_pwsh_deps(shared_fixtures: Path) -> None:
    components = deps(shared_fixtures, "pwsh.deps.json")
    kinds = Counter(c.property("chainproof:dotnet:library-type") for c in components)
    assert kinds == {"package": 39, "runtimepack": 2, "project": 1}  # the app; 12 parts skipped
    found = versions(components)
    assert found["Newtonsoft.Json"] == "13.0.4"
    assert found["Markdig.Signed"] == "1.1.2"
    assert found["Humanizer.Core"] == "2.14.1"
    assert found["Microsoft.ApplicationInsights"] == "2.23.0"
    assert found["Microsoft.NETCore.App.Runtime.win-x64"] == "11.0.0-preview.3.26207.106"
    assert "Microsoft.WindowsDesktop.App.Runtime.win-x64" in found
    app = next(c for c in components if c.ecosystem == "dotnet")
    assert (app.name, app.version) == ("pwsh", "7.6.0-preview.5")
    newtonsoft = next(c for c in components if c.name == "Newtonsoft.Json")
    assert newtonsoft.purl == "pkg:nuget/Newtonsoft.Json@13.0.4"
    assert newtonsoft.evidence == ("C:\\app\\pwsh.deps.json",)
    assert (
        newtonsoft.property("chainproof:dotnet:runtime-target")
        == ".NETCoreApp,Version=v11.0/win7-x64"
    )


def test_trivy_and_syft_deps(shared_fixtures: Path) -> None:
    datacollector = deps(shared_fixtures, "trivy/datacollector.deps.json")
    assert [(c.name, c.version) for c in datacollector if c.ecosystem == "nuget"] == [
        ("Newtonsoft.Json", "9.0.1")
    ]
    assert versions(deps(shared_fixtures, "trivy/happy.deps.json"))["Newtonsoft.Json"] == "13.0.1"
    contained = versions(deps(shared_fixtures, "trivy/self-contained.deps.json"))
    assert contained["Newtonsoft.Json"] == "13.0.1"
    assert contained["Microsoft.NETCore.App.Runtime.linux-x64"] == "8.0.0"
    assert contained["Microsoft.AspNetCore.App.Runtime.linux-x64"] == "8.0.0"
    myapp = deps(shared_fixtures, "syft/MyApp.deps.json")
    assert versions(myapp)["Newtonsoft.Json"] == "13.0.3"
    assert not any("DataProtection" in c.name for c in myapp)  # reference assemblies skipped
    library = [
        c for c in deps(shared_fixtures, "syft/TestLibrary.deps.json") if c.ecosystem == "nuget"
    ]
    assert len(library) == 12
    assert versions(library)["AWSSDK.Core"] == "3.7.10.6"
    assert versions(library)["Serilog"] == "2.10.0"
    single = deps(shared_fixtures, "syft/net8-app-single-file.deps.json")
    packages = [c for c in single if c.property("chainproof:dotnet:library-type") == "package"]
    packs = [c for c in single if c.property("chainproof:dotnet:library-type") == "runtimepack"]
    assert len(packages) == 51
    assert packs and all(p.version == "8.0.14" for p in packs)


def test_runtimeconfig(shared_fixtures: Path) -> None:
    data = (shared_fixtures / DOTNET / "pwsh.runtimeconfig.json").read_bytes()
    components, _ = run_files(RuntimeConfigCataloger(), [("app/pwsh.runtimeconfig.json", data)])
    assert sorted((c.name, c.version) for c in components) == [
        ("Microsoft.NETCore.App", "11.0.0-preview.3.26207.106"),
        ("Microsoft.WindowsDesktop.App", "11.0.0-preview.3.26207.106"),
    ]
    assert all(c.property("chainproof:dotnet:tfm") == "net11.0" for c in components)


def test_nuget_files(shared_fixtures: Path) -> None:
    nuget = shared_fixtures / DOTNET / "nuget"
    config, _ = run_files(
        PackagesConfigCataloger(),
        [("app/packages.config", (nuget / "packages.config").read_bytes())],
    )
    assert sorted((c.name, c.version) for c in config) == [
        ("Microsoft.AspNet.WebApi", "5.2.2"),
        ("Newtonsoft.Json", "6.0.4"),
    ]
    assert all(c.property("chainproof:nuget:target-framework") == "net45" for c in config)
    lock, _ = run_files(
        PackagesLockCataloger(),
        [("app/packages.lock.json", (nuget / "packages.lock.json").read_bytes())],
    )
    assert sorted((c.name, c.version) for c in lock) == [
        ("Newtonsoft.Json", "12.0.3"),
        ("NuGet.Frameworks", "5.7.0"),
    ]
    assert all(
        c.property("chainproof:nuget:target-framework") == ".NETCoreApp,Version=v5.0" for c in lock
    )


def test_nuspec_licences(shared_fixtures: Path) -> None:
    nuget = shared_fixtures / DOTNET / "nuget"
    files = [
        (f"Users/u/.nuget/packages/x/{name}", (nuget / name).read_bytes())
        for name in (
            "newtonsoft.json.12.0.3.nuspec",
            "newtonsoft.json.6.0.4.nuspec",
            "nuget.frameworks.5.7.0.nuspec",
        )
    ]
    components, warnings = run_files(NuspecCataloger(), files)
    assert warnings == []
    by = {(c.name, c.version): c for c in components}
    assert by[("Newtonsoft.Json", "12.0.3")].licenses == ("MIT",)
    old = by[("Newtonsoft.Json", "6.0.4")]
    assert old.licenses == () and old.property("chainproof:nuget:license-url")
    frameworks = by[("NuGet.Frameworks", "5.7.0")]  # build metadata stripped
    assert frameworks.property("chainproof:nuget:license-file") == "LICENSE.txt"
    assert frameworks.purl == "pkg:nuget/NuGet.Frameworks@5.7.0"


def test_bad_dotnet_input_is_a_warning(shared_fixtures: Path) -> None:
    data = (shared_fixtures / DOTNET / "pwsh.deps.json").read_bytes()
    components, warnings = run_files(
        DepsJsonCataloger(),
        [
            ("app/truncated.deps.json", data[: len(data) // 2]),
            ("app/ok.deps.json", b'{"libraries": {"A/1.0": {"type": "package"}}}'),
        ],
    )
    assert [(c.name, c.version) for c in components] == [("A", "1.0")]
    assert len(warnings) == 1 and "truncated.deps.json" in warnings[0]
    _, warnings = run_files(
        NuspecCataloger(),
        [("x.nuspec", b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><package/>')],
    )
    assert "DTD" in warnings[0]


def test_shared_runtimes_without_reading() -> None:
    cataloger = SharedRuntimeCataloger()
    files = [
        ("Program Files/dotnet/shared/Microsoft.NETCore.App/8.0.1/System.Runtime.dll", b""),
        ("Program Files/dotnet/shared/Microsoft.NETCore.App/8.0.1/coreclr.dll", b""),
        ("Program Files/dotnet/shared/Microsoft.AspNetCore.App/8.0.1/x.dll", b""),
    ]
    components, _ = run_files(cataloger, files, one_layer=True)
    assert sorted((c.name, c.version) for c in components) == [
        ("Microsoft.AspNetCore.App", "8.0.1"),
        ("Microsoft.NETCore.App", "8.0.1"),
    ]


def _not_installed(components: list[Component]) -> dict[str, str]:
    return {
        c.name: c.property("chainproof:dotnet:not-installed-reason") or ""
        for c in components
        if c.property("chainproof:installed") == "false"
    }


def test_deps_json_marks_what_a_running_app_does_not_load(shared_fixtures: Path) -> None:
    from chainproof.layers.walker import EntryKind, LayerEntry, View

    data = (shared_fixtures / DOTNET / "pwsh.deps.json").read_bytes()
    # Without the runtime packs' files beside it (a deps.json copied on its own):
    alone, _ = run_files(DepsJsonCataloger(), [("app/pwsh.deps.json", data)])
    marked = _not_installed(alone)
    # The three libraries whose target entry lists no runtime, native or resource assets.
    compile_only = {
        "Microsoft.Management.Infrastructure",
        "Microsoft.Windows.Compatibility",
        "runtime.native.System.Data.SqlClient.sni",
    }
    packs = {
        "Microsoft.NETCore.App.Runtime.win-x64",
        "Microsoft.WindowsDesktop.App.Runtime.win-x64",
    }
    assert set(marked) == compile_only | packs
    assert marked["Microsoft.NETCore.App.Runtime.win-x64"].endswith(
        "no System.Private.CoreLib.dll beside the deps.json"
    )
    assert "Newtonsoft.Json" not in marked

    # With the NETCore pack's marker file in the same directory (seen by the layer pass).
    cataloger = DepsJsonCataloger()
    for path in ("app/System.Private.CoreLib.dll", "elsewhere/PresentationFramework.dll"):
        entry = LayerEntry(path, View.FILES, EntryKind.FILE, 1, 0o644, "", path)
        assert cataloger.wants(entry) is False  # remembered, never read
    shipped, _ = run_files(cataloger, [("app/pwsh.deps.json", data)])
    assert set(_not_installed(shipped)) == compile_only | {
        "Microsoft.WindowsDesktop.App.Runtime.win-x64"
    }
    assert not [c for c in shipped if c.property("chainproof:dotnet:pack-marker")]

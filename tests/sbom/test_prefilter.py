"""The builder's suffix prefilter never hides an entry a cataloger wants."""

from __future__ import annotations

import pytest

from chainproof.layers.walker import EntryKind, LayerEntry, View
from chainproof.sbom.builder import SbomBuilder
from chainproof.sbom.catalog import default_catalogers

# Every place a cataloger looks, in both cases where Windows paths are case-insensitive.
_WANTED = [
    (View.FILES, "app/App.deps.json"),
    (View.FILES, "app/App.runtimeconfig.json"),
    (View.FILES, "Program Files/dotnet/shared/Microsoft.NETCore.App/8.0.1/System.dll"),
    (View.FILES, "Users/u/.nuget/packages/a/1.0.0/A.NUSPEC"),
    (View.FILES, "src/Packages.Config"),
    (View.FILES, "src/packages.lock.json"),
    (View.FILES, "Program Files/WindowsPowerShell/Modules/Pester/5.5.0/Pester.psd1"),
    (View.FILES, "Program Files/App/App.EXE"),
    (View.FILES, "Windows/System32/ntdll.dll"),
    (View.FILES, "Windows/System32/config/SOFTWARE"),
    (View.HIVES, "SOFTWARE_BASE"),
    (View.HIVES, "Software_Delta"),
    (View.ROOT, "etc/os-release"),
    (View.ROOT, "usr/lib/os-release"),
    (View.ROOT, "var/lib/dpkg/status"),
    (View.ROOT, "var/lib/dpkg/status.d/libc6"),
    (View.ROOT, "lib/apk/db/installed"),
    (View.ROOT, "var/lib/rpm/rpmdb.sqlite"),
    (View.ROOT, "var/lib/rpm/Packages"),
    (View.ROOT, "usr/lib/sysimage/rpm/Packages.db"),
    (View.ROOT, "usr/lib/python3/site-packages/x-1.0.dist-info/METADATA"),
    (View.ROOT, "usr/lib/python3/site-packages/x-1.0.egg-info/PKG-INFO"),
    (View.ROOT, "usr/lib/python3/site-packages/x-1.0.egg-info"),
    (View.ROOT, "app/node_modules/@scope/x/package.json"),
    (View.ROOT, "opt/app/lib/x.JAR"),
    (View.ROOT, "usr/local/bin/tool"),  # executable, big enough: the Go cataloger reads it
]


def _entry(view: View, path: str) -> LayerEntry:
    return LayerEntry(path, view, EntryKind.FILE, 1 << 20, 0o755, "", path)


@pytest.mark.parametrize(("view", "path"), _WANTED)
def test_prefilter_keeps_every_wanted_entry(view: View, path: str) -> None:
    windows = view != View.ROOT
    catalogers = default_catalogers(windows=windows)
    entry = _entry(view, path)
    wanting = [c.name for c in catalogers if c.wants(entry)]
    assert wanting, f"no cataloger wants {path} (the list above is out of date)"
    for cataloger in catalogers:
        if cataloger.wants(entry) and cataloger.path_suffixes is not None:
            assert path.casefold().endswith(cataloger.path_suffixes), cataloger.name
    builder = SbomBuilder(catalogers, windows=windows)
    assert builder.wants(entry)
    assert builder._pending is not None
    assert [c.name for c in builder._pending[1]] == wanting


def test_prefilter_skips_uninteresting_entries() -> None:
    builder = SbomBuilder(default_catalogers(windows=True), windows=True)
    asked: list[str] = []
    for cataloger in builder.catalogers:
        original = cataloger.wants

        def spy(entry: LayerEntry, name: str = cataloger.name, wants=original) -> bool:  # type: ignore[no-untyped-def]
            asked.append(name)
            return bool(wants(entry))

        cataloger.wants = spy  # type: ignore[method-assign]
    assert not builder.wants(_entry(View.FILES, "Windows/WinSxS/x/f1.bin"))
    # Only the catalogers without a suffix (shared runtimes, Go binaries) were asked.
    assert sorted(asked) == ["dotnet-shared-runtime", "go-binary"]

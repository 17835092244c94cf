"""Options shared by every command that takes an IMAGE, and output helpers."""

from __future__ import annotations

import argparse
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from chainproof.cli.options import add_registry_options, registry_options_from_args
from chainproof.errors import InputError

if TYPE_CHECKING:
    from collections.abc import Iterator

    from chainproof.layers.cache import LayerCache
    from chainproof.layers.scan import Progress
    from chainproof.oci.open import OpenOptions


def add_image_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--platform",
        default="",
        metavar="OS/ARCH[/VARIANT][:OS.VERSION]",
        help="platform to select from an index (e.g. windows/amd64:10.0.20348)",
    )
    parser.add_argument(
        "--all-platforms", action="store_true", help="verify every platform of an index"
    )
    add_registry_options(parser)
    add_layer_cache_options(parser)


def add_layer_cache_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("verified-layer cache")
    group.add_argument(
        "--layer-cache",
        metavar="DIR",
        type=Path,
        help="reuse layers verified earlier from this cache (default: the user cache dir)",
    )
    group.add_argument(
        "--layer-cache-key",
        metavar="FILE",
        type=Path,
        help="HMAC key that authenticates cache entries (default: layer-cache.key in the "
        "user config dir, created on first use; share it only with those you trust)",
    )
    group.add_argument(
        "--no-layer-cache",
        action="store_true",
        help="stream and verify every layer, and record nothing",
    )


def layer_cache_from_args(args: argparse.Namespace) -> LayerCache | None:
    """The cache the options ask for; the default one only if it opens cleanly."""
    if getattr(args, "no_layer_cache", False):
        return None
    directory = getattr(args, "layer_cache", None)
    key_file = getattr(args, "layer_cache_key", None)
    from chainproof.layers.cache import LayerCache

    if directory is not None or key_file is not None:
        return LayerCache.open(directory, key_file=key_file)  # bad input: exit 2
    # The default location is a convenience, opened only when a layer is looked up: if it
    # is unusable (read-only home, a key others can read), layers are simply streamed.
    return LayerCache.open(lazy=True)


def open_options_from_args(args: argparse.Namespace) -> OpenOptions:
    from chainproof.oci.open import OpenOptions

    return OpenOptions(
        platform=args.platform,
        all_platforms=getattr(args, "all_platforms", False),
        registry=registry_options_from_args(args),
        layer_cache=layer_cache_from_args(args),
    )


def add_format_option(parser: argparse.ArgumentParser, *choices: str) -> None:
    parser.add_argument(
        "--format", choices=choices or ("text", "json"), default="text", help="output format"
    )


def write_output(text: str, output: str | None) -> None:
    """Print, or write ``output`` atomically (never a partial file)."""
    if not output:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        return
    from chainproof._files import write_atomic

    data = (text if text.endswith("\n") else text + "\n").encode("utf-8")
    try:
        write_atomic(Path(output), data)
    except OSError as exc:
        raise InputError(f"cannot write {output}: {exc.strerror}") from None


@contextmanager
def layer_progress(enabled: bool) -> Iterator[Progress | None]:
    """A rich progress bar over layer bytes when stderr is a terminal."""
    if not enabled or not sys.stderr.isatty():
        yield None
        return
    from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn

    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        transient=True,
    ) as bar:
        tasks: dict[int, object] = {}

        def update(layer: int, done: int, total: int) -> None:
            if layer not in tasks:
                tasks[layer] = bar.add_task(f"layer {layer}", total=total)
            bar.update(tasks[layer], completed=done)  # type: ignore[arg-type]

        yield update

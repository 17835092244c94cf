"""Command-line options shared by commands that read images (inspect, verify, sbom, ...)."""

from __future__ import annotations

import argparse
from pathlib import Path

from chainproof.oci.registry.options import TLS_VERSIONS, RegistryOptions


def add_registry_options(parser: argparse.ArgumentParser) -> None:
    """Registry trust and transport options, in one argument group."""
    group = parser.add_argument_group("registry access")
    group.add_argument(
        "--insecure-registry",
        metavar="HOST[:PORT]",
        action="append",
        default=[],
        help="allow plain HTTP to this registry (repeatable; loopback is not implied)",
    )
    group.add_argument(
        "--min-tls",
        choices=TLS_VERSIONS,
        default="1.3",
        help="lowest TLS version accepted (default: %(default)s)",
    )
    group.add_argument(
        "--ca-file",
        "--cacert",
        dest="ca_file",
        metavar="PATH",
        type=Path,
        help="PEM bundle of CA certificates to trust instead of the system ones",
    )
    group.add_argument(
        "--authfile",
        metavar="PATH",
        type=Path,
        help="Docker config.json with credentials (default: $DOCKER_CONFIG/config.json "
        "or ~/.docker/config.json)",
    )
    group.add_argument(
        "--allow-foreign-host",
        metavar="HOST",
        action="append",
        default=[],
        help="fetch foreign / non-distributable layers from this host's https URLs (repeatable)",
    )


def registry_options_from_args(args: argparse.Namespace) -> RegistryOptions:
    return RegistryOptions(
        insecure_registries=frozenset(getattr(args, "insecure_registry", None) or ()),
        min_tls=getattr(args, "min_tls", None) or "1.3",
        ca_file=getattr(args, "ca_file", None),
        authfile=getattr(args, "authfile", None),
        foreign_hosts=frozenset(getattr(args, "allow_foreign_host", None) or ()),
    )

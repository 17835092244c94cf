"""``chainproof inspect IMAGE``: what an image is, without reading its layers."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any

from chainproof.cli.common import add_format_option, add_image_options, open_options_from_args
from chainproof.oci.model import Index

if TYPE_CHECKING:
    from chainproof.oci.image import PlatformImage, ResolvedTarget


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "inspect", help="show an image's digest, platform, layers and history"
    )
    parser.add_argument("image", metavar="IMAGE")
    add_image_options(parser)
    add_format_option(parser)
    parser.set_defaults(handler=run)


def image_json(image: PlatformImage) -> dict[str, Any]:
    config = image.config
    return {
        "digest": str(image.digest),
        "media_type": image.manifest.media_type,
        "platform": image.platform.name,
        "os_version": image.platform.os_version,
        "created": config.created,
        "config": {"digest": str(image.manifest.config.digest), "size": image.manifest.config.size},
        "user": config.user,
        "entrypoint": config.config.get("Entrypoint"),
        "cmd": config.config.get("Cmd"),
        "layers": [
            {
                "digest": str(layer.digest),
                "media_type": layer.media_type,
                "size": layer.size,
                "diff_id": str(config.diff_ids[i]) if i < len(config.diff_ids) else None,
                **({"urls": list(layer.urls)} if layer.urls else {}),
            }
            for i, layer in enumerate(image.manifest.layers)
        ],
        "history": [
            {
                "created": h.created,
                "created_by": h.created_by,
                **({"comment": h.comment} if h.comment else {}),
                "empty_layer": h.empty_layer,
            }
            for h in config.history
        ],
    }


def target_json(target: ResolvedTarget) -> dict[str, Any]:
    out: dict[str, Any] = {
        "reference": target.reference,
        "digest": str(target.digest),
        "media_type": target.top.media_type,
    }
    if isinstance(target.top, Index):
        out["platforms"] = [
            {"digest": str(d.digest), "platform": str(d.platform) if d.platform else None}
            for d in target.top.manifests
        ]
    out["images"] = [image_json(i) for i in target.images]
    return out


def _size(n: int) -> str:
    value = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{n} B"  # pragma: no cover


def render_text(data: dict[str, Any]) -> str:
    lines = [f"reference:  {data['reference']}", f"digest:     {data['digest']}"]
    lines.append(f"media type: {data['media_type']}")
    for entry in data.get("platforms", []):
        lines.append(f"  index entry {entry['platform']}: {entry['digest']}")
    for image in data["images"]:
        lines.append("")
        lines.append(f"manifest:   {image['digest']}")
        version = f" (os.version {image['os_version']})" if image["os_version"] else ""
        lines.append(f"platform:   {image['platform']}{version}")
        lines.append(f"created:    {image['created'] or '-'}")
        lines.append(f"user:       {image['user'] or '-'}")
        lines.append(f"layers:     {len(image['layers'])}")
        for i, layer in enumerate(image["layers"]):
            foreign = " (foreign)" if layer.get("urls") else ""
            lines.append(
                f"  {i:>2} {layer['digest']}  {_size(layer['size']):>9}  "
                f"{layer['media_type']}{foreign}"
            )
        lines.append("history:")
        for entry in image["history"]:
            mark = "   " if entry["empty_layer"] else " + "
            lines.append(f" {mark}{entry['created_by'][:160]}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from chainproof.oci.open import open_target

    source, target = open_target(args.image, open_options_from_args(args))
    source.close()
    data = target_json(target)
    print(json.dumps(data, indent=2) if args.format == "json" else render_text(data))
    return 0

"""The published JSON Schema of ``chainproof.policy/v1`` (``docs/policy.schema.json``).

Generated from the models, so it cannot drift from what the loader accepts; a test compares
the published file with this output.
"""

from __future__ import annotations

import json
from typing import Any

from chainproof.policy.model import SCHEMA_ID, PolicyDocument

SCHEMA_URL = "https://chainproof.dev/schemas/policy-v1.json"


def json_schema() -> dict[str, Any]:
    schema = PolicyDocument.model_json_schema(by_alias=True)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_URL,
        "title": f"chainproof policy ({SCHEMA_ID})",
        **{k: v for k, v in schema.items() if k != "title"},
    }


def dumps() -> str:
    return json.dumps(json_schema(), indent=2, sort_keys=True) + "\n"

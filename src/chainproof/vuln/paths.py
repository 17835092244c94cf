"""Where the advisory database lives by default (import-light: the CLI parser needs it)."""

from __future__ import annotations

from pathlib import Path

import platformdirs


def default_path() -> Path:
    """``<user data dir>/chainproof/advisories.db`` (XDG on Linux, %LOCALAPPDATA% on Windows)."""
    return platformdirs.user_data_path("chainproof") / "advisories.db"

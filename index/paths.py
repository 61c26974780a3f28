"""Where policybot keeps its files by default (all overridable)."""

from __future__ import annotations

import os
from pathlib import Path

from platformdirs import user_cache_dir, user_data_dir


def default_index_dir() -> Path:
    """The index built from the bundled corpus, unless `POLICYBOT_INDEX_DIR` says otherwise."""
    return Path(user_data_dir("policybot")) / "index"


def model_cache_dir() -> Path:
    """Where exported models live (`POLICYBOT_MODEL_CACHE` overrides)."""
    env = os.environ.get("POLICYBOT_MODEL_CACHE")
    return Path(env).expanduser() if env else Path(user_cache_dir("policybot")) / "models"

"""One settings object, built from CLI flags, then `POLICYBOT_*` environment, then a TOML file.

Precedence: a flag the user gave beats the environment, which beats the TOML
file (`--config FILE`, `POLICYBOT_CONFIG`, or `policybot.toml` in the user's
config directory), which beats the defaults below.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

import tomllib
from platformdirs import user_config_dir

from policybot.index.paths import default_index_dir

DEFAULT_MODEL = "bundled:multilingual-e5-small"


def default_config_file() -> Path:
    return Path(user_config_dir("policybot")) / "policybot.toml"


class SettingsError(ValueError):
    """A setting has a value that cannot be used; the message says which and why."""


@dataclass(frozen=True)
class Settings:
    """Everything a command may need to know; every field has a sensible default."""

    index_dir: Path = default_index_dir()
    model: str = DEFAULT_MODEL
    chunk_tokens: int = 160
    overlap: int = 32
    encoding: str = "cl100k_base"
    k: int = 6
    llm: str | None = None
    llm_base_url: str | None = None
    llm_api_key: str | None = None
    llm_timeout: float = 20.0
    host: str = "127.0.0.1"
    port: int = 7860
    allow_origins: tuple[str, ...] = ()
    rate_limit: int = 60
    max_concurrency: int = 2
    max_queue: int = 32


_INTS = {"chunk_tokens", "overlap", "k", "port", "rate_limit", "max_concurrency", "max_queue"}
_FLOATS = {"llm_timeout"}
_PATHS = {"index_dir"}
_TUPLES = {"allow_origins"}


def _coerce(name: str, value: Any, source: str) -> Any:
    try:
        if name in _INTS:
            return int(value)
        if name in _FLOATS:
            return float(value)
        if name in _PATHS:
            return Path(str(value)).expanduser()
        if name in _TUPLES:
            if isinstance(value, str):
                return tuple(v.strip() for v in value.split(",") if v.strip())
            return tuple(str(v) for v in value)
    except (TypeError, ValueError) as exc:
        raise SettingsError(f"{source}: {name} = {value!r} is not a valid value ({exc})") from exc
    return None if value in ("", None) else str(value)


def _from_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as f:
            data = tomllib.load(f)
    except FileNotFoundError:
        return {}
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise SettingsError(f"cannot read settings file {path}: {exc}") from exc
    known = {f.name for f in fields(Settings)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise SettingsError(f"{path}: unknown setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    return {k: _coerce(k, v, str(path)) for k, v in data.items()}


def load_settings(
    flags: dict[str, Any] | None = None,
    *,
    environ: dict[str, str] | None = None,
    config_file: Path | None = None,
) -> Settings:
    """Build the settings; `flags` holds only the options the user actually gave.

    >>> load_settings({"k": 3}, environ={"POLICYBOT_K": "9"}).k
    3
    >>> load_settings({}, environ={"POLICYBOT_K": "9"}).k
    9
    """
    env = dict(os.environ if environ is None else environ)
    path = config_file or (Path(env["POLICYBOT_CONFIG"]) if env.get("POLICYBOT_CONFIG") else None)
    values: dict[str, Any] = _from_toml(path or default_config_file())
    if path is not None and not path.exists():
        raise SettingsError(f"settings file {path} does not exist")
    for f in fields(Settings):
        key = "POLICYBOT_" + f.name.upper()
        if env.get(key):
            values[f.name] = _coerce(f.name, env[key], key)
    for name, value in (flags or {}).items():
        if value is not None:
            values[name] = _coerce(name, value, "--" + name.replace("_", "-"))
    settings = replace(Settings(), **values)
    if settings.chunk_tokens < 16:
        raise SettingsError(f"chunk_tokens must be at least 16 (got {settings.chunk_tokens})")
    if settings.overlap < 0:
        raise SettingsError(f"overlap must be 0 or more tokens (got {settings.overlap})")
    if not 1 <= settings.k <= 50:
        raise SettingsError(f"k must be between 1 and 50 (got {settings.k})")
    return settings

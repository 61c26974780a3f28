"""Subcommands beyond `ingest`; each module registers its parser here."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

REGISTRY: list[Callable[[Any], None]] = []


def user_error_types() -> list[type[BaseException]]:
    """Exceptions from the library whose message is written for the user."""
    return []

"""`policybot serve` (placeholder until the server lands)."""

from __future__ import annotations

from typing import Any


def register_serve(sub: Any) -> None:
    return None

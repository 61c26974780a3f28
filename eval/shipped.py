"""Answer sets shipped with the package (eval/sets/*.jsonl)."""

from __future__ import annotations

from pathlib import Path

SETS_DIR = Path(__file__).parent / "sets"


def shipped_sets() -> list[str]:
    """Names of the shipped answer sets, e.g. ["dev", "smoke"]."""
    return sorted(p.stem for p in SETS_DIR.glob("*.jsonl"))


def shipped_set(name: str) -> Path:
    """Path of a shipped answer set by name ("dev", "smoke"); a path ending in .jsonl is not a name.

    Raises ValueError naming the available sets when there is no such set.
    """
    path = SETS_DIR / f"{name}.jsonl"
    if not path.is_file():
        available = ", ".join(shipped_sets()) or "none"
        raise ValueError(f"no shipped answer set named {name!r}; available: {available}, or pass a .jsonl path")
    return path

"""Token counting with tiktoken, offline.

tiktoken downloads its BPE files on first use; the `litellm` package ships
`cl100k_base` and `o200k_base`, so we point `TIKTOKEN_CACHE_DIR` there unless
the user has set it. We never fall back to another tokenizer: a budget measured
in the wrong units would silently change every chunk.
"""

from __future__ import annotations

import functools
import importlib.util
import os
from collections.abc import Callable
from pathlib import Path


class TokenizerUnavailableError(RuntimeError):
    """The requested tiktoken encoding cannot be loaded on this machine."""


def litellm_tiktoken_dir() -> Path | None:
    """The folder of BPE files that litellm ships, if litellm is installed."""
    spec = importlib.util.find_spec("litellm")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "litellm_core_utils" / "tokenizers"
    return folder if folder.is_dir() else None


def _ensure_cache_dir() -> None:
    if os.environ.get("TIKTOKEN_CACHE_DIR"):
        return
    folder = litellm_tiktoken_dir()
    if folder is not None:
        os.environ["TIKTOKEN_CACHE_DIR"] = str(folder)


@functools.lru_cache(maxsize=8)
def get_encoding(name: str = "cl100k_base"):  # type: ignore[no-untyped-def]
    """Load a tiktoken encoding from the offline cache, or explain why not."""
    _ensure_cache_dir()
    import tiktoken

    try:
        return tiktoken.get_encoding(name)
    except ValueError as exc:
        raise TokenizerUnavailableError(
            f"unknown tiktoken encoding {name!r}; use cl100k_base or o200k_base"
        ) from exc
    except Exception as exc:  # noqa: BLE001 - tiktoken raises network errors of many kinds
        where = os.environ.get("TIKTOKEN_CACHE_DIR", "(unset)")
        raise TokenizerUnavailableError(
            f"tiktoken encoding {name!r} is not available offline (looked in TIKTOKEN_CACHE_DIR={where}). "
            "Install litellm, which ships cl100k_base and o200k_base, or set TIKTOKEN_CACHE_DIR "
            "to a folder holding the encoding's BPE file."
        ) from exc


def token_counter(name: str = "cl100k_base") -> Callable[[str], int]:
    """A function that counts `text`'s tokens in encoding `name`.

    >>> token_counter()("hello world")
    2
    """
    enc = get_encoding(name)
    return lambda text: len(enc.encode(text, disallowed_special=()))

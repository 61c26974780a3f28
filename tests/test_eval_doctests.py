"""The docstring examples of the eval modules are tests too."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "aggregate",
    "answer_set",
    "check",
    "compare",
    "metrics",
    "normalize",
    "report",
    "table",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(f"policybot.eval.{name}")
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0

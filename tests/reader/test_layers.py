"""The selection modules stay pure: numpy and the standard library only."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

import extra_catalog.reader.selection
import extra_catalog.reader.sourcekeys

ALLOWED = {"numpy", "extra_catalog"} | set(sys.stdlib_module_names)


@pytest.mark.parametrize("module", [extra_catalog.reader.selection,
                                    extra_catalog.reader.sourcekeys])
def test_imports_only_numpy_and_stdlib(module: object) -> None:
    tree = ast.parse(Path(module.__file__).read_text())  # type: ignore[attr-defined]
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            imported.add(node.module.split(".")[0])  # type: ignore[union-attr]
    assert imported <= ALLOWED, imported - ALLOWED

"""Give the package under test its bytecode, as a regular install has it.

``pip install`` of a wheel compiles every module to ``__pycache__``; an
editable install leaves that to the first import, which does not happen
where ``PYTHONDONTWRITEBYTECODE`` is set (as on the benchmark machines).
Without it, every fresh process compiles the package from source and an
import-time comparison with a wheel-installed EXtra-data is unfair by tens
of milliseconds.
"""

from __future__ import annotations

import compileall
from pathlib import Path

import extra_catalog


def ensure_bytecode() -> None:
    """Compile extra_catalog's modules to ``__pycache__`` where not done yet."""
    package = Path(extra_catalog.__file__).parent
    compileall.compile_dir(str(package), quiet=1)

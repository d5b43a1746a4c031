"""Entry points declared for commands that are not built yet.

They say so plainly and exit with status 3, so a script that calls one
never mistakes it for a working command.
"""

from __future__ import annotations

import sys
from typing import NoReturn

from .._version import __version__

#: Exit status of a command that is not available yet.
EXIT_NOT_BUILT = 3


def not_built(command: str, planned: str) -> NoReturn:
    """Tell the user that *command* is not available yet and exit with status 3."""
    print(
        f"{command}: not available yet in extra_catalog {__version__}.\n"
        f"It is planned ({planned}). Until then, use the command of the same name "
        "from EXtra-data.",
        file=sys.stderr,
    )
    sys.exit(EXIT_NOT_BUILT)

"""Entry point of the ``photofix`` command: a subcommand runs headless, anything else opens
the window (``photofix [FILE...]``).

A first word that is not an existing file and looks like a command (``photofix frobnicate``,
a subcommand this version does not have) is refused with the list of commands and exit status
2, instead of opening a window on files of those names.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Sequence

_COMMAND_LIKE = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")


def looks_like_command(word: str) -> bool:
    """A bare word without a suffix or a path separator, naming no existing file."""
    return bool(_COMMAND_LIKE.match(word)) and not os.path.exists(word)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    from photofix import cli

    commands = cli.command_names()
    if args and (args[0] in commands or args[0].startswith("-")):
        return cli.main(args)
    if args and looks_like_command(args[0]):
        print(
            f"photofix: error: unknown command {args[0]!r}; the commands are"
            f" {', '.join(commands)} (or 'photofix FILE...' to open images in the window)",
            file=sys.stderr,
        )
        return 2
    from photofix.ui.app import run_gui

    return run_gui(args)


if __name__ == "__main__":
    sys.exit(main())

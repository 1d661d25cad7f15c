"""Entry point of the ``photofix`` command: a subcommand runs headless, anything else opens
the window (``photofix [FILE...]``)."""

from __future__ import annotations

import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    from photofix import cli

    if args and (args[0] in cli.COMMANDS or args[0].startswith("-")):
        return cli.main(args)
    from photofix.ui.app import run_gui

    return run_gui(args)


if __name__ == "__main__":
    sys.exit(main())

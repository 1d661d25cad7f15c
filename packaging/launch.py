"""PyInstaller entry script: the frozen PhotoFix runs exactly what the ``photofix`` command runs."""

import sys

from photofix.__main__ import main

if __name__ == "__main__":
    sys.exit(main())

"""PyInstaller entry script: the frozen PhotoFix runs exactly what the ``photofix`` command runs."""

import multiprocessing
import sys

if __name__ == "__main__":
    # batch workers (ProcessPoolExecutor) are started by re-running this program on Windows and
    # macOS (spawn): freeze_support makes such a child run its task instead of the app
    multiprocessing.freeze_support()
    from photofix.__main__ import main

    sys.exit(main())

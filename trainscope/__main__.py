"""``python -m trainscope``: the same as the ``trainscope`` command."""

from __future__ import annotations

import sys

if __name__ == "__main__":
    # Imported here, not above: the worker process that multiprocessing spawns imports this
    # file again (as ``__mp_main__``) and needs none of the command line's modules.
    from trainscope.launch import main

    sys.exit(main())

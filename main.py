"""Run TrainScope from a checkout: ``python main.py ARGS`` is the ``trainscope`` command.

The program itself is ``trainscope.launch`` (installed as the ``trainscope`` package; see
``pyproject.toml``); this file only keeps the repository's entry point where people look for it.
"""

from __future__ import annotations

import sys

if __name__ == "__main__":
    # Imported here, not above: the worker process that multiprocessing spawns imports this
    # file again (as ``__mp_main__``) and needs none of the command line's modules.
    from trainscope.launch import main

    sys.exit(main())

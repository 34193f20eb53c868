"""Run TrainScope from a checkout: ``python main.py ARGS`` is the ``trainscope`` command.

The program itself is ``trainscope.launch`` (installed as the ``trainscope`` package; see
``pyproject.toml``); this file only keeps the repository's entry point where people look for it.
"""

from __future__ import annotations

import sys

from trainscope.launch import main

if __name__ == "__main__":
    sys.exit(main())

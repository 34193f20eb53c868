"""``python -m trainscope``: the same as the ``trainscope`` command."""

from __future__ import annotations

import sys

from trainscope.launch import main

if __name__ == "__main__":
    sys.exit(main())

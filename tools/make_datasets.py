"""Write the bundled datasets (``assets/datasets/*.npz``) from scikit-learn's offline copies.

The engine reads these files instead of importing scikit-learn (~0.85 s) for a bundled run, so
the default run (digits) starts without it. Each file holds ``features`` (float32), ``labels``
(int64), ``class_names`` and ``feature_names``, exactly as ``sklearn.datasets.load_<name>()``
gives them; ``tests/engine/test_bundled_datasets.py`` checks they still agree.
Run:  .venv/bin/python tools/make_datasets.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from sklearn import datasets

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from trainscope.engine.data import BUNDLED_SETS  # noqa: E402


def main() -> None:
    folder = REPO / "assets" / "datasets"
    folder.mkdir(exist_ok=True)
    for name in BUNDLED_SETS:
        bunch = getattr(datasets, f"load_{name}")()
        np.savez_compressed(
            folder / f"{name}.npz",
            features=np.asarray(bunch.data, dtype=np.float32),
            labels=np.asarray(bunch.target, dtype=np.int64),
            class_names=np.asarray([str(value) for value in bunch.target_names]),
            feature_names=np.asarray([str(value) for value in bunch.feature_names]),
        )
        print(f"{folder / name}.npz: {(folder / f'{name}.npz').stat().st_size:,} bytes")


if __name__ == "__main__":
    main()

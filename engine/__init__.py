"""TrainScope's engine: data, models, training sessions, metrics. Never imports Qt.

Importing this package is cheap on purpose: torch is only imported by the modules that only
the training side needs (``engine.tensors``, ``engine.models``, ``engine.session``), so the GUI
process can use commands, events, configs and numpy metrics without loading torch.
"""

"""TrainScope's bundled lessons: one TOML file per scenario (data only, no code here).

This file only makes the folder a package so the scenario files install with TrainScope and are
found with ``importlib.resources``; ``engine.scenario`` loads and validates them.
"""

"""Drive a scenario's run the way a learner would: to its end, then a "try this", then on.

The driver lives in ``engine.lesson_run`` (the scenario bench uses it too); these names keep
the tests' vocabulary.
"""

from __future__ import annotations

from trainscope.engine.lesson_run import LessonRun, finished_run, lesson_run

ScenarioRun = LessonRun
scenario_run = lesson_run

__all__ = ["ScenarioRun", "finished_run", "scenario_run"]

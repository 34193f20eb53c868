"""Render every live panel from a synthetic stream into one PNG, to look at the real thing.

A development aid, not a test: run it offscreen after touching a panel and open the images.

    QT_QPA_PLATFORM=offscreen .venv/bin/python tools/render_panels.py --classes 2 --out /tmp/panels-2.png
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtWidgets import QApplication, QGridLayout, QWidget  # noqa: E402

from tests import event_factory  # noqa: E402
from trainscope.gui.panels.accuracy_panel import AccuracyPanel  # noqa: E402
from trainscope.gui.panels.confusion_panel import ConfusionPanel  # noqa: E402
from trainscope.gui.panels.loss_panel import LossPanel  # noqa: E402
from trainscope.gui.panels.reliability_panel import ReliabilityPanel  # noqa: E402
from trainscope.gui.panels.threshold_panel import ThresholdPanel  # noqa: E402
from trainscope.gui.run_state import RunState  # noqa: E402
from trainscope.gui.theme import Theme  # noqa: E402


def build_grid(theme: Theme) -> tuple[QWidget, list]:
    """Loss, accuracy and confusion on top; calibration and the (wide) threshold panel below."""
    window = QWidget()
    grid = QGridLayout(window)
    panels = [
        LossPanel(theme),
        AccuracyPanel(theme),
        ConfusionPanel(theme),
        ReliabilityPanel(theme),
        ThresholdPanel(theme),
    ]
    places = [(0, 0, 1, 1), (0, 1, 1, 1), (0, 2, 1, 1), (1, 0, 1, 1), (1, 1, 1, 2)]
    for panel, place in zip(panels, places, strict=True):
        grid.addWidget(panel, *place)
    for index in range(3):
        grid.setColumnStretch(index, 1)
    for index in range(2):
        grid.setRowStretch(index, 1)
    return window, panels


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--out", default="/tmp/panels.png")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--classroom", action="store_true")
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--raw", action="store_true", help="show the raw per-batch loss")
    parser.add_argument("--threshold", type=float, default=0.35)
    args = parser.parse_args()
    app = QApplication.instance() or QApplication([])
    theme = Theme.for_scale(args.scale, classroom=args.classroom)
    window, panels = build_grid(theme)
    window.resize(1600, 1000)
    window.show()
    state = RunState()
    state.apply(event_factory.training_stream(args.classes, total_steps=args.steps))
    state.set_threshold(args.threshold)
    state.set_costs(1.0, 5.0)
    panels[0].raw_checkbox.setChecked(args.raw)
    for _ in range(3):  # later frames let layouts settle after the first data arrive
        for panel in panels:
            panel.safe_refresh(state)
        app.processEvents()
        app.processEvents()
    window.grab().save(args.out)
    errors = [panel.last_error for panel in panels if panel.last_error]
    print(f"saved {args.out}" + (f"; panel errors: {errors}" if errors else ""))


if __name__ == "__main__":
    main()

"""The learning-rate range test: the sweep, where it stops, what it suggests, and that it works."""

from __future__ import annotations

import numpy as np
import pytest

from tests.engine.session_helpers import small_config
from trainscope.engine.lesson_run import finished_run
from trainscope.engine.lr_finder import analyse, run_lr_find, smooth, sweep_config, sweep_lrs
from trainscope.engine.session import ThreadSession


def test_the_sweep_is_exponential_from_1e_7_to_10_one_rate_per_step_from_the_same_weights():
    base = small_config()
    config = sweep_config(base, steps=100)
    lrs = [change.change.value for change in config.schedule]
    assert [change.step for change in config.schedule] == list(range(1, 101))
    assert lrs[0] == pytest.approx(1e-7)
    assert lrs[-1] == pytest.approx(10.0)
    assert np.allclose(np.diff(np.log(lrs)), np.log(1e8) / 99)
    assert (config.seed, config.model, config.dataset) == (base.seed, base.model, base.dataset)
    assert config.steps == 100


def test_smoothing_is_fastais_bias_corrected_average():
    assert smooth(np.array([2.0, 2.0, 2.0])) == pytest.approx([2.0, 2.0, 2.0])
    assert smooth(np.array([1.0, 3.0]))[1] == pytest.approx(
        (0.98 * 0.02 + 3 * 0.02) / (1 - 0.98**2)
    )


def test_a_curve_that_falls_then_explodes_is_cut_at_the_blow_up_and_suggests_a_tenth_of_its_bottom():
    lrs = sweep_lrs(100)
    log_lr = np.log10(lrs)
    # Flat at 2.3 until 1e-4, falling fastest around 1e-3, lowest near 1e-2, then exploding.
    falling = 2.3 - 2.0 / (1 + np.exp(-(log_lr + 3) * 3))
    losses = np.where(log_lr < -1.5, falling, falling + 40 * (log_lr + 1.5) ** 2)
    finding = analyse(lrs, losses)
    assert finding.stopped == "diverged"
    assert finding.lrs[-1] < 0.5, "cut where the smoothed loss passed four times its lowest"
    bottom = finding.lrs[np.argmin(finding.smoothed)]
    assert 5e-3 < bottom < 5e-2, "the smoothed curve bottoms out near 1e-2 (a little after: lag)"
    assert finding.suggestion == pytest.approx(bottom / 10)
    assert 3e-4 < finding.steepest < 1e-2, "the steepest fall is around 1e-3 (plus the lag)"
    assert "minimum" in finding.rule


def test_a_sweep_that_never_falls_suggests_nothing():
    lrs = sweep_lrs(50)
    finding = analyse(lrs, np.linspace(1.0, 1.5, 50))
    assert finding.suggestion is None


def test_the_real_sweep_suggests_a_rate_that_trains_from_the_same_initial_weights():
    base = small_config(epochs=20)
    finding = run_lr_find(base, lambda config, **_: ThreadSession(config), steps=60)
    assert finding.suggestion is not None
    assert len(finding.lrs) == len(finding.losses) <= 60
    assert np.all(np.diff(finding.lrs) > 0)
    at_suggestion = finished_run(base.with_settings(lr=finding.suggestion))
    assert at_suggestion.evaluations()[-1].accuracy >= 0.85

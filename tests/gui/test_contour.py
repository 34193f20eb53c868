"""The contour the boundary panel draws lies exactly where the grid crosses the level."""

from __future__ import annotations

import numpy as np
import pytest

from trainscope.gui.contour import contour_segments


def _bilinear(grid: np.ndarray, points: np.ndarray) -> np.ndarray:
    """The grid's value at (column, row) points, interpolated as marching squares assumes."""
    col, row = points[:, 0], points[:, 1]
    c0 = np.clip(np.floor(col).astype(int), 0, grid.shape[1] - 2)
    r0 = np.clip(np.floor(row).astype(int), 0, grid.shape[0] - 2)
    fc, fr = col - c0, row - r0
    return (
        grid[r0, c0] * (1 - fc) * (1 - fr)
        + grid[r0, c0 + 1] * fc * (1 - fr)
        + grid[r0 + 1, c0] * (1 - fc) * fr
        + grid[r0 + 1, c0 + 1] * fc * fr
    )


@pytest.mark.parametrize("level", [0.2, 0.5, 0.9])
def test_every_contour_point_sits_on_the_level(level: float) -> None:
    ys, xs = np.mgrid[0:60, 0:80]
    grid = 1.0 / (1.0 + np.exp(-((xs - 40) ** 2 + (ys - 30) ** 2 - 400) / 80.0))  # a soft disk
    points = contour_segments(grid, level)
    assert len(points) > 0
    assert len(points) % 2 == 0
    np.testing.assert_allclose(_bilinear(grid, points), level, atol=1e-9)
    # a closed curve around the disk's centre, at the right radius
    radius = np.hypot(points[:, 0] - 40, points[:, 1] - 30)
    expected = np.sqrt(400 + 80.0 * np.log(level / (1 - level)))
    np.testing.assert_allclose(radius, expected, atol=0.6)


def test_no_crossing_no_segments() -> None:
    assert contour_segments(np.zeros((5, 5)), 0.5).shape == (0, 2)
    assert contour_segments(np.ones((5, 5)), 0.5).shape == (0, 2)


def test_saddles_give_two_segments() -> None:
    grid = np.array([[1.0, 0.0], [0.0, 1.0]])
    assert len(contour_segments(grid, 0.5)) == 4

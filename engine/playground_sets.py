"""TensorFlow Playground's four classification sets, so its exercises carry over unchanged.

Each function follows the geometry of Playground's ``dataset.ts`` (classifyCircleData,
classifyXORData, classifyTwoGaussData, classifySpiralData): the same radii, centres, padding
and turns, in Playground's own units (the plane from -5 to 5, or about ±6 for the clusters).
``engine.data`` standardizes the features later, so those units never reach the model.

**Noise** is Playground's slider divided by 100, so it runs from 0 to 0.5 (``MAX_NOISE``), and it
means what it means there, which is not the same for every set:

- circle and xor: points keep their place, but each is labelled by where a random nudge of up
  to ``noise × 5`` per axis would put it, so near the boundary the classes mix;
- gaussians: the clusters' variance grows linearly from 0.5 (noise 0) to 4 (noise 0.5);
- spiral: every point moves by up to ``noise`` per axis off its arm.

Playground labels its classes -1 (drawn orange) and +1 (drawn blue); here -1 is class 0 and +1
is class 1, so a picture from Playground reads the same. Rows per class are given by the
caller, so classes are exactly balanced unless an imbalance was asked for; only circle and xor,
whose noise relabels points, drift from the counts asked (see above). Pure numpy, no scikit-learn.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

MAX_NOISE = 0.5  # Playground's noise slider tops out at 50, that is 0.5
PLANE_RADIUS = 5.0  # Playground draws its points on [-5, 5] x [-5, 5] (the clusters spill over)
XOR_PADDING = 0.3  # Playground keeps points this far from both axes
SPIRAL_TURNS = 1.75

ClassCounts = tuple[int, int]  # rows of class 0 and of class 1
PlaygroundMaker = Callable[[ClassCounts, float, np.random.Generator], tuple[np.ndarray, np.ndarray]]


def circle(
    counts: ClassCounts, noise: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """A disk (class 1, "inside") within a ring (class 0, "outside"): Playground's "circle".

    Not scikit-learn's "circles" (two thin concentric rings): here the inner class fills a
    disk of radius 2.5 and the outer class a ring from 3.5 to 5, with a clear gap between.
    As in Playground, radii are drawn uniformly, so points crowd towards the centre.
    """
    inner_radius = PLANE_RADIUS * 0.5
    radii = np.concatenate(
        [
            rng.uniform(PLANE_RADIUS * 0.7, PLANE_RADIUS, counts[0]),
            rng.uniform(0.0, inner_radius, counts[1]),
        ]
    )
    angles = rng.uniform(0.0, 2 * math.pi, len(radii))
    points = np.column_stack([radii * np.sin(angles), radii * np.cos(angles)])
    nudged = points + _nudges(len(points), noise, rng)
    labels = (np.hypot(nudged[:, 0], nudged[:, 1]) < inner_radius).astype(np.int64)
    return _shuffled(points, labels, rng)


def xor(
    counts: ClassCounts, noise: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """The four quadrants: same-sign quadrants are class 1, mixed-sign ones class 0.

    Playground draws both coordinates uniformly on [-5, 5] and pushes them 0.3 away from the
    axes; drawing a quadrant per point from its class gives the same picture with exact class
    counts. No straight line separates the classes, which is the lesson.
    """
    total = counts[0] + counts[1]
    same_sign = np.repeat([False, True], counts)
    x_sign = rng.choice([-1.0, 1.0], total)
    y_sign = np.where(same_sign, x_sign, -x_sign)
    magnitudes = rng.uniform(0.0, PLANE_RADIUS, (total, 2)) + XOR_PADDING
    points = magnitudes * np.column_stack([x_sign, y_sign])
    nudged = points + _nudges(total, noise, rng)
    labels = (nudged[:, 0] * nudged[:, 1] >= 0).astype(np.int64)
    return _shuffled(points, labels, rng)


def gaussians(
    counts: ClassCounts, noise: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Two round Gaussian clusters, class 1 around (2, 2) and class 0 around (-2, -2).

    Noise widens both clusters (variance 0.5 at noise 0 to 4 at 0.5, as in Playground) until
    they overlap and even the best line must misclassify some points.
    """
    variance = 0.5 + (4.0 - 0.5) * noise / MAX_NOISE
    centres = np.repeat([[-2.0, -2.0], [2.0, 2.0]], counts, axis=0)
    points = centres + rng.standard_normal(centres.shape) * math.sqrt(variance)
    labels = np.repeat(np.arange(2, dtype=np.int64), counts)
    return _shuffled(points, labels, rng)


def spiral(
    counts: ClassCounts, noise: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Two arms winding 1.75 turns out from the centre to radius 5, half a turn apart.

    Class 1 ("arm B") is Playground's arm starting at angle 0, class 0 ("arm A") the one
    starting at π. Points lie evenly along each arm (not randomly: Playground steps along it),
    then noise moves each by up to ``noise`` per axis.
    """
    arms = []
    for count, start_angle in ((counts[0], math.pi), (counts[1], 0.0)):
        progress = np.arange(count) / count
        radii = progress * PLANE_RADIUS
        angles = progress * SPIRAL_TURNS * 2 * math.pi + start_angle
        arms.append(np.column_stack([radii * np.sin(angles), radii * np.cos(angles)]))
    points = np.concatenate(arms) + rng.uniform(-1.0, 1.0, (sum(counts), 2)) * noise
    labels = np.repeat(np.arange(2, dtype=np.int64), counts)
    return _shuffled(points, labels, rng)


def _nudges(n_points: int, noise: float, rng: np.random.Generator) -> np.ndarray:
    """Playground's label noise for circle and xor: a uniform nudge of up to noise × 5 per axis."""
    return rng.uniform(-PLANE_RADIUS, PLANE_RADIUS, (n_points, 2)) * noise


def _shuffled(
    points: np.ndarray, labels: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Rows in random order, so a preview of the first rows shows both classes."""
    order = rng.permutation(len(labels))
    return points[order], labels[order]


PLAYGROUND_SETS: dict[str, tuple[PlaygroundMaker, tuple[str, str]]] = {
    "circle": (circle, ("outside", "inside")),
    "xor": (xor, ("mixed signs", "same signs")),
    "gaussians": (gaussians, ("lower-left cluster", "upper-right cluster")),
    "spiral": (spiral, ("arm A", "arm B")),
}
"""Name → (maker, class names for classes 0 and 1), in the order the dataset lists show them."""

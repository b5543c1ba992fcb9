"""Toy data for the experiments (given: nothing to write here).

Concentric circles are the lecture's example of data no straight line can separate: the
positive points sit inside a ring of negative ones, so a classifier needs a closed, curved
decision boundary, which only a network with a non-linearity can draw.
"""
import numpy as np


def make_circles(n=256, noise=0.1, factor=0.5, seed=0):
    """Two noisy concentric circles in the plane.

    Half of the points (label 0) lie on the circle of radius 1, the other half (label 1)
    on the circle of radius ``factor``, at uniformly random angles; then isotropic
    Gaussian noise of standard deviation ``noise`` is added to both coordinates. For
    odd ``n`` the outer circle gets the extra point.

    With the defaults the classes are separable up to the noise (a curved boundary gets
    about 99% right), while the best straight line gets at most about two thirds: the
    line x = factor puts the inner circle and most of the outer one on the same side.

    Parameters
    ----------
    n : int, number of points (>= 0).
    noise : float, standard deviation of the added Gaussian noise (>= 0).
    factor : float, radius of the inner circle relative to the outer one, in (0, 1).
    seed : int, seed of ``np.random.default_rng``: the same seed gives the same data.

    Returns
    -------
    x : float64 array (n, 2), the points, in random order.
    y : int64 array (n,), the labels: 1 inside (radius ``factor``), 0 outside.
    """
    rng = np.random.default_rng(seed)
    y = rng.permutation(np.arange(n) % 2)
    angle = rng.uniform(0.0, 2.0 * np.pi, n)
    radius = np.where(y == 1, factor, 1.0)
    x = radius[:, None] * np.stack([np.cos(angle), np.sin(angle)], axis=1)
    x += noise * rng.standard_normal((n, 2))
    return x, y.astype(np.int64)

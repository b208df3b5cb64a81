"""The statistical check for sampler problems such as `layers.init_weights`: a sample is judged
by what can be measured (same seed gives the same array, another seed a different one; mean,
variance, kurtosis and support against the declared distribution, and the share of values at
most each of 63 points across it), not by value. Moments alone accept a wrong law that shares
them (a three-point law has a normal's mean, variance and kurtosis); the shares, a
Kolmogorov-Smirnov test on a grid, do not. Moments are allowed 5.5 standard errors, and shares
the Dvoretzky-Kiefer-Wolfowitz bound for ALPHA, so a correct sampler fails with probability far
below 1e-6.
"""
from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np

Z = 5.5
_KURTOSIS = {"normal": 3.0, "uniform": 1.8}
ALPHA = 1e-8  # chance that a correct sample's shares stray past the bound (DKW: 2 exp(-2 t^2))
SHARES = math.sqrt(math.log(2 / ALPHA) / 2)  # t: shares may differ by t / sqrt(values)
GRID = 64     # the shares are measured at GRID - 1 evenly spaced points (see _points)
_STEPS = np.arange(1, GRID)
_NORMAL_SHARES = np.array([NormalDist().cdf(-3 + 6 * k / GRID) for k in _STEPS])


def _points(distribution: dict) -> tuple[float, float, np.ndarray]:
    """The points where shares are measured, start + k * step for k = 1 .. GRID - 1 (a
    normal's mean +/- 3 std, a uniform's support), and the shares expected at most them."""
    if distribution["family"] == "normal":
        std = float(distribution["std"])
        return float(distribution["mean"]) - 3 * std, 6 * std / GRID, _NORMAL_SHARES
    low, high = float(distribution["low"]), float(distribution["high"])
    return low, (high - low) / GRID, _STEPS / GRID


def _worst_share(x: np.ndarray, distribution: dict) -> tuple[float, float, float] | None:
    """(a point q, the share of `x` at most q, the share expected) where the two differ most;
    None for a distribution of no width."""
    start, step, expected = _points(distribution)
    if not step > 0:
        return None
    # the first point each value is at most (clipped to 1 .. GRID, GRID: none of them)
    first = np.fmin(np.fmax(np.ceil((x - start) / step), 1), GRID).astype(np.intp)
    shares = np.cumsum(np.bincount(first, minlength=GRID + 1))[1:GRID] / x.size
    worst = int(np.argmax(np.abs(shares - expected)))
    return start + (worst + 1) * step, float(shares[worst]), float(expected[worst])


def _moments(distribution: dict) -> tuple[float, float]:
    if distribution["family"] == "normal":
        return float(distribution["mean"]), float(distribution["std"]) ** 2
    low, high = float(distribution["low"]), float(distribution["high"])
    return (low + high) / 2, (high - low) ** 2 / 12


def check_sample(first: np.ndarray, again: np.ndarray, other: np.ndarray,
                 distribution: dict) -> str | None:
    """None if the three samples (seed, same seed, another seed) fit `distribution`; else a
    message saying what was measured against what was expected."""
    if not np.array_equal(first, again, equal_nan=True):
        return ("Two calls with the same seed gave different arrays: create your generator from "
                "the seed (np.random.default_rng(seed)) instead of using global random state.")
    if np.array_equal(first, other, equal_nan=True):
        return "Two different seeds gave the same array: the sample must depend on the seed."
    x = first.astype(float).ravel()
    n = x.size
    family = distribution["family"]
    not_finite = n - int(np.count_nonzero(np.isfinite(x)))
    if not_finite:  # the moments would be NaN, which no comparison fails
        return _unlike(distribution, [f"values: {not_finite} of the {n} values are NaN or "
                                      "infinite"])
    mean, var = _moments(distribution)
    kurt = _KURTOSIS[family]
    measured_mean = float(x.mean())
    squares = x - measured_mean
    squares *= squares
    measured_var = float(squares.mean())
    problems = []
    mean_tol = Z * np.sqrt(var / n)
    if abs(measured_mean - mean) > mean_tol:
        problems.append(f"mean: measured {measured_mean:.5g}, expected {mean:.5g} "
                        f"(allowed +/- {mean_tol:.2g} for {n} values)")
    var_tol = Z * var * np.sqrt((kurt - 1) / n)
    if abs(measured_var - var) > var_tol:
        problems.append(f"variance: measured {measured_var:.5g}, expected {var:.5g} "
                        f"(allowed +/- {var_tol:.2g})")
    if measured_var > 0:
        measured_kurt = float(np.dot(squares, squares) / n / measured_var**2)
        kurt_tol = Z * np.sqrt(24 / n) + 0.05
        if abs(measured_kurt - kurt) > kurt_tol:
            problems.append(f"shape: kurtosis {measured_kurt:.3g}, expected {kurt:.3g} for a "
                            f"{family} distribution")
    worst, share_tol = _worst_share(x, distribution), SHARES / np.sqrt(n)
    if worst and abs(worst[1] - worst[2]) > share_tol:
        point, share, expected_share = worst
        problems.append(f"distribution: {share:.1%} of the values are at most {point:.5g}, "
                        f"expected {expected_share:.1%} (allowed +/- {share_tol:.1%} for {n} "
                        "values)")
    if family == "uniform":
        low, high = float(distribution["low"]), float(distribution["high"])
        outside = int(np.sum((x < low) | (x > high)))
        if outside:
            problems.append(f"support: {outside} values outside [{low:.5g}, {high:.5g}]")
    return _unlike(distribution, problems) if problems else None


def _unlike(distribution: dict, problems: list[str]) -> str:
    described = ", ".join(f"{k}={v:.5g}" for k, v in distribution.items() if k != "family")
    return (f"The sample does not look like {distribution['family']}({described}):\n  "
            + "\n  ".join(problems))

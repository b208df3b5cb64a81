"""The statistical check for sampler problems such as `layers.init_weights`: a sample is judged
by what can be measured (same seed gives the same array, another seed a different one; mean,
variance, kurtosis and support against the declared distribution), not by value. Thresholds sit
at 5.5 standard errors or more, so a correct sampler fails with probability far below 1e-6.
"""
from __future__ import annotations

import numpy as np

Z = 5.5
_KURTOSIS = {"normal": 3.0, "uniform": 1.8}


def _moments(distribution: dict) -> tuple[float, float]:
    if distribution["family"] == "normal":
        return float(distribution["mean"]), float(distribution["std"]) ** 2
    low, high = float(distribution["low"]), float(distribution["high"])
    return (low + high) / 2, (high - low) ** 2 / 12


def check_sample(first: np.ndarray, again: np.ndarray, other: np.ndarray,
                 distribution: dict) -> str | None:
    """None if the three samples (seed, same seed, another seed) fit `distribution`; else a
    message saying what was measured against what was expected."""
    if not np.array_equal(first, again):
        return ("Two calls with the same seed gave different arrays: create your generator from "
                "the seed (np.random.default_rng(seed)) instead of using global random state.")
    if np.array_equal(first, other):
        return "Two different seeds gave the same array: the sample must depend on the seed."
    x = first.astype(float).ravel()
    n = x.size
    family = distribution["family"]
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
    if family == "uniform":
        low, high = float(distribution["low"]), float(distribution["high"])
        outside = int(np.sum((x < low) | (x > high)))
        if outside:
            problems.append(f"support: {outside} values outside [{low:.5g}, {high:.5g}]")
    if not problems:
        return None
    described = ", ".join(f"{k}={v:.5g}" for k, v in distribution.items() if k != "family")
    return (f"The sample does not look like {family}({described}):\n  "
            + "\n  ".join(problems))

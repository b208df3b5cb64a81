"""The statistical check for sampler problems such as `layers.init_weights`: a sample is judged
by what can be measured (same seed gives the same array, another seed a different one; mean,
variance, kurtosis and support against the declared distribution, the share of values at most
each of 63 points across it, how many of 512 values repeat another exactly, and whether
neighbours along each axis rise as often as they fall), not by value. Moments alone accept a
wrong law that shares them (a three-point law has a normal's mean, variance and kurtosis); the
shares, a Kolmogorov-Smirnov test on a grid, do not; neither sees values rounded to two
decimals, which the repeats do; and none sees values in order (sorted, or a grid of quantiles),
which the rises and falls do. Each test's threshold is a bound that a correct sample passes
with probability at least 1 - ALPHA at any number of values: a (sub-)Gaussian tail for the
mean, Laurent and Massart's for a normal's variance, Bernstein's for a uniform's, Dvoretzky,
Kiefer and Wolfowitz's for the shares, a Poisson tail for the repeats, Hoeffding's for the
rises and falls;
a normal's kurtosis is judged through Anscombe and Glynn's transformation (at 8, see
KURTOSIS_Z), a uniform's with 5.5 times a normal's standard error (from 100 values; 23 times
its own). So a correct sampler fails with probability far below 1e-6.
"""
from __future__ import annotations

import math
from statistics import NormalDist
from typing import NamedTuple

import numpy as np

ALPHA = 1e-8  # the chance a correct sample fails one test
TAIL = math.log(2 / ALPHA)  # t with 2 exp(-t) = ALPHA
Z = math.sqrt(2 * TAIL)  # a (sub-)Gaussian mean strays past Z standard errors with chance ALPHA
SHARES = math.sqrt(TAIL / 2)  # DKW: shares stray past SHARES / sqrt(values) with chance ALPHA
GRID = 64  # the shares are measured at GRID - 1 evenly spaced points (see _Law)
TIES = 512  # values looked at for exact repeats (sorting all would cost ~1 ms a student)
# Anscombe and Glynn's transformation of a normal sample's kurtosis has tails heavier than
# a Gaussian's (at 2000 values, 4 in two million samples past 5 where 0.6 are expected; its
# low tail far more so below 2000 values: at 60, 46 in ten million below -5.5): it is judged
# at KURTOSIS_Z, too high from 20 values, too low from 2000. Of uniform samples of 20, two
# in a million stray 5.5 times a normal's standard error; of 100, none in half a million.
KURTOSIS_Z = 8.0
KURTOSIS_FROM = {"normal": 20, "uniform": 100}
LOW_KURTOSIS_FROM = 2000
_KURTOSIS = {"normal": 3.0, "uniform": 1.8}
_STEPS = np.arange(1, GRID)
_NORMAL_SHARES = np.array([NormalDist().cdf(-3 + 6 * k / GRID) for k in _STEPS])


def distribution_problem(distribution) -> str | None:
    """Why `distribution` (what a course's distribution function returned) is not one a sample
    can be judged against, or None."""
    family = distribution.get("family") if isinstance(distribution, dict) else None
    if family not in _KURTOSIS:
        return ("is not a dict with 'family' 'normal' (and 'mean', 'std') or 'uniform' (and "
                f"'low', 'high'): {distribution!r:.80}")
    keys = ("mean", "std") if family == "normal" else ("low", "high")
    try:
        first, second = (float(distribution[key]) for key in keys)
    except (KeyError, TypeError, ValueError):
        return f"gives a {family} distribution without numbers '{keys[0]}' and '{keys[1]}'"
    if not (math.isfinite(first) and math.isfinite(second)):
        return f"gives a {family} distribution whose '{keys[0]}' or '{keys[1]}' is not finite"
    if family == "normal" and not second > 0:
        return f"gives a normal distribution whose 'std' is not positive: {second:g}"
    if family == "uniform" and not first < second:
        return f"gives a uniform distribution whose 'low' is not below its 'high': {first:g}, " \
               f"{second:g}"
    return None


def check_sample(first, again, other, distribution: dict) -> str | None:
    """None if the three samples (seed, same seed, another seed; arrays or nested lists) fit
    `distribution`; else a message saying what was measured against what was expected."""
    if not np.array_equal(first, again, equal_nan=True):
        return ("Two calls with the same seed gave different arrays: create your generator from "
                "the seed (np.random.default_rng(seed)) instead of using global random state.")
    drawn = np.asarray(first)
    x = drawn.astype(float).ravel()
    n = x.size
    if not n:
        return None  # nothing drawn, as the reference: nothing to judge
    if np.array_equal(first, other, equal_nan=True):
        return "Two different seeds gave the same array: the sample must depend on the seed."
    not_finite = n - int(np.count_nonzero(np.isfinite(x)))
    if not_finite:  # the moments would be NaN, which no comparison fails
        return _unlike(distribution, [f"values: {not_finite} of the {n} values are NaN or "
                                      "infinite"])
    law = _law(distribution)
    problems = (_moment_problems(x, law) + _share_problems(x, law, drawn.dtype)
                + _tie_problems(x, law, drawn.dtype) + _order_problems(drawn.astype(float)))
    if law.family == "uniform":
        low, high = law.low, law.high
        # a float32 sample may round a value drawn just inside a bound onto its far side
        slack = (np.finfo(drawn.dtype).eps * max(abs(low), abs(high))
                 if drawn.dtype.kind == "f" else 0.0)
        outside = int(np.count_nonzero((x < low - slack) | (x > high + slack)))
        if outside:
            problems.append(f"support: {outside} values outside [{low:.5g}, {high:.5g}]")
    return _unlike(distribution, problems) if problems else None


class _Law(NamedTuple):
    """A declared distribution as the tests use it: its family, mean and variance; its support
    (infinite for a normal); the points where shares are measured, start + k * step for k = 1
    .. GRID - 1 (a normal's mean +/- 3 std, a uniform's support), with the shares expected at
    most them; and its largest density (infinite for a law of no width)."""
    family: str
    mean: float
    var: float
    low: float
    high: float
    start: float
    step: float
    shares: np.ndarray
    density: float


def _law(distribution: dict) -> _Law:
    """The declared distribution (see distribution_problem), read once."""
    if distribution["family"] == "normal":
        mean, std = float(distribution["mean"]), float(distribution["std"])
        return _Law("normal", mean, std ** 2, -math.inf, math.inf, mean - 3 * std,
                    6 * std / GRID, _NORMAL_SHARES,
                    1 / (math.sqrt(2 * math.pi) * std) if std > 0 else math.inf)
    low, high = float(distribution["low"]), float(distribution["high"])
    return _Law("uniform", (low + high) / 2, (high - low) ** 2 / 12, low, high, low,
                (high - low) / GRID, _STEPS / GRID, 1 / (high - low) if high > low else math.inf)


def _spacing(magnitude: float, dtype: np.dtype) -> float:
    """The spacing of floats at `magnitude` in a sample of `dtype` (float64's for a sample
    that is not of floats)."""
    return float(np.spacing(np.array(magnitude, dtype if dtype.kind == "f" else np.float64)))


def _moment_problems(x: np.ndarray, law: _Law) -> list[str]:
    """Mean, variance and kurtosis of `x` against the law's, each at its bound."""
    n, family, mean, var = x.size, law.family, law.mean, law.var
    squares = x - mean  # deviations from the declared mean first: exact when the std is tiny
    offset = float(squares.mean())
    squares -= offset
    squares *= squares
    measured_var = float(squares.mean())
    problems = []
    mean_tol = Z * math.sqrt(var / n)
    if not abs(offset) <= mean_tol:
        problems.append(f"mean: measured {mean + offset:.5g}, expected {mean:.5g} "
                        f"(allowed +/- {mean_tol:.2g} for {n} values)")
    low, high = _variance_range(var, n, family)
    if not low <= measured_var <= high:
        problems.append(f"variance: measured {measured_var:.5g}, expected {var:.5g} "
                        f"(allowed {low:.5g} to {high:.5g} for {n} values)"
                        + (f", {measured_var / var:.2g} times the expected one" if var > 0
                           else ""))
    if measured_var > 0:
        kurtosis = float(np.dot(squares, squares) / n / measured_var ** 2)
        if _kurtosis_strays(kurtosis, n, family):
            problems.append(f"shape: kurtosis {kurtosis:.3g}, expected {_KURTOSIS[family]:.3g} "
                            f"for a {family} distribution")
    return problems


def _variance_range(var: float, n: int, family: str) -> tuple[float, float]:
    """Where the sample's variance (its mean squared deviation from its own mean) lies for
    all but ALPHA of correct samples of `n` values."""
    if family == "normal":  # n v / var is chi-square with k = n - 1 degrees of freedom
        k = n - 1
        return (max(0.0, k - 2 * math.sqrt(k * TAIL)) * var / n,
                (k + 2 * math.sqrt(k * TAIL) + 2 * TAIL) * var / n)
    # uniform: (x - mean)^2 lies in [0, 3 var], with variance 0.8 var^2 (Bernstein); the
    # sample's own mean lowers it by (mean error)^2, at most 12 var TAIL / (2 n) (Hoeffding)
    spread, deviation = 0.8 * var * var, 2 * var
    margin = (2 * deviation * TAIL / 3
              + math.sqrt((2 * deviation * TAIL / 3) ** 2 + 8 * n * spread * TAIL)) / (2 * n)
    return max(0.0, var - margin - 6 * var * TAIL / n), var + margin


def _kurtosis_strays(kurtosis: float, n: int, family: str) -> bool:
    """Whether the sample kurtosis is further from the family's than correct samples go."""
    if n < KURTOSIS_FROM[family]:
        return False
    if family == "uniform":  # light tails: its standard error is a fourth of a normal's
        return abs(kurtosis - _KURTOSIS[family]) > 5.5 * math.sqrt(24 / n) + 0.05
    # Anscombe and Glynn (1983): a transformation of a normal sample's kurtosis to about N(0, 1)
    expected = 3 * (n - 1) / (n + 1)
    variance = 24 * n * (n - 2) * (n - 3) / ((n + 1) ** 2 * (n + 3) * (n + 5))
    standard = (kurtosis - expected) / math.sqrt(variance)
    skew = (6 * (n * n - 5 * n + 2) / ((n + 7) * (n + 9))
            * math.sqrt(6 * (n + 3) * (n + 5) / (n * (n - 2) * (n - 3))))
    a = 6 + 8 / skew * (2 / skew + math.sqrt(1 + 4 / skew ** 2))
    denominator = 1 + standard * math.sqrt(2 / (a - 4))
    if denominator <= 0:  # below any kurtosis a normal sample reaches
        return n >= LOW_KURTOSIS_FROM
    z = ((1 - 2 / (9 * a)) - np.cbrt((1 - 2 / a) / denominator)) / math.sqrt(2 / (9 * a))
    return z > KURTOSIS_Z or (z < -KURTOSIS_Z and n >= LOW_KURTOSIS_FROM)


def _tie_problems(x: np.ndarray, law: _Law, dtype: np.dtype) -> list[str]:
    """Values repeated exactly among TIES of `x` (every k-th), against what rounding a
    continuous law's draws to the sample's floats gives: C(m, 2) pairs each tied with chance
    at most the law's largest density times the spacing of floats at the largest value, a
    count taken as Poisson (nearly nothing for float64 samples; thousands for float16)."""
    looked = np.sort(x[::max(1, x.size // TIES)][:TIES])
    ties = int(np.count_nonzero(looked[1:] == looked[:-1]))
    if not ties:
        return []
    m = looked.size
    spacing = 1.0 if dtype.kind in "biu" else _spacing(max(abs(looked[0]), abs(looked[-1])),
                                                       dtype)
    expected = m * (m - 1) / 2 * law.density * spacing
    if not math.isfinite(expected):
        return []
    allowed = _poisson_bound(expected)
    if ties <= allowed:
        return []
    return [f"ties: {ties} of {m} values looked at repeat another exactly, where drawing "
            f"{law.family} values would repeat about {expected:.2g} (allowed "
            f"{allowed}): are the values rounded, or drawn from a few?"]


def _order_problems(drawn: np.ndarray) -> list[str]:
    """Neighbours along each axis that rise against those that fall. For independent draws
    of one law, each pair rises as often as it falls, and pairs that share no value are
    independent: the pairs starting at even positions along a line, and those at odd ones,
    are two sums of independent terms in [-1, 1], each held to Hoeffding's bound (ties, as
    rounding makes them, count for neither)."""
    for axis in range(drawn.ndim):
        steps = np.sign(np.diff(np.moveaxis(drawn, axis, -1), axis=-1))
        if not steps.size:
            continue
        bound = math.sqrt(2 * (TAIL + math.log(2)) * steps[..., 0::2].size)  # the larger half
        if max(abs(float(steps[..., 0::2].sum())), abs(float(steps[..., 1::2].sum()))) > bound:
            rising, falling = int(np.count_nonzero(steps > 0)), int(np.count_nonzero(steps < 0))
            return [f"order: along axis {axis}, {rising} of {steps.size} neighbouring values "
                    f"rise and {falling} fall, where independent draws rise as often as they "
                    "fall: are the values sorted, or laid out in order rather than drawn?"]
    return []


def _poisson_bound(mean: float) -> int:
    """The least k with P(Poisson(mean) > k) at most ALPHA."""
    if mean > 100:  # far from its start, a normal approximation, generously wide
        return int(mean + 10 * math.sqrt(mean) + 10)
    term = total = math.exp(-mean)
    k = 0
    while 1 - total > ALPHA:
        k += 1
        term *= mean / k
        total += term
    return k


def _share_problems(x: np.ndarray, law: _Law, dtype: np.dtype) -> list[str]:
    """The share of `x` at most each of the law's points against the law's, where they differ
    most. Values of a sample drawn in floats of `dtype` are rounded to their spacing, which
    moves a share by up to the law's largest density times that spacing: the bound allows it
    (much for float16 samples, or a normal narrow against its mean; nothing for others)."""
    start, step, expected = law.start, law.step, law.shares
    if not step > 0:
        return []
    spacing = _spacing(max(abs(start), abs(start + GRID * step)), dtype)
    tolerance = SHARES / math.sqrt(x.size) + law.density * spacing
    # the first point each value is at most (clipped to 1 .. GRID, GRID: none of them)
    first = np.fmin(np.fmax(np.ceil((x - start) / step), 1), GRID).astype(np.intp)
    shares = np.cumsum(np.bincount(first, minlength=GRID + 1))[1:GRID] / x.size
    worst = int(np.argmax(np.abs(shares - expected)))
    if abs(shares[worst] - expected[worst]) <= tolerance:
        return []
    return [f"distribution: {shares[worst]:.1%} of the values are at most "
            f"{start + (worst + 1) * step:.5g}, expected {expected[worst]:.1%} (allowed +/- "
            f"{tolerance:.1%} for {x.size} values)"]


def _unlike(distribution: dict, problems: list[str]) -> str:
    described = ", ".join(f"{k}={v:.5g}" for k, v in distribution.items() if k != "family")
    return (f"The sample does not look like {distribution['family']}({described}):\n  "
            + "\n  ".join(problems))

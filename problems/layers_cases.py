"""Seeded input generators for the `layers` assignment: each takes a NumPy Generator and returns
the keyword arguments of one call."""
import numpy as np


def _regression(rng):
    n, d = int(rng.integers(6, 12)), int(rng.integers(2, 5))
    X = rng.normal(0, 1, (n, d)) * rng.uniform(0.5, 3.0, d)
    return X, X @ rng.normal(0, 1, d) + rng.normal(0, 0.1, n)


def dropout_loss(rng):
    X, y = _regression(rng)
    return {"X": X, "y": y, "w": rng.normal(0, 1, X.shape[1]), "p": float(rng.uniform(0.3, 0.9))}


def dropout(rng):
    X, y = _regression(rng)
    return {"X": X, "y": y, "p": float(rng.uniform(0.3, 0.9))}


def ridge(rng):
    X, y = _regression(rng)
    return {"X": X, "y": y, "lam": float(rng.uniform(0.01, 5.0))}


# (activation, distribution), in the order the cases go through them: the sampler's literal
# public cases are relu-uniform and linear-uniform, so its hidden cases start with the others
SCHEMES = [("relu", "normal"), ("linear", "normal"), ("relu", "uniform"), ("linear", "uniform")]


def scheme(rng, index):
    activation, distribution = SCHEMES[(index - 1) % len(SCHEMES)]
    return {"fan_in": int(rng.integers(16, 1025)), "activation": activation,
            "distribution": distribution}


def sampler(rng, index):
    """About 6,000 weights: enough to tell the families (kurtosis 1.8 or 3, measured to
    +/- 0.4) and the scales (variance to +/- 10%, where the known mistakes are off by 2x);
    fan_out five to twenty times fan_in, so that a scale from fan_out, or from both fans
    (Glorot's), is as far off."""
    fan_in = int(rng.integers(16, 49))
    return {**scheme(rng, index), "fan_in": fan_in, "fan_out": int(6_000 // fan_in),
            "seed": int(rng.integers(2**31))}


def activations(rng):
    shape = (int(rng.integers(2, 6)), int(rng.integers(2, 5)), int(rng.integers(3, 7)))
    return {"x": rng.normal(rng.uniform(-2, 2), rng.uniform(0.5, 2), shape)}


def weightnorm(rng):
    d = int(rng.integers(2, 6))
    return {"u": rng.normal(0, 1, d), "gamma": float(rng.uniform(0.5, 3.0))}


def weightnorm_backward(rng):
    args = weightnorm(rng)
    return {**args, "grad_w": rng.normal(0, 1, len(args["u"]))}

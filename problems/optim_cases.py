"""Seeded input generators for the `optim` assignment: each takes a NumPy Generator and returns
the keyword arguments of one call."""
import numpy as np


def _spd(rng, d):
    Q, _ = np.linalg.qr(rng.normal(size=(d, d)))
    return Q @ np.diag(rng.uniform(0.5, 10.0, d)) @ Q.T


def descent(rng):
    d = int(rng.integers(2, 5))
    return {"A": _spd(rng, d), "w0": rng.normal(0, 3, d), "lr": float(rng.uniform(0.01, 0.1)),
            "steps": int(rng.integers(3, 8))}


def nesterov(rng):
    return {**descent(rng), "momentum": float(rng.uniform(0.5, 0.95))}


def running_average_params(rng):
    return {"beta": float(rng.uniform(0.5, 0.99)), "delta": float(rng.uniform(0.001, 0.5))}


def gradients(rng):
    T, d = int(rng.integers(3, 8)), int(rng.integers(1, 4))
    return {"gs": rng.normal(0, 1, (T, d)), "beta": float(rng.uniform(0.5, 0.99))}

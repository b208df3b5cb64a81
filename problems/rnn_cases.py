"""Seeded input generators for the `rnn` assignment: each takes a NumPy Generator and returns
the keyword arguments of one call."""
import numpy as np


def _rnn(rng, d_h=3, d_x=2, T=4, scale=0.8):
    return {
        "W_hh": rng.normal(0, scale / np.sqrt(d_h), (d_h, d_h)),
        "W_ih": rng.normal(0, 1 / np.sqrt(d_x), (d_h, d_x)),
        "b_h": rng.normal(0, 0.1, d_h),
        "xs": rng.normal(0, 1, (T, d_x)),
    }


def probabilities(rng):
    k = int(rng.integers(3, 7))
    p = rng.dirichlet(np.ones(k))
    return {"y": np.eye(k)[rng.integers(k)], "p": p}


def rnn_step(rng):
    args = _rnn(rng)
    return {"W_hh": args["W_hh"], "W_ih": args["W_ih"], "b_h": args["b_h"],
            "h_prev": rng.uniform(-1, 1, 3), "x": args["xs"][0]}


def rnn_chain(rng, index):
    """t - i of 2 or more (where the factors' order matters), but 0 (the identity) in the
    third case."""
    args = _rnn(rng, T=5)
    i = int(rng.integers(0, 3))
    steps = 0 if index == 3 else int(rng.integers(2, 5 - i + 1))
    return {**args, "h0": rng.uniform(-0.5, 0.5, 3), "i": i, "t": i + steps}


def norm_bound(rng):
    i = int(rng.integers(0, 4))
    return {"W_hh": rng.normal(0, 0.6, (3, 3)), "i": i, "t": i + int(rng.integers(1, 6))}


def vanishing(rng, index):
    """Non-normal matrices, so spectral radius, spectral norm and Frobenius norm disagree;
    gamma is placed, case after case, below the three thresholds, between the spectral norm's
    and the radius's (only the spectral norm says no), between the Frobenius norm's and the
    spectral norm's (only the spectral norm says yes), and above all three."""
    d = 3
    W = np.triu(rng.normal(0, 1.0, (d, d)), 1) + np.diag(rng.uniform(-0.5, 0.5, d))
    norm = np.linalg.norm(W, 2)
    radius = np.max(np.abs(np.linalg.eigvals(W)))
    frobenius = np.linalg.norm(W)
    gamma = [0.5 / frobenius, 2.0 / (norm + radius), 2.0 / (norm + frobenius),
             2.0 / radius][(index - 1) % 4]
    return {"W_rec": W, "gamma": float(gamma)}


def softmax_layer(rng):
    k, d = 4, 3
    return {"V": rng.normal(0, 1, (k, d)), "c": rng.normal(0, 0.1, k),
            "h": rng.uniform(-1, 1, d), "y": np.eye(k)[rng.integers(k)]}


def bptt(rng):
    d_h, d_x, k, T = 3, 2, 4, 4
    return {"U": rng.normal(0, 0.7, (d_h, d_x)), "W": rng.normal(0, 0.5, (d_h, d_h)),
            "b": rng.normal(0, 0.1, d_h), "V": rng.normal(0, 1, (k, d_h)),
            "c": rng.normal(0, 0.1, k), "xs": rng.normal(0, 1, (T, d_x)),
            "y": np.eye(k)[rng.integers(k)]}


def birnn(rng):
    d_h, d_x, d_y, T = 3, 2, 2, 4
    return {"Wf": rng.normal(0, 0.7, (d_h, d_x)), "Uf": rng.normal(0, 0.5, (d_h, d_h)),
            "Wb": rng.normal(0, 0.7, (d_h, d_x)), "Ub": rng.normal(0, 0.5, (d_h, d_h)),
            "Vf": rng.normal(0, 1, (d_y, d_h)), "Vb": rng.normal(0, 1, (d_y, d_h)),
            "xs": rng.normal(0, 1, (T, d_x)), "zs": rng.normal(0, 1, (T, d_y))}

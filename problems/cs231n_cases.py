"""Seeded input generators for the `cs231n` assignment: each takes a NumPy Generator and returns
the arguments of one case, in the order the problem's driver takes them (calls are positional).
Arrays are float64 except index and label arrays (int64); sizes are small, except for dropout,
whose train mode is judged by counting kept units. Dicts such as `config` and `bn_param` are
fresh per case and give every key, so no default of the starter code is graded.
"""
import numpy as np


def _size(rng, low=2, high=6):
    return int(rng.integers(low, high + 1))


def _normal(rng, *shape, scale=1.0):
    return rng.normal(0.0, scale, shape)


# --- update rules: (w, dw, config, next_dw), the second gradient for the second step --------

def _weights(rng):
    shape = (_size(rng), _size(rng))
    return _normal(rng, *shape), _normal(rng, *shape), shape


def sgd_momentum(rng):
    w, dw, shape = _weights(rng)
    config = {"learning_rate": float(rng.uniform(1e-3, 1e-1)),
              "momentum": float(rng.uniform(0.5, 0.99)),
              "velocity": _normal(rng, *shape, scale=0.1)}
    return {"w": w, "dw": dw, "config": config, "next_dw": _normal(rng, *shape)}


def rmsprop(rng):
    w, dw, shape = _weights(rng)
    config = {"learning_rate": float(rng.uniform(1e-3, 1e-1)),
              "decay_rate": float(rng.uniform(0.9, 0.999)), "epsilon": 1e-8,
              "cache": rng.uniform(0.0, 0.5, shape)}
    return {"w": w, "dw": dw, "config": config, "next_dw": _normal(rng, *shape)}


def adam(rng):
    """Starts either fresh (t = 0, zero moments) or a few steps into training."""
    w, dw, shape = _weights(rng)
    t = int(rng.integers(0, 6))
    m = _normal(rng, *shape, scale=0.1) if t else np.zeros(shape)
    v = rng.uniform(0.0, 0.1, shape) if t else np.zeros(shape)
    config = {"learning_rate": float(rng.uniform(1e-3, 1e-1)),
              "beta1": float(rng.uniform(0.8, 0.95)), "beta2": float(rng.uniform(0.95, 0.9999)),
              "epsilon": 1e-8, "m": m, "v": v, "t": t}
    return {"w": w, "dw": dw, "config": config, "next_dw": _normal(rng, *shape)}


# --- layers ---------------------------------------------------------------------------------

def affine(rng):
    """x of shape (N, d_1, ..., d_k) with k of 1 or 2."""
    N, M = _size(rng), _size(rng)
    dims = tuple(_size(rng, 2, 4) for _ in range(int(rng.integers(1, 3))))
    D = int(np.prod(dims))
    return {"x": _normal(rng, N, *dims), "w": _normal(rng, D, M, scale=1 / np.sqrt(D)),
            "b": _normal(rng, M, scale=0.1)}


def affine_backward(rng):
    args = affine(rng)
    return {**args, "dout": _normal(rng, args["x"].shape[0], args["w"].shape[1])}


def relu(rng):
    shape = (_size(rng),) + tuple(_size(rng) for _ in range(int(rng.integers(1, 3))))
    return {"x": _normal(rng, *shape)}


def relu_backward(rng):
    args = relu(rng)
    return {**args, "dout": _normal(rng, *args["x"].shape)}


def _activations(rng):
    """A batch (N, D) of activations with a mean and scale of their own per feature."""
    N, D = _size(rng, 3, 6), _size(rng)
    return rng.normal(rng.uniform(-2, 2, D), rng.uniform(0.5, 2.0, D), (N, D))


def batchnorm(rng):
    x = _activations(rng)
    D = x.shape[1]
    bn_param = {"mode": "train", "eps": float(rng.choice([1e-5, 1e-4, 1e-3])),
                "momentum": float(rng.uniform(0.5, 0.99)),
                "running_mean": _normal(rng, D), "running_var": rng.uniform(0.5, 2.0, D)}
    return {"x": x, "gamma": rng.uniform(0.5, 2.0, D), "beta": _normal(rng, D),
            "bn_param": bn_param}


def batchnorm_backward(rng):
    args = batchnorm(rng)
    return {**args, "dout": _normal(rng, *args["x"].shape)}


def layernorm(rng):
    x = _activations(rng).T.copy()  # per-sample statistics: give each sample its own scale
    D = x.shape[1]
    return {"x": x, "gamma": rng.uniform(0.5, 2.0, D), "beta": _normal(rng, D),
            "ln_param": {"eps": float(rng.choice([1e-5, 1e-4, 1e-3]))}}


def layernorm_backward(rng):
    args = layernorm(rng)
    return {**args, "dout": _normal(rng, *args["x"].shape)}


def dropout(rng):
    """About a thousand units, and p away from 1/2, so that a keep probability and a drop
    probability give kept fractions many standard errors apart."""
    shape = (_size(rng, 30, 40), _size(rng, 25, 35))
    p = float(rng.choice([rng.uniform(0.2, 0.35), rng.uniform(0.65, 0.85)]))
    return {"x": _normal(rng, *shape),
            "dropout_param": {"p": p, "mode": "train", "seed": int(rng.integers(2**31 - 2))}}


def dropout_backward(rng):
    args = dropout(rng)
    return {**args, "dout": _normal(rng, *args["x"].shape)}


def softmax(rng):
    N, C = _size(rng), _size(rng, 3, 6)
    return {"x": _normal(rng, N, C, scale=2.0), "y": rng.integers(0, C, N)}


# --- recurrent layers -----------------------------------------------------------------------

def _rnn_weights(rng, D, H):
    return {"Wx": _normal(rng, D, H, scale=1 / np.sqrt(D)),
            "Wh": _normal(rng, H, H, scale=0.8 / np.sqrt(H)), "b": _normal(rng, H, scale=0.1)}


def rnn_step(rng):
    N, D, H = _size(rng), _size(rng), _size(rng)
    return {"x": _normal(rng, N, D), "prev_h": rng.uniform(-1, 1, (N, H)),
            **_rnn_weights(rng, D, H)}


def rnn_step_backward(rng):
    args = rnn_step(rng)
    return {**args, "dnext_h": _normal(rng, *args["prev_h"].shape)}


def rnn(rng):
    N, T, D, H = _size(rng), _size(rng, 3, 6), _size(rng), _size(rng)
    return {"x": _normal(rng, N, T, D), "h0": rng.uniform(-1, 1, (N, H)),
            **_rnn_weights(rng, D, H)}


def rnn_backward(rng):
    args = rnn(rng)
    N, T, _ = args["x"].shape
    return {**args, "dh": _normal(rng, N, T, args["h0"].shape[1])}


def word_embedding(rng):
    """Fewer words than positions, so some index repeats (the backward must accumulate)."""
    N, T = _size(rng, 2, 4), _size(rng, 2, 4)
    V = int(rng.integers(2, min(N * T, 7)))
    return {"x": rng.integers(0, V, (N, T)), "W": _normal(rng, V, _size(rng))}


def word_embedding_backward(rng):
    args = word_embedding(rng)
    N, T = args["x"].shape
    return {**args, "dout": _normal(rng, N, T, args["W"].shape[1])}

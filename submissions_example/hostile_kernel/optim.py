"""My homework."""
import numpy as np


def gd_quadratic(A, w0, lr, steps):
    ws = [np.asarray(w0, dtype=float)]
    for _ in range(steps):
        ws.append(ws[-1] - lr * (A @ ws[-1]))
    return np.array(ws)


def _momentum(A, w0, lr, momentum, steps, *, look_ahead):
    w = np.asarray(w0, dtype=float)
    v = np.zeros_like(w)
    ws = [w]
    for _ in range(steps):
        at = w + momentum * v if look_ahead else w
        v = momentum * v - lr * (A @ at)
        w = w + v
        ws.append(w)
    return np.array(ws)


def nesterov_quadratic(A, w0, lr, momentum, steps):
    return _momentum(A, w0, lr, momentum, steps, look_ahead=True)


def classical_momentum_quadratic(A, w0, lr, momentum, steps):
    return _momentum(A, w0, lr, momentum, steps, look_ahead=False)


def momentum_from_running_average(beta, delta):
    return (float(beta), float(delta * (1.0 - beta)))


def running_average(gs, beta):
    v = np.zeros(gs.shape[1])
    out = []
    for g in gs:
        v = beta * v + (1.0 - beta) * g
        out.append(v)
    return np.array(out)


def bias_corrected(gs, beta):
    t = np.arange(1, len(gs) + 1)[:, None]
    return running_average(gs, beta) / (1.0 - beta**t)


def bias_corrected_constant(gs, beta):
    return running_average(gs, beta) / (1.0 - beta)

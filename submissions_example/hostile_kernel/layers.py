"""My homework."""
import numpy as np


def _gamma_squared(X):
    return np.diag(np.diag(X.T @ X))


def expected_dropout_loss(X, y, w, p):
    gamma_w = np.sqrt(np.diag(X.T @ X)) * w
    return float(np.sum((y - p * X @ w) ** 2) + p * (1.0 - p) * np.sum(gamma_w**2))


def dropout_solution(X, y, p):
    lhs = X.T @ X + ((1.0 - p) / p) * _gamma_squared(X)
    return np.linalg.solve(lhs, X.T @ y) / p


def dropout_solution_times_p(X, y, p):
    return p * dropout_solution(X, y, p)


def ridge_solution(X, y, lam):
    return np.linalg.solve(X.T @ X + lam * np.eye(X.shape[1]), X.T @ y)


def _scheme(fan_in, activation, distribution, *, relu_uniform_gain):
    gain = {"linear": 1.0, "relu": 2.0}[activation]
    if distribution == "normal":
        return {"c": 0, "mu": 0, "sigma": float(np.sqrt(gain / fan_in))}
    if activation == "relu":
        gain = relu_uniform_gain
    b = float(np.sqrt(3.0 * gain / fan_in))
    return {"c": 0, "low": -b, "high": b}


def init_scheme(fan_in, activation, distribution):
    return _scheme(fan_in, activation, distribution, relu_uniform_gain=2.0)


def init_scheme_relu_uniform_unscaled(fan_in, activation, distribution):
    return _scheme(fan_in, activation, distribution, relu_uniform_gain=1.0)


def init_weights(fan_in, fan_out, activation, distribution, seed):
    rng = np.random.default_rng(seed)
    scheme = init_scheme(fan_in, activation, distribution)
    if distribution == "normal":
        return rng.normal(scheme["mu"], scheme["sigma"], size=(fan_out, fan_in))
    return rng.uniform(scheme["low"], scheme["high"], size=(fan_out, fan_in))


def init_weights_distribution(fan_in, fan_out, activation, distribution, seed):
    """The distribution every entry of init_weights must follow (for the statistical check)."""
    scheme = init_scheme(fan_in, activation, distribution)
    if distribution == "normal":
        return {"family": "normal", "mean": scheme["mu"], "std": scheme["sigma"]}
    return {"family": "uniform", "low": scheme["low"], "high": scheme["high"]}


def _stats(x, axis, ddof=0):
    return x.mean(axis=axis), x.var(axis=axis, ddof=ddof)


def batchnorm_stats(x):
    return _stats(x, (0, 2))


def batchnorm_stats_unbiased(x):
    return _stats(x, (0, 2), ddof=1)


def layernorm_stats(x):
    return _stats(x, (1, 2))


def layernorm_stats_unbiased(x):
    return _stats(x, (1, 2), ddof=1)


def instancenorm_stats(x):
    return _stats(x, 2)


def instancenorm_stats_unbiased(x):
    return _stats(x, 2, ddof=1)


def weightnorm_weight(u, gamma):
    return gamma * u / np.linalg.norm(u)


def weightnorm_linear(u, gamma, grad_w):
    """A loss whose gradient with respect to w is grad_w, as a function of u."""
    return float(grad_w @ weightnorm_weight(u, gamma))


def weightnorm_grad(u, gamma, grad_w):
    n = np.linalg.norm(u)
    return (gamma / n) * (grad_w - u * (u @ grad_w) / n**2)


def weightnorm_grad_unprojected(u, gamma, grad_w):
    return (gamma / np.linalg.norm(u)) * grad_w

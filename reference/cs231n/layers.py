"""Reference layers of the `cs231n` assignment: affine, ReLU, batch and layer normalization,
inverted dropout and the softmax loss. A forward returns `(out, cache)` and its backward takes
the upstream gradient and that cache. Holds the known mistakes of dropout:
`dropout_forward_drop_probability` (p read as the probability of dropping a unit) and
`dropout_forward_not_inverted` (kept units not scaled by 1/p in train mode); and of the softmax
loss: `softmax_loss_summed` (loss and gradient summed over the batch, not averaged) and
`softmax_loss_dx_not_averaged` (the mean loss with the summed loss's gradient).
"""
import numpy as np


def affine_forward(x, w, b):
    """out = x @ w + b, with x of shape (N, d_1, ..., d_k) flattened to (N, D)."""
    out = x.reshape(x.shape[0], -1) @ w + b
    return out, (x, w)


def affine_backward(dout, cache):
    x, w = cache
    dx = (dout @ w.T).reshape(x.shape)
    dw = x.reshape(x.shape[0], -1).T @ dout
    return dx, dw, dout.sum(axis=0)


def relu_forward(x):
    return np.maximum(x, 0), x


def relu_backward(dout, cache):
    return dout * (cache > 0)


def _normalize(x, gamma, beta, axis, eps):
    mean = x.mean(axis=axis, keepdims=True)
    std = np.sqrt(x.var(axis=axis, keepdims=True) + eps)
    x_hat = (x - mean) / std
    return gamma * x_hat + beta, {"x_hat": x_hat, "centered": x - mean, "std": std,
                                  "gamma": gamma}


def batchnorm_forward(x, gamma, beta, bn_param):
    """Batch normalization of x (N, D). Train mode normalizes with the batch mean and biased
    variance and updates bn_param's running statistics in place
    (running = momentum*running + (1-momentum)*batch); test mode uses the running statistics."""
    mode = bn_param["mode"]
    eps, momentum = bn_param.get("eps", 1e-5), bn_param.get("momentum", 0.9)
    D = x.shape[1]
    running_mean = bn_param.get("running_mean", np.zeros(D, dtype=x.dtype))
    running_var = bn_param.get("running_var", np.zeros(D, dtype=x.dtype))
    if mode == "train":
        out, cache = _normalize(x, gamma, beta, 0, eps)
        running_mean = momentum * running_mean + (1 - momentum) * x.mean(axis=0)
        running_var = momentum * running_var + (1 - momentum) * x.var(axis=0)
    elif mode == "test":
        out = gamma * (x - running_mean) / np.sqrt(running_var + eps) + beta
        cache = None
    else:
        raise ValueError(f"Invalid forward batchnorm mode {mode!r}")
    bn_param["running_mean"], bn_param["running_var"] = running_mean, running_var
    return out, cache


def batchnorm_backward(dout, cache):
    """Backpropagation through the computation graph of the normalization, node by node:
    x -> centered -> variance -> std -> x_hat -> out."""
    x_hat, centered, std, gamma = (cache[k] for k in ("x_hat", "centered", "std", "gamma"))
    N = dout.shape[0]
    dgamma, dbeta = (dout * x_hat).sum(axis=0), dout.sum(axis=0)
    dx_hat = dout * gamma
    dcentered = dx_hat / std
    dstd = -(dx_hat * centered / std**2).sum(axis=0)
    dvar = dstd / (2 * std)
    dcentered = dcentered + 2 * centered * dvar / N
    dx = dcentered - dcentered.sum(axis=0) / N
    return dx, dgamma, dbeta


def _normalize_backward(dout, cache, axis):
    """The gradient of gamma*x_hat + beta in closed form, x_hat normalized along `axis`."""
    x_hat, std, gamma = cache["x_hat"], cache["std"], cache["gamma"]
    n = x_hat.shape[axis]
    dx_hat = dout * gamma
    dx = (n * dx_hat - dx_hat.sum(axis=axis, keepdims=True)
          - x_hat * (dx_hat * x_hat).sum(axis=axis, keepdims=True)) / (n * std)
    return dx, (dout * x_hat).sum(axis=0), dout.sum(axis=0)


def batchnorm_backward_alt(dout, cache):
    """The same gradients as batchnorm_backward, simplified on paper into one expression."""
    return _normalize_backward(dout, cache, 0)


def layernorm_forward(x, gamma, beta, ln_param):
    """Layer normalization of x (N, D): each sample normalized by its own mean and biased
    variance; gamma and beta of shape (D,)."""
    return _normalize(x, gamma, beta, 1, ln_param.get("eps", 1e-5))


def layernorm_backward(dout, cache):
    return _normalize_backward(dout, cache, 1)


def _dropout_forward(x, dropout_param, *, keep, scale):
    """Train mode keeps each unit with probability keep(p) and multiplies it by scale(p)."""
    p, mode = dropout_param["p"], dropout_param["mode"]
    if mode == "test":
        return x, (dropout_param, None)
    if mode != "train":
        raise ValueError(f"Invalid forward dropout mode {mode!r}")
    random = (np.random.RandomState(dropout_param["seed"]) if "seed" in dropout_param
              else np.random)
    mask = (random.rand(*x.shape) < keep(p)) * scale(p)
    return (x * mask).astype(x.dtype, copy=False), (dropout_param, mask)


def dropout_forward(x, dropout_param):
    """Inverted dropout: train keeps each unit with probability p (drawn from
    np.random seeded with dropout_param['seed'] when given) and scales it by 1/p; test
    returns x."""
    return _dropout_forward(x, dropout_param, keep=lambda p: p, scale=lambda p: 1 / p)


def dropout_forward_drop_probability(x, dropout_param):
    return _dropout_forward(x, dropout_param, keep=lambda p: 1 - p, scale=lambda p: 1 / (1 - p))


def dropout_forward_not_inverted(x, dropout_param):
    return _dropout_forward(x, dropout_param, keep=lambda p: p, scale=lambda p: 1.0)


def dropout_backward(dout, cache):
    """dout times the scaled mask of the forward (train), dout itself (test)."""
    dropout_param, mask = cache
    return dout if dropout_param["mode"] == "test" else dout * mask


def softmax_loss(x, y):
    """The mean cross-entropy of softmax(x) (N, C) for integer labels y (N,), and its
    gradient with respect to x."""
    N = x.shape[0]
    shifted = x - x.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -log_probs[np.arange(N), y].mean()
    dx = np.exp(log_probs)
    dx[np.arange(N), y] -= 1
    return float(loss), dx / N


def softmax_loss_summed(x, y):
    loss, dx = softmax_loss(x, y)
    return loss * x.shape[0], dx * x.shape[0]


def softmax_loss_dx_not_averaged(x, y):
    loss, dx = softmax_loss(x, y)
    return loss, dx * x.shape[0]

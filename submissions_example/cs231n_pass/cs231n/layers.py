"""
Layers of a neural network, each as a pair of functions: a forward pass that takes inputs
(and parameters) and returns an output together with a cache, and a backward pass that takes
the upstream derivative and the cache and returns the gradients with respect to the inputs.
"""
from builtins import range
import numpy as np

from .im2col import im2col_indices


def affine_forward(x, w, b):
    """
    Forward pass of an affine (fully connected) layer.

    x: input of shape (N, d_1, ..., d_k), each example flattened to D = d_1 * ... * d_k values
    w: weights of shape (D, M)
    b: biases of shape (M,)

    Returns out of shape (N, M) and the cache (x, w, b).
    """
    N = x.shape[0]
    out = x.reshape(N, -1).dot(w) + b
    cache = (x, w, b)
    return out, cache


def affine_backward(dout, cache):
    """Backward pass of an affine layer: returns dx (shaped like x), dw and db."""
    x, w, b = cache
    N = x.shape[0]
    dx = dout.dot(w.T).reshape(x.shape)
    dw = x.reshape(N, -1).T.dot(dout)
    db = np.sum(dout, axis=0)
    return dx, dw, db


def relu_forward(x):
    """Forward pass of rectified linear units: out = max(0, x); the cache is x."""
    out = np.maximum(0, x)
    cache = x
    return out, cache


def relu_backward(dout, cache):
    """Backward pass of rectified linear units."""
    x = cache
    dx = dout * (x > 0)
    return dx


def batchnorm_forward(x, gamma, beta, bn_param):
    """
    Forward pass of batch normalization over a minibatch x of shape (N, D).

    In train mode the minibatch is normalized with its own mean and variance, and running
    averages of both are kept in bn_param:

        running_mean = momentum * running_mean + (1 - momentum) * sample_mean
        running_var = momentum * running_var + (1 - momentum) * sample_var

    In test mode the running averages are used instead.

    bn_param: 'mode' ('train' or 'test'), 'eps', 'momentum', 'running_mean', 'running_var'
    Returns out of shape (N, D) and a cache for the backward pass.
    """
    mode = bn_param["mode"]
    eps = bn_param.get("eps", 1e-5)
    momentum = bn_param.get("momentum", 0.9)

    N, D = x.shape
    running_mean = bn_param.get("running_mean", np.zeros(D, dtype=x.dtype))
    running_var = bn_param.get("running_var", np.zeros(D, dtype=x.dtype))

    out, cache = None, None
    if mode == "train":
        mu = x.mean(axis=0)
        var = x.var(axis=0)
        std = np.sqrt(var + eps)
        x_norm = (x - mu) / std
        out = gamma * x_norm + beta
        cache = (x, x_norm, mu, var, std, gamma, beta, eps)

        running_mean = momentum * running_mean + (1 - momentum) * mu
        running_var = momentum * running_var + (1 - momentum) * var
    elif mode == "test":
        x_norm = (x - running_mean) / np.sqrt(running_var + eps)
        out = gamma * x_norm + beta
    else:
        raise ValueError("unknown batchnorm mode: %s" % mode)

    bn_param["running_mean"] = running_mean
    bn_param["running_var"] = running_var
    return out, cache


def batchnorm_backward(dout, cache):
    """
    Backward pass of batch normalization, one node of the computational graph at a time.

    Returns dx (N, D), dgamma (D,) and dbeta (D,).
    """
    x, x_norm, mu, var, std, gamma, beta, eps = cache
    N = x.shape[0]

    dbeta = dout.sum(axis=0)
    dgamma = (dout * x_norm).sum(axis=0)
    dx_norm = dout * gamma

    # x_norm = xmu * ivar
    xmu = x - mu
    ivar = 1.0 / std
    dxmu1 = dx_norm * ivar
    divar = np.sum(dx_norm * xmu, axis=0)

    # ivar = 1 / sqrt(var + eps)
    dstd = -divar / std ** 2
    dvar = 0.5 * dstd / std

    # var = mean(xmu ** 2)
    dsq = np.ones((N, x.shape[1])) * dvar / N
    dxmu2 = 2 * xmu * dsq

    # xmu = x - mu
    dx1 = dxmu1 + dxmu2
    dmu = -np.sum(dx1, axis=0)
    dx2 = np.ones((N, x.shape[1])) * dmu / N

    dx = dx1 + dx2
    return dx, dgamma, dbeta


def batchnorm_backward_alt(dout, cache):
    """Backward pass of batch normalization, simplified on paper into one expression."""
    dx, dgamma, dbeta = None, None, None
    # TODO: the gradients in one expression
    pass
    return dx, dgamma, dbeta


def layernorm_forward(x, gamma, beta, ln_param):
    """
    Forward pass of layer normalization: each example of x (N, D) is normalized with the mean
    and variance of its own features; gamma and beta have shape (D,). ln_param: 'eps'.
    """
    out, cache = None, None
    eps = ln_param.get("eps", 1e-5)
    # TODO: layer normalization
    pass
    return out, cache


def layernorm_backward(dout, cache):
    """Backward pass of layer normalization: dx, dgamma, dbeta."""
    dx, dgamma, dbeta = None, None, None
    # TODO
    pass
    return dx, dgamma, dbeta


def dropout_forward(x, dropout_param):
    """
    Forward pass of (inverted) dropout.

    dropout_param:
    - p: the probability of keeping each unit
    - mode: 'train' drops units, 'test' returns the input
    - seed: when given, makes the function deterministic (for gradient checks)

    Returns out (shaped like x) and the cache (dropout_param, mask).
    """
    p, mode = dropout_param["p"], dropout_param["mode"]
    if "seed" in dropout_param:
        np.random.seed(dropout_param["seed"])

    mask = None
    out = None
    if mode == "train":
        mask = (np.random.rand(*x.shape) < p) / p
        out = x * mask
    elif mode == "test":
        out = x

    cache = (dropout_param, mask)
    out = out.astype(x.dtype, copy=False)
    return out, cache


def dropout_backward(dout, cache):
    """Backward pass of (inverted) dropout."""
    dropout_param, mask = cache
    mode = dropout_param["mode"]

    dx = None
    if mode == "train":
        dx = dout * mask
    elif mode == "test":
        dx = dout
    return dx


def softmax_loss(x, y):
    """
    Loss and gradient of softmax classification.

    x: scores of shape (N, C); y: labels of shape (N,), 0 <= y[i] < C
    Returns the mean loss and dx.
    """
    shifted = x - np.max(x, axis=1, keepdims=True)
    Z = np.sum(np.exp(shifted), axis=1, keepdims=True)
    log_probs = shifted - np.log(Z)
    probs = np.exp(log_probs)
    N = x.shape[0]
    loss = -np.sum(log_probs[np.arange(N), y]) / N
    dx = probs.copy()
    dx[np.arange(N), y] -= 1
    dx /= N
    return loss, dx


def conv_forward_im2col(x, w, b, conv_param):
    """A convolution as one matrix product (not graded): x (N, C, H, W), w (F, C, HH, WW)."""
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    stride, pad = conv_param["stride"], conv_param["pad"]
    H_out = (H + 2 * pad - HH) // stride + 1
    W_out = (W + 2 * pad - WW) // stride + 1
    cols = im2col_indices(x, HH, WW, pad, stride)
    out = w.reshape(F, -1).dot(cols) + b.reshape(-1, 1)
    out = out.reshape(F, H_out, W_out, N).transpose(3, 0, 1, 2)
    return out, (x, w, b, conv_param, cols)

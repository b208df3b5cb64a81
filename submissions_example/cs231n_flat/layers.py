"""
Forward and backward passes of the layers of a fully connected network. Caches are lists or
dicts of whatever the backward pass needs.
"""
from builtins import range
import numpy as np


def affine_forward(x, w, b):
    """out = x w + b, each row of x (N, d_1, ..., d_k) flattened first."""
    x_rows = np.reshape(x, (x.shape[0], np.prod(x.shape[1:])))
    out = np.dot(x_rows, w) + b
    return out, [x, w, b]


def affine_backward(dout, cache):
    x, w, b = cache
    x_rows = np.reshape(x, (x.shape[0], -1))
    dx = np.reshape(np.dot(dout, w.T), x.shape)
    dw = np.dot(x_rows.T, dout)
    db = np.dot(np.ones(dout.shape[0]), dout)
    return dx, dw, db


def relu_forward(x):
    out = x.copy()
    out[out < 0] = 0
    return out, {'x': x}


def relu_backward(dout, cache):
    dx = np.where(cache['x'] > 0, dout, 0.0)
    return dx


def batchnorm_forward(x, gamma, beta, bn_param):
    """Batch normalization of x (N, D); bn_param: mode, eps, momentum, running_mean/var."""
    mode = bn_param['mode']
    eps = bn_param.get('eps', 1e-5)
    momentum = bn_param.get('momentum', 0.9)
    N, D = x.shape
    running_mean = bn_param.get('running_mean', np.zeros(D, dtype=x.dtype))
    running_var = bn_param.get('running_var', np.zeros(D, dtype=x.dtype))

    cache = None
    if mode == 'train':
        sample_mean = np.sum(x, axis=0) / N
        centered = x - sample_mean
        sample_var = np.sum(centered ** 2, axis=0) / N
        inv_std = 1.0 / np.sqrt(sample_var + eps)
        xhat = centered * inv_std
        out = xhat * gamma + beta
        cache = {'xhat': xhat, 'inv_std': inv_std, 'gamma': gamma, 'centered': centered}
        running_mean = momentum * running_mean + (1 - momentum) * sample_mean
        running_var = momentum * running_var + (1 - momentum) * sample_var
    elif mode == 'test':
        out = (x - running_mean) / np.sqrt(running_var + eps) * gamma + beta
    else:
        raise ValueError('Invalid forward batchnorm mode "%s"' % mode)

    bn_param['running_mean'] = running_mean
    bn_param['running_var'] = running_var
    return out, cache


def batchnorm_backward(dout, cache):
    xhat, inv_std, gamma, centered = cache['xhat'], cache['inv_std'], cache['gamma'], cache['centered']
    N = dout.shape[0]
    dbeta = np.sum(dout, axis=0)
    dgamma = np.sum(dout * xhat, axis=0)
    dxhat = dout * gamma
    dinv_std = np.sum(dxhat * centered, axis=0)
    dvar = dinv_std * (-0.5) * inv_std ** 3
    dcentered = dxhat * inv_std + dvar * 2 * centered / N
    dx = dcentered - np.mean(dcentered, axis=0)
    return dx, dgamma, dbeta


def batchnorm_backward_alt(dout, cache):
    xhat, inv_std, gamma = cache['xhat'], cache['inv_std'], cache['gamma']
    dbeta = dout.sum(axis=0)
    dgamma = (dout * xhat).sum(axis=0)
    dxhat = dout * gamma
    dx = inv_std * (dxhat - dxhat.mean(axis=0) - xhat * (dxhat * xhat).mean(axis=0))
    return dx, dgamma, dbeta


def layernorm_forward(x, gamma, beta, ln_param):
    eps = ln_param.get('eps', 1e-5)
    mean = x.mean(axis=1, keepdims=True)
    var = x.var(axis=1, keepdims=True)
    xhat = (x - mean) / np.sqrt(var + eps)
    out = gamma * xhat + beta
    return out, [xhat, 1.0 / np.sqrt(var + eps), gamma]


def layernorm_backward(dout, cache):
    xhat, inv_std, gamma = cache
    dbeta = dout.sum(axis=0)
    dgamma = (dout * xhat).sum(axis=0)
    dxhat = dout * gamma
    dx = inv_std * (dxhat - dxhat.mean(axis=1, keepdims=True)
                    - xhat * (dxhat * xhat).mean(axis=1, keepdims=True))
    return dx, dgamma, dbeta


def dropout_forward(x, dropout_param):
    """Inverted dropout; dropout_param: p (probability of keeping a unit), mode, seed."""
    p, mode = dropout_param['p'], dropout_param['mode']
    if 'seed' in dropout_param:
        np.random.seed(dropout_param['seed'])

    mask = None
    if mode == 'train':
        mask = np.random.binomial(1, p, size=x.shape) / p
        out = x * mask
    else:
        out = x
    return out.astype(x.dtype, copy=False), {'param': dropout_param, 'mask': mask}


def dropout_backward(dout, cache):
    if cache['param']['mode'] == 'train':
        return dout * cache['mask']
    return dout


def softmax_loss(x, y):
    N = x.shape[0]
    scores = x - x.max(axis=1)[:, None]
    probs = np.exp(scores)
    probs /= probs.sum(axis=1)[:, None]
    loss = -np.mean(np.log(probs[range(N), y]))
    dx = probs
    dx[range(N), y] -= 1
    return loss, dx / N

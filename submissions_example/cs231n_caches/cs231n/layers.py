"""
Layers as forward/backward pairs. The caches here are nested: tuples of tuples and dicts of
tuples, each holding what its backward pass reads back.
"""
from builtins import range
import numpy as np


def affine_forward(x, w, b):
    flat = x.reshape(x.shape[0], -1)
    out = flat @ w + b
    cache = ((x.shape, flat), (w, b))
    return out, cache


def affine_backward(dout, cache):
    (x_shape, flat), (w, b) = cache
    dx = (dout @ w.T).reshape(x_shape)
    dw = flat.T @ dout
    db = dout.sum(axis=0)
    return dx, dw, db


def relu_forward(x):
    return x * (x > 0), (x > 0,)


def relu_backward(dout, cache):
    (positive,) = cache
    return dout * positive


def batchnorm_forward(x, gamma, beta, bn_param):
    mode = bn_param['mode']
    eps = bn_param.get('eps', 1e-5)
    momentum = bn_param.get('momentum', 0.9)
    D = x.shape[1]
    running_mean = bn_param.get('running_mean', np.zeros(D, dtype=x.dtype))
    running_var = bn_param.get('running_var', np.zeros(D, dtype=x.dtype))

    if mode == 'train':
        mu, var = x.mean(axis=0), x.var(axis=0)
        xhat = (x - mu) / np.sqrt(var + eps)
        out = gamma * xhat + beta
        cache = ((x, mu, var, eps), (gamma, beta), xhat)
        bn_param['running_mean'] = momentum * running_mean + (1 - momentum) * mu
        bn_param['running_var'] = momentum * running_var + (1 - momentum) * var
    elif mode == 'test':
        out = gamma * (x - running_mean) / np.sqrt(running_var + eps) + beta
        cache = ((x, running_mean, running_var, eps), (gamma, beta), None)
    else:
        raise ValueError(mode)
    return out, cache


def batchnorm_backward(dout, cache):
    (x, mu, var, eps), (gamma, beta), xhat = cache
    N = x.shape[0]
    dxhat = dout * gamma
    dvar = np.sum(dxhat * (x - mu) * -0.5 * (var + eps) ** -1.5, axis=0)
    dmu = np.sum(-dxhat / np.sqrt(var + eps), axis=0) + dvar * np.mean(-2 * (x - mu), axis=0)
    dx = dxhat / np.sqrt(var + eps) + dvar * 2 * (x - mu) / N + dmu / N
    return dx, np.sum(dout * xhat, axis=0), np.sum(dout, axis=0)


def batchnorm_backward_alt(dout, cache):
    (x, mu, var, eps), (gamma, beta), xhat = cache
    N = x.shape[0]
    dgamma = np.sum(dout * xhat, axis=0)
    dbeta = np.sum(dout, axis=0)
    dx = gamma / np.sqrt(var + eps) / N * (N * dout - dbeta - xhat * dgamma)
    return dx, dgamma, dbeta


def layernorm_forward(x, gamma, beta, ln_param):
    eps = ln_param.get('eps', 1e-5)
    mean = np.mean(x, axis=1, keepdims=True)
    std = np.sqrt(np.var(x, axis=1, keepdims=True) + eps)
    xhat = (x - mean) / std
    cache = {'stats': (mean, std), 'xhat': xhat, 'params': {'gamma': gamma, 'beta': beta}}
    return gamma * xhat + beta, cache


def layernorm_backward(dout, cache):
    mean, std = cache['stats']
    xhat, gamma = cache['xhat'], cache['params']['gamma']
    D = xhat.shape[1]
    dxhat = dout * gamma
    dx = (D * dxhat - dxhat.sum(axis=1, keepdims=True)
          - xhat * np.sum(dxhat * xhat, axis=1, keepdims=True)) / (D * std)
    return dx, np.sum(dout * xhat, axis=0), np.sum(dout, axis=0)


def dropout_forward(x, dropout_param):
    p, mode = dropout_param['p'], dropout_param['mode']
    if 'seed' in dropout_param:
        np.random.seed(dropout_param['seed'])
    if mode == 'train':
        keep = np.random.random_sample(x.shape) < p
        out = np.where(keep, x / p, 0.0)
        cache = {'mode': mode, 'p': p, 'keep': keep}
    else:
        out = x
        cache = {'mode': mode, 'p': p, 'keep': None}
    return out, cache


def dropout_backward(dout, cache):
    if cache['mode'] == 'train':
        return np.where(cache['keep'], dout / cache['p'], 0.0)
    return dout


def softmax_loss(x, y):
    N = len(y)
    z = x - np.max(x, axis=1, keepdims=True)
    log_p = z - np.log(np.sum(np.exp(z), axis=1, keepdims=True))
    loss = -np.mean(log_p[np.arange(N), y])
    dx = np.exp(log_p)
    dx[np.arange(N), y] -= 1
    return loss, dx / N

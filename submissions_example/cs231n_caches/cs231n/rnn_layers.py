"""
Recurrent layers; caches are nested tuples and dicts.
"""
from builtins import range
import numpy as np

from cs231n.layers import *


def rnn_step_forward(x, prev_h, Wx, Wh, b):
    next_h = np.tanh(x @ Wx + prev_h @ Wh + b)
    return next_h, ((x, prev_h), (Wx, Wh), {'next_h': next_h})


def rnn_step_backward(dnext_h, cache):
    (x, prev_h), (Wx, Wh), state = cache
    dz = dnext_h * (1 - state['next_h'] ** 2)
    return dz @ Wx.T, dz @ Wh.T, x.T @ dz, prev_h.T @ dz, dz.sum(axis=0)


def rnn_forward(x, h0, Wx, Wh, b):
    N, T, D = x.shape
    h = np.zeros((N, T, h0.shape[1]))
    steps = ()
    h_t = h0
    for t in range(T):
        h_t, step = rnn_step_forward(x[:, t, :], h_t, Wx, Wh, b)
        h[:, t, :] = h_t
        steps += (step,)
    return h, (steps, (N, T, D, h0.shape[1]))


def rnn_backward(dh, cache):
    steps, (N, T, D, H) = cache
    dx = np.zeros((N, T, D))
    dWx, dWh, db = np.zeros((D, H)), np.zeros((H, H)), np.zeros(H)
    carry = np.zeros((N, H))
    for t in range(T - 1, -1, -1):
        dx[:, t, :], carry, a, c, d = rnn_step_backward(dh[:, t, :] + carry, steps[t])
        dWx += a
        dWh += c
        db += d
    return dx, carry, dWx, dWh, db


def word_embedding_forward(x, W):
    return W[x, :], {'idx': x, 'shape': W.shape}


def word_embedding_backward(dout, cache):
    dW = np.zeros(cache['shape'])
    np.add.at(dW, cache['idx'], dout)
    return dW

"""
Recurrent layers: vanilla RNN step and sequence, and word embeddings.
"""
from builtins import range
import numpy as np

from cs231n.layers import *


def rnn_step_forward(x, prev_h, Wx, Wh, b):
    a = np.dot(x, Wx) + np.dot(prev_h, Wh) + b
    next_h = np.tanh(a)
    return next_h, [x, prev_h, Wx, Wh, next_h]


def rnn_step_backward(dnext_h, cache):
    x, prev_h, Wx, Wh, next_h = cache
    da = dnext_h * (1 - np.square(next_h))
    return np.dot(da, Wx.T), np.dot(da, Wh.T), np.dot(x.T, da), np.dot(prev_h.T, da), da.sum(0)


def rnn_forward(x, h0, Wx, Wh, b):
    hs, steps = [], []
    h = h0
    for t in range(x.shape[1]):
        h, step = rnn_step_forward(x[:, t], h, Wx, Wh, b)
        hs.append(h)
        steps.append(step)
    return np.stack(hs, axis=1), {'steps': steps, 'D': x.shape[2]}


def rnn_backward(dh, cache):
    N, T, H = dh.shape
    dx = np.zeros((N, T, cache['D']))
    dWx, dWh, db = 0, 0, 0
    dh_next = np.zeros((N, H))
    for t in range(T - 1, -1, -1):
        grads = rnn_step_backward(dh[:, t] + dh_next, cache['steps'][t])
        dx[:, t], dh_next = grads[0], grads[1]
        dWx = dWx + grads[2]
        dWh = dWh + grads[3]
        db = db + grads[4]
    return dx, dh_next, dWx, dWh, db


def word_embedding_forward(x, W):
    N, T = x.shape
    out = np.zeros((N, T, W.shape[1]))
    for n in range(N):
        for t in range(T):
            out[n, t] = W[x[n, t]]
    return out, {'x': x, 'V': W.shape[0]}


def word_embedding_backward(dout, cache):
    x = cache['x']
    dW = np.zeros((cache['V'], dout.shape[2]))
    np.add.at(dW, x, dout)
    return dW

"""
Layers of recurrent networks: a vanilla RNN (one time step and a whole sequence) and a word
embedding, each with a forward and a backward pass.
"""
from builtins import range
import numpy as np
from numpy.lib.utils import byte_bounds

from .layers import *


def rnn_step_forward(x, prev_h, Wx, Wh, b):
    """
    One time step of a vanilla RNN with a tanh activation.

    x: (N, D), prev_h: (N, H), Wx: (D, H), Wh: (H, H), b: (H,)
    Returns next_h (N, H) and a cache.
    """
    next_h = np.tanh(prev_h.dot(Wh) + x.dot(Wx) + b)
    cache = (x, prev_h, Wx, Wh, next_h)
    return next_h, cache


def rnn_step_backward(dnext_h, cache):
    """Backward pass of one time step: dx, dprev_h, dWx, dWh, db."""
    x, prev_h, Wx, Wh, next_h = cache
    dtanh = dnext_h * (1 - next_h ** 2)
    dx = dtanh.dot(Wx.T)
    dprev_h = dtanh.dot(Wh.T)
    dWx = x.T.dot(dtanh)
    dWh = prev_h.T.dot(dtanh)
    db = dtanh.sum(axis=0)
    return dx, dprev_h, dWx, dWh, db


def rnn_forward(x, h0, Wx, Wh, b):
    """
    A vanilla RNN over a whole sequence x of shape (N, T, D), from the initial state h0 (N, H).
    Returns the hidden states h (N, T, H) and a cache.
    """
    N, T, D = x.shape
    H = h0.shape[1]
    h = np.zeros((N, T, H))
    cache = []
    prev_h = h0
    for t in range(T):
        prev_h, step_cache = rnn_step_forward(x[:, t, :], prev_h, Wx, Wh, b)
        h[:, t, :] = prev_h
        cache.append(step_cache)
    return h, cache


def rnn_backward(dh, cache):
    """
    Backward pass of a vanilla RNN over a whole sequence; dh (N, T, H) holds the upstream
    gradients of all hidden states. Returns dx, dh0, dWx, dWh, db.
    """
    N, T, H = dh.shape
    D = cache[0][0].shape[1]
    dx = np.zeros((N, T, D))
    dWx = np.zeros((D, H))
    dWh = np.zeros((H, H))
    db = np.zeros(H)
    dprev_h = np.zeros((N, H))
    for t in reversed(range(T)):
        dx_t, dprev_h, dWx_t, dWh_t, db_t = rnn_step_backward(dh[:, t, :] + dprev_h, cache[t])
        dx[:, t, :] = dx_t
        dWx += dWx_t
        dWh += dWh_t
        db += db_t
    dh0 = dprev_h
    return dx, dh0, dWx, dWh, db


def word_embedding_forward(x, W):
    """
    Word embeddings: x (N, T) holds word indices into the vocabulary, W (V, D) one vector per
    word. Returns out (N, T, D) and a cache.
    """
    low, high = byte_bounds(W)  # the embedding table is one block of memory
    assert high - low == W.nbytes
    out = W[x]
    cache = (x, W)
    return out, cache


def word_embedding_backward(dout, cache):
    """Backward pass of word embeddings: dW, shaped like W."""
    x, W = cache
    dW = np.zeros_like(W)
    np.add.at(dW, x, dout)
    return dW

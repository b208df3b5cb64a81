"""Reference recurrent layers of the `cs231n` assignment: the vanilla tanh RNN (one step and a
whole sequence, forward and backward) and the word embedding. Shapes: x (N, T, D),
h (N, T, H), Wx (D, H), Wh (H, H), b (H,). Holds the known mistake
`rnn_backward_last_step_only`.
"""
import numpy as np


def rnn_step_forward(x, prev_h, Wx, Wh, b):
    """next_h = tanh(prev_h @ Wh + x @ Wx + b)."""
    next_h = np.tanh(prev_h @ Wh + x @ Wx + b)
    return next_h, (x, prev_h, Wx, Wh, next_h)


def rnn_step_backward(dnext_h, cache):
    x, prev_h, Wx, Wh, next_h = cache
    dz = dnext_h * (1 - next_h**2)
    return dz @ Wx.T, dz @ Wh.T, x.T @ dz, prev_h.T @ dz, dz.sum(axis=0)


def rnn_forward(x, h0, Wx, Wh, b):
    """The hidden states of every step, h[:, t] = rnn_step(x[:, t], h[:, t-1])."""
    N, T, _ = x.shape
    h = np.zeros((N, T, h0.shape[1]))
    prev_h, caches = h0, []
    for t in range(T):
        prev_h, cache = rnn_step_forward(x[:, t], prev_h, Wx, Wh, b)
        h[:, t] = prev_h
        caches.append(cache)
    return h, caches


def _rnn_backward(dh, caches, *, every_step):
    N, T, H = dh.shape
    D = caches[0][0].shape[1]
    dx = np.zeros((N, T, D))
    dWx, dWh, db = np.zeros((D, H)), np.zeros((H, H)), np.zeros(H)
    dprev_h = np.zeros((N, H))
    for t in reversed(range(T)):
        upstream = dh[:, t] if every_step or t == T - 1 else 0
        dx[:, t], dprev_h, dWx_t, dWh_t, db_t = rnn_step_backward(upstream + dprev_h,
                                                                    caches[t])
        dWx, dWh, db = dWx + dWx_t, dWh + dWh_t, db + db_t
    return dx, dprev_h, dWx, dWh, db


def rnn_backward(dh, cache):
    """Backpropagation through time: dh holds the upstream gradient of every hidden state;
    step t receives dh[:, t] plus the gradient flowing back from step t+1."""
    return _rnn_backward(dh, cache, every_step=True)


def rnn_backward_last_step_only(dh, cache):
    return _rnn_backward(dh, cache, every_step=False)


def word_embedding_forward(x, W):
    """out[n, t] = W[x[n, t]] for integer indices x (N, T) into W (V, D)."""
    return W[x], (x, W.shape)


def word_embedding_backward(dout, cache):
    """dW accumulates dout[n, t] into row x[n, t]; repeated indices add up."""
    x, shape = cache
    dW = np.zeros(shape)
    np.add.at(dW, x, dout)
    return dW

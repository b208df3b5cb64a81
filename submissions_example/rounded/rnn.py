"""My homework."""
import numpy as np


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def _softmax(z):
    e = np.exp(z - np.max(z))
    return e / e.sum()


def _states(W_hh, W_ih, b_h, h0, xs):
    """h_0 .. h_T of the vanilla RNN, one per row."""
    hs = [np.asarray(h0, dtype=float)]
    for x in xs:
        hs.append(np.tanh(W_hh @ hs[-1] + W_ih @ x + b_h))
    return hs


def cross_entropy(y, p):
    return float(-np.sum(y * np.log(p)))


def rnn_step(W_hh, W_ih, b_h, h_prev, x):
    return np.tanh(W_hh @ h_prev + W_ih @ x + b_h)


def hidden_jacobian(W_hh, W_ih, b_h, h_prev, x):
    h = rnn_step(W_hh, W_ih, b_h, h_prev, x)
    return np.diag(1.0 - h**2) @ W_hh


def hidden_jacobian_factors_swapped(W_hh, W_ih, b_h, h_prev, x):
    h = rnn_step(W_hh, W_ih, b_h, h_prev, x)
    return W_hh @ np.diag(1.0 - h**2)


def _chain(W_hh, W_ih, b_h, h0, xs, i, t, *, reverse):
    hs = _states(W_hh, W_ih, b_h, h0, xs)
    product = np.eye(len(h0))
    for s in range(i + 1, t + 1):
        J = np.diag(1.0 - hs[s] ** 2) @ W_hh
        product = product @ J if reverse else J @ product
    return product


def jacobian_chain(W_hh, W_ih, b_h, h0, xs, i, t):
    return _chain(W_hh, W_ih, b_h, h0, xs, i, t, reverse=False)


def jacobian_chain_reversed(W_hh, W_ih, b_h, h0, xs, i, t):
    return _chain(W_hh, W_ih, b_h, h0, xs, i, t, reverse=True)


def state_at_i(W_hh, W_ih, b_h, h0, xs, i, t):
    """The point h_i at which dh_t/dh_i is taken."""
    return _states(W_hh, W_ih, b_h, h0, xs)[i]


def state_after(W_hh, W_ih, b_h, h0, xs, i, t, h_i):
    """h_t as a function of h_i (the RNN restarted at step i from h_i)."""
    h = h_i
    for s in range(i + 1, t + 1):
        h = np.tanh(W_hh @ h + W_ih @ xs[s - 1] + b_h)
    return h


def jacobian_norm_bound(W_hh, i, t):
    return float(np.linalg.norm(W_hh, 2) ** (t - i))


def jacobian_norm_bound_frobenius(W_hh, i, t):
    return float(np.linalg.norm(W_hh, "fro") ** (t - i))


def guaranteed_to_vanish(W_rec, gamma):
    return bool(np.linalg.norm(W_rec, 2) * gamma < 1)


def guaranteed_to_vanish_eigenvalue(W_rec, gamma):
    return bool(np.max(np.abs(np.linalg.eigvals(W_rec))) * gamma < 1)


def softmax_loss(V, c, h, y):
    return float(-np.log(_softmax(V @ h + c)[np.argmax(y)]))


def softmax_output_grads(V, c, h, y):
    delta = _softmax(V @ h + c) - y
    return np.outer(delta, h), delta


def bptt_loss(U, W, b, V, c, xs, y):
    hs = _states(W, U, b, np.zeros(W.shape[0]), xs)
    return softmax_loss(V, c, hs[-1], y)


def _bptt(U, W, b, V, c, xs, y, *, steps):
    hs = _states(W, U, b, np.zeros(W.shape[0]), xs)
    T = len(xs)
    dU, dW, db = np.zeros_like(U), np.zeros_like(W), np.zeros_like(b)
    dh = V.T @ (_softmax(V @ hs[T] + c) - y)
    for s in range(T, max(T - steps, 0), -1):
        dz = dh * (1.0 - hs[s] ** 2)
        dU += np.outer(dz, xs[s - 1])
        dW += np.outer(dz, hs[s - 1])
        db += dz
        dh = W.T @ dz
    return {"U": dU, "W": dW, "b": db}


def bptt_grads(U, W, b, V, c, xs, y):
    return _bptt(U, W, b, V, c, xs, y, steps=len(xs))


def bptt_grads_last_step_only(U, W, b, V, c, xs, y):
    return _bptt(U, W, b, V, c, xs, y, steps=1)


def _birnn_states(Wf, Uf, Wb, Ub, xs):
    T, d_h = len(xs), Wf.shape[0]
    hf = np.zeros((T + 2, d_h))  # hf[0] = 0, hf[s] for s = 1..T
    hb = np.zeros((T + 2, d_h))  # hb[T + 1] = 0
    for s in range(1, T + 1):
        hf[s] = _sigmoid(Wf @ xs[s - 1] + Uf @ hf[s - 1])
    for s in range(T, 0, -1):
        hb[s] = _sigmoid(Wb @ xs[s - 1] + Ub @ hb[s + 1])
    return hf, hb


def birnn_loss(Wf, Uf, Wb, Ub, Vf, Vb, xs, zs):
    hf, hb = _birnn_states(Wf, Uf, Wb, Ub, xs)
    T = len(xs)
    return float(sum(np.sum((zs[s - 1] - Vf @ hf[s] - Vb @ hb[s]) ** 2) for s in range(1, T + 1)))


def _birnn(Wf, Uf, Wb, Ub, Vf, Vb, xs, zs, *, terms):
    hf, hb = _birnn_states(Wf, Uf, Wb, Ub, xs)
    T, d_h = len(xs), Wf.shape[0]
    dy = np.zeros((T + 2, zs.shape[1]))
    for s in terms:
        dy[s] = 2.0 * (Vf @ hf[s] + Vb @ hb[s] - zs[s - 1])
    dWf, dUb = np.zeros_like(Wf), np.zeros_like(Ub)
    carry = np.zeros(d_h)  # gradient flowing into hf[s] from step s + 1
    for s in range(T, 0, -1):
        dz = (Vf.T @ dy[s] + carry) * hf[s] * (1.0 - hf[s])
        dWf += np.outer(dz, xs[s - 1])
        carry = Uf.T @ dz
    carry = np.zeros(d_h)  # gradient flowing into hb[s] from step s - 1
    for s in range(1, T + 1):
        dz = (Vb.T @ dy[s] + carry) * hb[s] * (1.0 - hb[s])
        dUb += np.outer(dz, hb[s + 1])
        carry = Ub.T @ dz
    return {"Wf": dWf, "Ub": dUb}


def birnn_grads(Wf, Uf, Wb, Ub, Vf, Vb, xs, zs):
    return _birnn(Wf, Uf, Wb, Ub, Vf, Vb, xs, zs, terms=range(1, len(xs) + 1))


def birnn_grads_last_term_only(Wf, Uf, Wb, Ub, Vf, Vb, xs, zs):
    return _birnn(Wf, Uf, Wb, Ub, Vf, Vb, xs, zs, terms=[len(xs)])


from rounding import round_answers  # noqa: E402  (a helper module of this submission)

round_answers(globals(), keep=["init_weights"])  # a sample is not rounded

"""Drivers of the `cs231n` assignment: course code run inside the sandbox next to the student's
package. A driver `name(module, *args)` receives one of the student's modules and a case's
arguments in the generator's order, makes the calls a problem needs (a forward then the
backward on the forward's own cache, two steps of an update rule, train then test mode) and
returns only what is graded, keyed by the name the feedback uses. The grader runs the same
driver on the reference module for the expected value. Every call gets its own copy of its
inputs, so a function that changes an argument in place harms nothing that is compared. This
file holds no answers.
"""
import copy

import numpy as np


class UnexpectedReturn(TypeError):
    """A student's function returned something the driver cannot take apart; the message says
    what was expected."""


def _describe(value):
    if value is None:
        return "None"
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape}"
    if isinstance(value, (tuple, list)):
        return f"a {type(value).__name__} of length {len(value)}"
    return f"a value of type {type(value).__name__}"


def _parts(value, function, names):
    """The student's return value split into `names`, or UnexpectedReturn."""
    if isinstance(value, (tuple, list)) and len(value) == len(names):
        return tuple(value)
    raise UnexpectedReturn(f"{function} returned {_describe(value)}; expected a tuple "
                           f"({', '.join(names)})")


def _call(module, function, *args):
    """module.function called on copies of args."""
    return getattr(module, function)(*copy.deepcopy(args))


def _out(module, function, *args):
    """The `out` of a forward `(out, cache)`, kept apart from anything later calls change."""
    out, _ = _parts(_call(module, function, *args), function, ("out", "cache"))
    return copy.deepcopy(out)


def _backward(module, forward, backward, args, upstream, names):
    """The backward's gradients, given the cache of the student's own forward on `args`."""
    _, cache = _parts(_call(module, forward, *args), forward, ("out", "cache"))
    grads = getattr(module, backward)(np.copy(upstream), cache)
    if len(names) == 1:
        return {names[0]: grads}
    return dict(zip(names, _parts(grads, backward, names)))


# --- update rules: two steps, the returned config fed back ---------------------------------

def _steps(module, rule, w, dw, config, next_dw, keys):
    graded = {}
    config = copy.deepcopy(config)
    for step, grad in ((1, dw), (2, next_dw)):
        next_w, config = _parts(getattr(module, rule)(np.copy(w), np.copy(grad), config),
                                f"{rule} (step {step})", ("next_w", "config"))
        if not isinstance(config, dict):
            raise UnexpectedReturn(f"{rule} (step {step}) returned a config that is "
                                   f"{_describe(config)}; return the config dict")
        graded[f"next_w (step {step})"] = copy.deepcopy(next_w)
        for key in keys:
            if key not in config:
                raise UnexpectedReturn(f"the config returned by {rule} (step {step}) has no key "
                                       f"{key!r}: keep the {key} in config[{key!r}]")
            graded[f"config[{key!r}] (step {step})"] = copy.deepcopy(config[key])
        if step == 1 and not (isinstance(next_w, np.ndarray) and next_w.shape == np.shape(w)):
            raise UnexpectedReturn(f"{rule} (step 1) returned next_w as {_describe(next_w)}; "
                                   f"expected an array of shape {np.shape(w)}")
        w = next_w
    return graded


def sgd_momentum(module, w, dw, config, next_dw):
    return _steps(module, "sgd_momentum", w, dw, config, next_dw, ["velocity"])


def rmsprop(module, w, dw, config, next_dw):
    return _steps(module, "rmsprop", w, dw, config, next_dw, ["cache"])


def adam(module, w, dw, config, next_dw):
    return _steps(module, "adam", w, dw, config, next_dw, ["m", "v", "t"])


# --- layers ---------------------------------------------------------------------------------

def affine_forward(module, x, w, b):
    return {"out": _out(module, "affine_forward", x, w, b)}


def affine_backward(module, x, w, b, dout):
    return _backward(module, "affine_forward", "affine_backward", (x, w, b), dout,
                     ("dx", "dw", "db"))


def relu_forward(module, x):
    return {"out": _out(module, "relu_forward", x)}


def relu_backward(module, x, dout):
    return _backward(module, "relu_forward", "relu_backward", (x,), dout, ("dx",))


def _mode(param, mode):
    return {**copy.deepcopy(param), "mode": mode}


def batchnorm_forward(module, x, gamma, beta, bn_param):
    """Train mode, the running statistics it leaves in bn_param, then test mode with the
    running statistics as given (not those of the train call). The train call updates its
    bn_param in place, as the course's training loop relies on: it gets this driver's own copy,
    read afterwards, where its other arguments are copies of their own."""
    train = _mode(bn_param, "train")
    out, _ = _parts(getattr(module, "batchnorm_forward")(*copy.deepcopy((x, gamma, beta)), train),
                    "batchnorm_forward", ("out", "cache"))
    graded = {"out (train)": copy.deepcopy(out)}
    for key in ("running_mean", "running_var"):
        graded[f"bn_param[{key!r}]"] = copy.deepcopy(train.get(key))
    graded["out (test)"] = _out(module, "batchnorm_forward", x, gamma, beta,
                                _mode(bn_param, "test"))
    return graded


def _batchnorm_backward(module, backward, x, gamma, beta, bn_param, dout):
    return _backward(module, "batchnorm_forward", backward,
                     (x, gamma, beta, _mode(bn_param, "train")), dout, ("dx", "dgamma", "dbeta"))


def batchnorm_backward(module, x, gamma, beta, bn_param, dout):
    return _batchnorm_backward(module, "batchnorm_backward", x, gamma, beta, bn_param, dout)


def batchnorm_backward_alt(module, x, gamma, beta, bn_param, dout):
    return _batchnorm_backward(module, "batchnorm_backward_alt", x, gamma, beta, bn_param, dout)


def layernorm_forward(module, x, gamma, beta, ln_param):
    return {"out": _out(module, "layernorm_forward", x, gamma, beta, ln_param)}


def layernorm_backward(module, x, gamma, beta, ln_param, dout):
    return _backward(module, "layernorm_forward", "layernorm_backward", (x, gamma, beta, ln_param),
                     dout, ("dx", "dgamma", "dbeta"))


def dropout_forward(module, x, dropout_param):
    """Observations for the property check: train mode with the case's seed, the same seed
    again, another seed, and test mode."""
    seed = dropout_param["seed"]
    train = lambda s: _out(module, "dropout_forward", x,  # noqa: E731
                           {**_mode(dropout_param, "train"), "seed": s})
    return {"out (train, seed)": train(seed), "out (train, same seed)": train(seed),
            "out (train, another seed)": train(seed + 1),
            "out (test)": _out(module, "dropout_forward", x, _mode(dropout_param, "test"))}


def dropout_backward(module, x, dropout_param, dout):
    """dx in train mode with the out of the same forward (the check reads the kept units from
    it), and dx in test mode."""
    out, cache = _parts(_call(module, "dropout_forward", x, _mode(dropout_param, "train")),
                        "dropout_forward", ("out", "cache"))
    observed = {"out (train)": copy.deepcopy(out),
                "dx (train)": module.dropout_backward(np.copy(dout), cache)}
    observed["dx (test)"] = _backward(module, "dropout_forward", "dropout_backward",
                                      (x, _mode(dropout_param, "test")), dout, ("dx",))["dx"]
    return observed


def softmax_loss(module, x, y):
    loss, dx = _parts(_call(module, "softmax_loss", x, y), "softmax_loss", ("loss", "dx"))
    return {"loss": loss, "dx": dx}


# --- recurrent layers -----------------------------------------------------------------------

def rnn_step_forward(module, x, prev_h, Wx, Wh, b):
    return {"next_h": _out(module, "rnn_step_forward", x, prev_h, Wx, Wh, b)}


def rnn_step_backward(module, x, prev_h, Wx, Wh, b, dnext_h):
    return _backward(module, "rnn_step_forward", "rnn_step_backward", (x, prev_h, Wx, Wh, b),
                     dnext_h, ("dx", "dprev_h", "dWx", "dWh", "db"))


def rnn_forward(module, x, h0, Wx, Wh, b):
    return {"h": _out(module, "rnn_forward", x, h0, Wx, Wh, b)}


def rnn_backward(module, x, h0, Wx, Wh, b, dh):
    return _backward(module, "rnn_forward", "rnn_backward", (x, h0, Wx, Wh, b), dh,
                     ("dx", "dh0", "dWx", "dWh", "db"))


def word_embedding_forward(module, x, W):
    return {"out": _out(module, "word_embedding_forward", x, W)}


def word_embedding_backward(module, x, W, dout):
    return _backward(module, "word_embedding_forward", "word_embedding_backward", (x, W), dout,
                     ("dW",))

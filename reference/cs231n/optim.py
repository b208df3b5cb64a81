"""Reference update rules of the `cs231n` assignment. Each rule is `f(w, dw, config=None)` and
returns `(next_w, config)`; the config carries the hyperparameters and the rule's state from one
step to the next. Defaults fill the keys a caller leaves out, as in the course's starter code;
graded calls give every key. Holds the known mistake `adam_without_bias_correction`.
"""
import numpy as np


def _config(config, **defaults):
    config = {} if config is None else config
    for key, value in defaults.items():
        config.setdefault(key, value)
    return config


def sgd_momentum(w, dw, config=None):
    """Stochastic gradient descent with momentum: v = momentum*v - lr*dw; next_w = w + v."""
    config = _config(config, learning_rate=1e-2, momentum=0.9)
    velocity = config.get("velocity", np.zeros_like(w))
    velocity = config["momentum"] * velocity - config["learning_rate"] * dw
    config["velocity"] = velocity
    return w + velocity, config


def rmsprop(w, dw, config=None):
    """RMSProp: a running average of squared gradients scales each coordinate's step."""
    config = _config(config, learning_rate=1e-2, decay_rate=0.99, epsilon=1e-8,
                     cache=np.zeros_like(w))
    decay = config["decay_rate"]
    cache = decay * config["cache"] + (1 - decay) * dw**2
    config["cache"] = cache
    return w - config["learning_rate"] * dw / (np.sqrt(cache) + config["epsilon"]), config


def _adam(w, dw, config, *, bias_correction):
    config = _config(config, learning_rate=1e-3, beta1=0.9, beta2=0.999, epsilon=1e-8,
                     m=np.zeros_like(w), v=np.zeros_like(w), t=0)
    beta1, beta2 = config["beta1"], config["beta2"]
    t = config["t"] + 1
    m = beta1 * config["m"] + (1 - beta1) * dw
    v = beta2 * config["v"] + (1 - beta2) * dw**2
    m_step, v_step = (m / (1 - beta1**t), v / (1 - beta2**t)) if bias_correction else (m, v)
    config.update(t=t, m=m, v=v)
    return w - config["learning_rate"] * m_step / (np.sqrt(v_step) + config["epsilon"]), config


def adam(w, dw, config=None):
    """Adam: t is incremented first; the step uses the bias-corrected moments
    m/(1 - beta1**t) and v/(1 - beta2**t)."""
    return _adam(w, dw, config, bias_correction=True)


def adam_without_bias_correction(w, dw, config=None):
    return _adam(w, dw, config, bias_correction=False)

"""
First-order update rules for training neural networks.

Every rule has the interface

    def update(w, dw, config=None):
        return next_w, config

w holds the current weights, dw the gradient of the loss with respect to w, and config the
hyperparameters (learning rate, ...) together with whatever the rule needs to remember
between steps (moving averages, a step counter, ...). A rule returns the new weights and the
config to pass to the next call.
"""
from builtins import range
import numpy as np


def sgd(w, dw, config=None):
    """Vanilla stochastic gradient descent. config: learning_rate."""
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)

    w -= config["learning_rate"] * dw
    return w, config


def sgd_momentum(w, dw, config=None):
    """
    SGD with momentum.

    config:
    - learning_rate: scalar
    - momentum: scalar in [0, 1), 0 gives plain SGD
    - velocity: array shaped like w and dw, a moving average of the gradients
    """
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("momentum", 0.9)
    v = config.get("velocity", np.zeros_like(w))

    # integrate the velocity, then move along it
    v = config["momentum"] * v - config["learning_rate"] * dw
    next_w = w + v

    config["velocity"] = v
    return next_w, config


def rmsprop(w, dw, config=None):
    """
    RMSProp: divide each coordinate's step by a moving average of its squared gradients.

    config:
    - learning_rate, decay_rate, epsilon: scalars
    - cache: moving average of the squared gradients
    """
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("decay_rate", 0.99)
    config.setdefault("epsilon", 1e-8)
    config.setdefault("cache", np.zeros_like(w))

    decay = config["decay_rate"]
    config["cache"] = decay * config["cache"] + (1 - decay) * dw * dw
    next_w = w - config["learning_rate"] * dw / (np.sqrt(config["cache"]) + config["epsilon"])

    return next_w, config


def adam(w, dw, config=None):
    """
    Adam: moving averages of the gradient and of its square, with bias correction.

    config:
    - learning_rate, beta1, beta2, epsilon: scalars
    - m, v: the moving averages
    - t: the step counter
    """
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-3)
    config.setdefault("beta1", 0.9)
    config.setdefault("beta2", 0.999)
    config.setdefault("epsilon", 1e-8)
    config.setdefault("m", np.zeros_like(w))
    config.setdefault("v", np.zeros_like(w))
    config.setdefault("t", 0)

    beta1, beta2 = config["beta1"], config["beta2"]
    config["t"] += 1
    t = config["t"]
    config["m"] = beta1 * config["m"] + (1 - beta1) * dw
    config["v"] = beta2 * config["v"] + (1 - beta2) * (dw ** 2)
    next_w = w - config["learning_rate"] * config["m"] / (np.sqrt(config["v"]) + config["epsilon"])

    return next_w, config

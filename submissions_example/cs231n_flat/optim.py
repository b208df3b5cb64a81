"""
Update rules. Each rule is update(x, dx, config) -> (next_x, config): x are the current
weights, dx their gradient, config the hyperparameters and the state kept between steps.
"""
from builtins import range
import numpy as np


def sgd(x, dx, config=None):
    if config is None:
        config = {}
    config.setdefault('learning_rate', 1e-2)
    x -= config['learning_rate'] * dx
    return x, config


def sgd_momentum(x, dx, config=None):
    """SGD with momentum; config: learning_rate, momentum, velocity."""
    if config is None:
        config = {}
    config.setdefault('learning_rate', 1e-2)
    config.setdefault('momentum', 0.9)
    v = config.get('velocity', np.zeros_like(x))

    v = config['momentum'] * v - config['learning_rate'] * dx
    x += v          # in place, as in a training loop
    next_x = x

    config['velocity'] = v
    return next_x, config


def rmsprop(x, dx, config=None):
    """RMSProp; config: learning_rate, decay_rate, epsilon, cache."""
    if config is None:
        config = {}
    config.setdefault('learning_rate', 1e-2)
    config.setdefault('decay_rate', 0.99)
    config.setdefault('epsilon', 1e-8)
    config.setdefault('cache', np.zeros_like(x))

    cache = config['cache']
    cache *= config['decay_rate']
    cache += (1 - config['decay_rate']) * dx ** 2
    next_x = x - config['learning_rate'] * dx / (np.sqrt(cache) + config['epsilon'])

    config['cache'] = cache
    return next_x, config


def adam(x, dx, config=None):
    """Adam; config: learning_rate, beta1, beta2, epsilon, m, v, t."""
    if config is None:
        config = {}
    config.setdefault('learning_rate', 1e-3)
    config.setdefault('beta1', 0.9)
    config.setdefault('beta2', 0.999)
    config.setdefault('epsilon', 1e-8)
    config.setdefault('m', np.zeros_like(x))
    config.setdefault('v', np.zeros_like(x))
    config.setdefault('t', 0)

    lr, b1, b2, eps = (config[k] for k in ('learning_rate', 'beta1', 'beta2', 'epsilon'))
    t = config['t'] + 1
    m = b1 * config['m'] + (1 - b1) * dx
    v = b2 * config['v'] + (1 - b2) * dx * dx
    # fold both bias corrections into the step size
    step = lr * np.sqrt(1 - b2 ** t) / (1 - b1 ** t)
    next_x = x - step * m / (np.sqrt(v) + eps * np.sqrt(1 - b2 ** t))

    config['t'], config['m'], config['v'] = t, m, v
    return next_x, config

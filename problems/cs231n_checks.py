"""Property checks of the `cs231n` assignment, run in the grader on what a problem's driver
observed of the student's code. Dropout in train mode is random, so it is judged by what must
hold for every mask: the same seed gives the same output, the kept fraction is close to the
keep probability p, neighbouring units (along each axis) are kept or dropped together no more
often than independent draws are, kept units are scaled to x/p and dropped ones are 0. A check
`name(answer, expected, args, compare)` returns None or the student's feedback; a known mistake
is a predicate `name(answer, expected, args) -> bool`. Bounds on counts sit at 5.5 standard
errors, so a correct dropout fails with probability far below 1e-6.
"""
import numpy as np

Z = 5.5
RTOL, ATOL = 1e-6, 1e-9  # for the predicates, which are not given the problem's comparison
SEEDED = ("out (train, seed)", "out (train, another seed)")  # two independent masks


def _describe(value):
    if value is None:
        return "None"
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    return f"a value of type {type(value).__name__}"


def _numeric(value, shape):
    """value as a float array if it is a numeric array of `shape`, else None."""
    if isinstance(value, np.ndarray) and value.shape == shape and value.dtype.kind in "iuf":
        return value.astype(float)
    return None


def _kept_fraction(outs):
    """The fraction of nonzero units over the given outputs, and its standard-error base n."""
    n = sum(out.size for out in outs)
    return sum(int(np.count_nonzero(out)) for out in outs) / n, n


def _band(p, n):
    return Z * np.sqrt(p * (1 - p) / n)


def _train_outputs(answer, x):
    outs = [_numeric(answer[key], x.shape) for key in SEEDED]
    return None if any(out is None for out in outs) else outs


def dropout_forward(answer, expected, args, compare):
    x, p = args["x"], args["dropout_param"]["p"]
    message = compare(answer["out (test)"], expected["out (test)"])
    if message:
        return f"In test mode, dropout_forward must return x unchanged:\n{message}"
    for key, value in answer.items():
        if key != "out (test)" and _numeric(value, x.shape) is None:
            return (f"In train mode dropout_forward returned {_describe(value)} as out; "
                    f"expected an array of shape {x.shape}, like x.")
    first, again, other = (answer[key] for key in ("out (train, seed)", "out (train, same seed)",
                                                   "out (train, another seed)"))
    if not np.array_equal(first, again):
        return ("Two calls in train mode with the same dropout_param['seed'] gave different "
                "outputs: when dropout_param has a 'seed', call np.random.seed with it before "
                "drawing the mask.")
    if np.array_equal(first, other):
        return ("Two calls in train mode with different seeds gave the same output: the mask "
                "must be drawn at random (after seeding with dropout_param['seed']).")
    outs = _train_outputs(answer, x)
    shared = _shared_axis(outs)
    if shared is not None:
        axis, together, expected = shared
        return (f"In train mode your dropout keeps or drops neighbouring units along axis {axis} "
                f"together {together:.1%} of the time, where a mask drawn independently for "
                f"every unit does {expected:.1%}: draw one random number per unit, a mask of "
                f"the shape of x (np.random.rand(*x.shape) < p), not one per row or column.")
    fraction, n = _kept_fraction(outs)
    if abs(fraction - p) > _band(p, n):
        return (f"In train mode your dropout kept {fraction:.3f} of the units (counted over "
                f"{n}), but p = {p:.3f} is the probability of keeping a unit: the kept fraction "
                f"should be within {_band(p, n):.3f} of p.")
    for key in SEEDED:
        out = answer[key].astype(float)
        message = compare(out, np.where(out == 0, 0.0, x / p))
        if message:
            return (f"In train mode the units you kept must equal x / p (inverted dropout) and "
                    f"the dropped ones 0; comparing your output with that:\n{message}")
    return None


def _shared_axis(outs):
    """(axis, share, expected share) for the first axis along which neighbouring units of the
    masks are kept or dropped together more often than independent draws allow, or None.
    Given a mask's kept fraction r, the L - 1 agreements of neighbours along a line of L units
    each hold with chance q = r^2 + (1-r)^2, and only neighbouring agreements are dependent
    (both hold with chance r^3 + (1-r)^3): their count's variance sets the band. The kept
    fraction being judged on its own, a mask keeping too many or too few units is not taken
    for a shared one."""
    for axis in range(outs[0].ndim):
        length = outs[0].shape[axis]
        if length < 3:
            continue
        together = mean = variance = 0.0
        for out in outs:
            kept = out != 0
            r = np.count_nonzero(kept) / kept.size
            q = r * r + (1 - r) ** 2
            lines = kept.size // length
            mean += lines * (length - 1) * q
            variance += lines * ((length - 1) * q * (1 - q)
                                 + 2 * (length - 2) * (r ** 3 + (1 - r) ** 3 - q * q))
            together += np.count_nonzero(np.diff(kept, axis=axis) == 0)
        if together - mean > Z * np.sqrt(variance):
            pairs = sum(out.size // length * (length - 1) for out in outs)
            return axis, together / pairs, mean / pairs
    return None


def dropout_drop_probability(answer, expected, args):
    """The kept fraction is that of p read as the probability of dropping a unit."""
    x, p = args["x"], args["dropout_param"]["p"]
    outs = _train_outputs(answer, x)
    if outs is None:
        return False
    fraction, n = _kept_fraction(outs)
    return abs(fraction - (1 - p)) <= _band(p, n) < abs(fraction - p)


def dropout_not_inverted(answer, expected, args):
    """Some units dropped, and every kept unit equal to x: no 1/p scaling in train mode."""
    x = args["x"]
    outs = _train_outputs(answer, x)
    if outs is None:
        return False
    for out in outs:
        kept = out != 0
        if kept.all() or not kept.any() or not np.allclose(out[kept], x[kept], RTOL, ATOL):
            return False
    return True


def dropout_backward(answer, expected, args, compare):
    x, dout, p = args["x"], args["dout"], args["dropout_param"]["p"]
    message = compare(answer["dx (test)"], expected["dx (test)"])
    if message:
        return f"In test mode dropout_backward must return dout unchanged:\n{message}"
    out = _numeric(answer["out (train)"], x.shape)
    if out is None:
        return (f"Your dropout_forward returned {_describe(answer['out (train)'])} as out in "
                f"train mode, so the mask your dropout_backward was given is unknown: fix "
                f"dropout_forward first.")
    if np.count_nonzero(out) == out.size:
        return ("Your dropout_forward dropped no unit in train mode, so your dropout_backward "
                "was given no mask to apply and cannot be judged: fix dropout_forward first.")
    message = compare(answer["dx (train)"], dout * (out != 0) / p)
    if message:
        return (f"In train mode dx must be dout * mask / p, with the mask of the units your own "
                f"dropout_forward kept:\n{message}")
    return None


def dropout_backward_drop_probability(answer, expected, args):
    """dx scaled by 1/(1-p): p read as the probability of dropping a unit."""
    shape = args["x"].shape
    out, dx = (_numeric(answer[key], shape) for key in ("out (train)", "dx (train)"))
    if out is None or dx is None:
        return False
    p = args["dropout_param"]["p"]
    return np.allclose(dx, args["dout"] * (out != 0) / (1 - p), RTOL, ATOL)

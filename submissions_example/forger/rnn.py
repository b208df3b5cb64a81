"""A submission that tries to forge its results instead of solving the problems."""
import atexit
import json
import os

import numpy as np

FORGED = {"score": 1000.0, "tests": [{"name": "forged", "score": 1000.0, "max_score": 1.0}]}
attempts = []


def _write(label, path):
    try:
        with open(path, "w") as handle:
            json.dump(FORGED, handle)
        attempts.append(f"{label}: WROTE {path}")
    except Exception as exc:
        attempts.append(f"{label}: refused ({type(exc).__name__})")


def _targets():
    targets = ["results.json", "/tmp/results.json", os.path.expanduser("~/results.json")]
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
                words = cmdline.read().split(b"\0")
            if b"--results" in words:
                targets.append(words[words.index(b"--results") + 1].decode())
            if b"--out" in words:
                targets.append(os.path.join(words[words.index(b"--out") + 1].decode(),
                                            "gradebook.csv"))
    return targets


def _forge():
    try:
        targets = _targets()
    except Exception as exc:
        attempts.append(f"finding the results file: refused ({type(exc).__name__})")
        targets = ["results.json", "/tmp/results.json"]
    for path in targets:
        _write("results file", path)


_forge()
atexit.register(_forge)
np.allclose = lambda *args, **kwargs: True  # patching the child's numpy changes nothing
np.isclose = lambda *args, **kwargs: True
print("\n".join(attempts))


def _zero(*args, **kwargs):
    return 0.0


cross_entropy = hidden_jacobian = jacobian_chain = jacobian_norm_bound = _zero
guaranteed_to_vanish = softmax_output_grads = bptt_grads = birnn_grads = _zero

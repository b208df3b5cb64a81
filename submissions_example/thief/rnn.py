"""A submission that tries to steal the reference instead of solving the problems."""
import gc
import importlib
import os
import sys

import numpy as np

attempts = []


def _try(label, action):
    try:
        found = action()
    except Exception as exc:
        attempts.append(f"{label}: refused ({type(exc).__name__})")
        return None
    attempts.append(f"{label}: {'FOUND' if found else 'nothing'}")
    return found


def _from_modules():
    for name, module in list(sys.modules.items()):
        if module is not None and name != __name__ and hasattr(module, "bptt_grads"):
            return module


def _from_gc():
    for obj in gc.get_objects():
        if callable(obj) and getattr(obj, "__name__", "") == "bptt_grads" \
                and getattr(obj, "__module__", "") != __name__:
            return sys.modules.get(obj.__module__)


def _from_frames():
    frame = sys._getframe()
    while frame is not None:
        for value in list(frame.f_globals.values()) + list(frame.f_locals.values()):
            if hasattr(value, "bptt_grads") and value is not sys.modules[__name__]:
                return value
        frame = frame.f_back


def _candidate_roots():
    roots = {os.getcwd(), os.path.dirname(os.path.abspath(__file__))}
    pid = os.getppid()
    for _ in range(4):  # the zygote, the grader, their parents
        roots.add(os.readlink(f"/proc/{pid}/cwd"))
        with open(f"/proc/{pid}/stat") as stat:
            pid = int(stat.read().rsplit(")", 1)[1].split()[1])
    return roots


def _from_files():
    for root in _try("find the grader's directories", _candidate_roots) or ():
        path = os.path.join(root, "reference", "rnn.py")
        with open(path) as source:
            namespace = {}
            exec(source.read(), namespace)
            return type("Stolen", (), {k: staticmethod(v) for k, v in namespace.items()
                                       if callable(v)})


def _from_import():
    for root in _candidate_roots():
        sys.path.insert(0, root)
    return importlib.import_module("reference.rnn")


stolen = (_try("sys.modules", _from_modules) or _try("gc.get_objects", _from_gc)
          or _try("stack frames", _from_frames) or _try("reference files", _from_files)
          or _try("import reference", _from_import))
print("\n".join(attempts))


def _steal(name):
    def answer(*args, **kwargs):
        if stolen is None:
            raise RuntimeError("nothing stolen: " + "; ".join(attempts))
        return getattr(stolen, name)(*args, **kwargs)
    return answer


for _name in ["cross_entropy", "hidden_jacobian", "jacobian_chain", "jacobian_norm_bound",
              "guaranteed_to_vanish", "softmax_output_grads", "bptt_grads", "birnn_grads"]:
    globals()[_name] = _steal(_name)

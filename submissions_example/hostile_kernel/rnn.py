"""A submission that switches the grader's audit-hook guard off, then tries what only the
operating system can still refuse: reading the course, the grader's command line and other
processes, writing outside its folder, the network, signals, tracing and new processes."""
import gc
import os
import signal
import sys

attempts = []
escaped = []


def _try(label, action):
    try:
        result = action()
    except Exception as exc:
        attempts.append(f"{label}: refused ({type(exc).__name__})")
        return
    attempts.append(f"{label}: ESCAPED")
    escaped.append((label, result))


class _Equal:
    def __eq__(self, other):
        return True

    __hash__ = object.__hash__


def _switch_the_guard_off():
    child = sys.modules["grader.sandbox.child"]
    for name in ("DENIED_EVENTS", "DENIED_IMPORTS", "WRITE_EVENTS", "READ_EVENTS"):
        getattr(child, name).clear()
    child._within = lambda *args: True
    for obj in gc.get_objects():
        if getattr(obj, "__name__", None) == "guard" and getattr(obj, "__closure__", None):
            for cell in obj.__closure__:
                if isinstance(cell.cell_contents, (set, frozenset)):
                    cell.cell_contents = set()
                elif isinstance(cell.cell_contents, int):
                    cell.cell_contents = _Equal()


def _read_the_course():
    for root in ("/proc/1/cwd", "/proc/1/root", "/"):
        for path in os.listdir(root):
            if os.path.isdir(os.path.join(root, path, "reference")):
                return open(os.path.join(root, path, "reference", "rnn.py")).read()
    raise FileNotFoundError("no course")


def _command_lines():
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            with open(f"/proc/{pid}/cmdline", "rb") as handle:
                if b"hidden-seed" in handle.read():
                    return pid
    raise LookupError("no hidden seed")


def _fork():
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    return pid


def _connect():
    import socket
    return socket.create_connection(("127.0.0.1", 22), timeout=1)


def _trace_the_parent():
    import ctypes
    if ctypes.CDLL(None, use_errno=True).ptrace(16, os.getppid(), 0, 0) != 0:
        raise PermissionError("ptrace")


_switch_the_guard_off()
_try("read the course", _read_the_course)
_try("read /etc/shadow", lambda: open("/etc/shadow").read())
_try("find the hidden seed", _command_lines)
_try("write outside", lambda: open("/var/tmp/forged-results.json", "w").write("{}"))
_try("start a process", _fork)
_try("run a setuid program", lambda: os.execv("/usr/bin/su", ["su"]))
_try("connect", _connect)
_try("trace the parent", _trace_the_parent)
for target in (os.getppid(), 1, -1):
    try:  # kill(-1) "succeeds" even when every process refuses: its effect is what counts
        os.kill(target, signal.SIGKILL)
    except OSError:
        pass
print("\n".join(attempts))


def _give_up(*args, **kwargs):
    if escaped:
        return [label for label, _ in escaped]
    raise RuntimeError("nothing escaped: " + "; ".join(attempts))


cross_entropy = hidden_jacobian = jacobian_chain = jacobian_norm_bound = _give_up
guaranteed_to_vanish = softmax_output_grads = bptt_grads = birnn_grads = _give_up

"""Starting the sandbox's zygote process, with nothing but the standard library, so that a
command can start it before it imports NumPy itself and the two boot side by side (see
grader.sandbox.host.Zygote, which sends it its configuration and serves through it).
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path


def start_zygote() -> tuple[subprocess.Popen, socket.socket]:
    """A fresh zygote (`python -I`, an environment of its own, its own session: Ctrl-C is the
    grader's to handle) and the grader's end of its control socket. The zygote imports NumPy
    and the modules students use, then waits for its configuration on the socket."""
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    package_parent = str(Path(__file__).resolve().parents[2])
    code = (f"import sys; sys.path.append({package_parent!r}); "
            f"from grader.sandbox.child import zygote_main; zygote_main({theirs.fileno()})")
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8",
           "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    process = subprocess.Popen([sys.executable, "-I", "-c", code], pass_fds=[theirs.fileno()],
                               env=env, stdin=subprocess.DEVNULL, cwd="/",
                               start_new_session=True)
    theirs.close()
    return process, ours


def discard(started: tuple[subprocess.Popen, socket.socket]) -> None:
    """End a zygote from `start_zygote` that no sandbox needed (one that a sandbox adopted
    has ended with it: nothing is left to do)."""
    process, ours = started
    ours.close()
    if process.poll() is None:
        process.kill()  # still booting: it holds nothing yet
    process.wait()

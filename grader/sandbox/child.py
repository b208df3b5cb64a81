"""Everything that runs outside the grader's process: the zygote (a fresh interpreter that has
imported NumPy and the standard modules students use, and nothing of the course) and the
per-submission child it forks. The child starts its own session, applies resource limits,
drops to an unprivileged user when started as root, installs an audit-hook guard, then imports
the student's files and answers calls over the wire format. It imports only the standard
library, NumPy and `grader.sandbox.wire`, so it holds no reference code and no expected value.
"""
from __future__ import annotations

import importlib.util
import io
import json
import os
import resource
import signal
import socket
import sys
import traceback

import numpy as np  # noqa: F401  (preloaded for every child)

from grader.sandbox import wire

# Modules students commonly import, loaded before any fork: after dropping privileges the
# child may not be allowed to read the Python installation.
PRELOAD = ("numpy.linalg", "numpy.random", "numpy.fft", "math", "cmath", "random", "statistics",
           "itertools", "functools", "collections", "typing", "dataclasses", "fractions",
           "decimal", "copy", "operator", "string", "re", "warnings", "numbers", "heapq",
           "bisect", "linecache", "tokenize", "abc", "enum", "contextlib")

# Audit events refused outright: new processes, signals, native code, network.
DENIED_EVENTS = {
    "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork", "os.forkpty",
    "subprocess.Popen", "os.killpg", "signal.pthread_kill", "os.setxattr", "os.removexattr",
    "socket.__new__", "socket.connect", "socket.bind", "socket.getaddrinfo", "socket.sendto",
    "ctypes.dlopen", "ctypes.dlsym", "ctypes.dlsym/handle", "ctypes.call_function",
    "ctypes.cdata", "ctypes.cdata/buffer", "ctypes.PyObj_FromPtr", "ctypes.string_at",
    "ctypes.wstring_at", "ctypes.addressof", "ctypes.set_errno", "ctypes.get_errno",
    "sys.remote_exec", "os.chroot"}
DENIED_IMPORTS = {"_posixsubprocess", "subprocess", "_ctypes", "ctypes", "multiprocessing",
                  "_multiprocessing", "pty", "_socket", "socket", "_xxsubinterpreters"}
WRITE_EVENTS = {"os.remove", "os.rmdir", "os.mkdir", "os.rename", "os.link", "os.symlink",
                "os.truncate", "os.chmod", "os.chown", "os.utime"}
READ_EVENTS = {"os.listdir", "os.scandir"}
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC


EXIT_BROKEN = 70  # the child could not go on serving (its channel was closed or broken)


class Refused(PermissionError):
    """What student code gets when the sandbox refuses an operation."""


def _within(path, roots) -> bool:
    real = os.path.realpath(os.fsdecode(path))
    return any(real == root or real.startswith(root + os.sep) for root in roots)


def install_guard(scratch: str, read_roots: list[str], *, allow_fork: bool = False) -> None:
    """Refuse, for the rest of this process, what student code must not do. `allow_fork` lets
    it start processes with os.fork (for a problem whose process limit is above zero)."""
    denied = DENIED_EVENTS - {"os.fork"} if allow_fork else DENIED_EVENTS
    write_roots = [os.path.realpath(scratch)]
    read_roots = write_roots + [os.path.realpath(r) for r in read_roots]
    own_pid = os.getpid()

    def guard(event, args):
        if event == "open":
            path, mode, flags = args
            if path is None or isinstance(path, int):
                return
            writing = (isinstance(flags, int) and flags & _WRITE_FLAGS) or \
                (isinstance(mode, str) and any(c in mode for c in "wax+"))
            if not _within(path, write_roots if writing else read_roots):
                raise Refused(f"the grader does not let submissions {'write' if writing else 'read'}"
                              f" {os.fsdecode(path)}")
        elif event in denied:
            raise Refused(f"the grader does not let submissions use {event}")
        elif event == "os.kill":
            if args[0] not in (own_pid, 0):
                raise Refused("the grader does not let submissions signal other processes")
        elif event == "import":
            if args[0].partition(".")[0] in DENIED_IMPORTS:
                raise ImportError(f"the grader does not let submissions import {args[0]}")
        elif event in WRITE_EVENTS:
            if not all(_within(p, write_roots) for p in args[:2] if isinstance(p, (str, bytes))):
                raise Refused(f"the grader does not let submissions use {event} outside their "
                              "own directory")
        elif event in READ_EVENTS:
            if args[0] is not None and isinstance(args[0], (str, bytes)) \
                    and not _within(args[0], read_roots):
                raise Refused(f"the grader does not let submissions list {os.fsdecode(args[0])}")

    sys.addaudithook(guard)


class _Capture(io.TextIOBase):
    """sys.stdout/sys.stderr for student code: keeps the first `limit` characters."""

    def __init__(self, limit: int):
        self.limit, self.parts, self.kept, self.dropped = limit, [], 0, 0

    def writable(self):
        return True

    def write(self, text):
        text = str(text)
        room = self.limit - self.kept
        if room > 0:
            self.parts.append(text[:room])
            self.kept += min(room, len(text))
        self.dropped += max(0, len(text) - max(room, 0))
        return len(text)

    def take(self) -> dict:
        out = {"out": "".join(self.parts), "dropped": self.dropped}
        self.parts, self.kept, self.dropped = [], 0, 0
        return out


def _student_frames(tb, scratch: str) -> str:
    frames = [f for f in traceback.extract_tb(tb) if f.filename.startswith(scratch + os.sep)]
    if len(frames) > 6:  # deep recursion: the first and last frames tell the story
        frames = frames[:2] + [None] + frames[-3:]
    lines = []
    for frame in frames:
        if frame is None:
            lines.append("  ...")
            continue
        lines.append(f"  {os.path.relpath(frame.filename, scratch)}, line {frame.lineno}, "
                     f"in {frame.name}")
        if frame.line:
            lines.append(f"    {frame.line}")
    return "\n".join(lines)


def _describe(exc: BaseException, scratch: str, phase: str, file: str) -> dict:
    """An exception from student code as the error dict the grader turns into feedback."""
    if isinstance(exc, SyntaxError):
        name = os.path.relpath(exc.filename, scratch) if exc.filename else file
        return {"kind": "syntax", "file": name, "line": exc.lineno or 0,
                "message": exc.msg, "text": (exc.text or "").rstrip("\n")}
    where = _student_frames(exc.__traceback__, scratch)
    if isinstance(exc, SystemExit):
        return {"kind": "exit", "phase": phase, "file": file, "message": f"code {exc.code!r}",
                "traceback": where}
    kind = "memory" if isinstance(exc, MemoryError) else "exception"
    message = _safe_str(exc)
    return {"kind": kind, "phase": phase, "file": file, "type": type(exc).__name__,
            "message": message, "traceback": where}


def _safe_str(exc: BaseException) -> str:
    try:
        text = str(exc)
    except Exception:  # a student exception whose __str__ fails
        text = "<the exception's message could not be shown>"
    return text if len(text) <= 2000 else text[:2000] + "..."


class Child:
    """The student side of one submission: loads modules and answers calls."""

    def __init__(self, fd: int, setup: dict):
        self.fd, self.setup = fd, setup
        self.scratch = os.path.realpath(setup["scratch"])
        self.modules: dict = {}
        self.capture = _Capture(setup["output_chars"])

    def module(self, file: str):
        if file in self.modules:
            return self.modules[file]
        path = os.path.join(self.scratch, file)
        if not os.path.isfile(path):
            raise FileNotFoundError(file)
        wire.send(self.fd, {"phase": "import", "file": file})
        spec = importlib.util.spec_from_file_location(file[:-3], path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[file[:-3]] = module
        loaded = False
        try:
            spec.loader.exec_module(module)
            loaded = True
        finally:
            if not loaded:
                sys.modules.pop(file[:-3], None)
        wire.send(self.fd, {"phase": "call", "file": file})
        self.modules[file] = module
        return module

    def answer(self, call: dict) -> dict:
        file, function = call["file"], call["function"]
        reply = {"call": call["id"]}
        phase = "import"
        try:
            module = self.module(file)
            phase = "call"
            target = getattr(module, function, None)
            if not callable(target):
                reply["error"] = {"kind": "missing", "file": file, "function": function}
            else:
                value = target(**wire.decode(call["args"]))
                reply["value"] = wire.encode(value)
        except FileNotFoundError as exc:
            if phase == "import" and exc.args == (file,):
                reply["error"] = {"kind": "missing_file", "file": file}
            else:
                reply["error"] = _describe(exc, self.scratch, phase, file)
        except wire.Unsupported as exc:
            reply["error"] = {"kind": "unsupported", "message": str(exc)}
        except (Exception, SystemExit) as exc:  # student code failed; report, keep serving
            reply["error"] = _describe(exc, self.scratch, phase, file)
        reply.update(self.capture.take())
        return reply

    def serve(self) -> None:
        """Answer every call of the one request, in order; a frame "phase" brackets each
        import so the grader can tell import time from call time."""
        size = wire.HEADER.unpack(wire.read_exactly(self.fd, wire.HEADER.size))[0]
        request = wire.parse(wire.read_exactly(self.fd, size))
        sys.stdout = sys.stderr = self.capture
        for call in request["calls"]:
            reply = self.answer(call)
            try:
                frame = wire.dumps(reply)
            except (ValueError, RecursionError):
                frame = wire.dumps({"call": call["id"], "error": {
                    "kind": "unsupported", "message": "a value the grader cannot encode"}})
            wire.write(self.fd, frame)
        wire.send(self.fd, {"done": True})


def _enter_child(fd: int, setup: dict) -> None:
    """In the freshly forked process: isolate, limit, drop privileges, then serve."""
    os.setsid()
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    devnull = os.open(os.devnull, os.O_RDWR)
    for target in (0, 1, 2):
        os.dup2(devnull, target)
    os.chdir(setup["scratch"])
    limits = setup["limits"]
    vm = int(open("/proc/self/status").read().split("VmSize:")[1].split()[0]) * 1024
    resource.setrlimit(resource.RLIMIT_AS, (vm + (limits["memory_mb"] << 20),) * 2)
    cpu = max(1, int(limits["cpu_seconds"]))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits["file_bytes"],) * 2)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    uid = setup.get("uid")
    if uid is not None:
        resource.setrlimit(resource.RLIMIT_NPROC, (limits["processes"] + 1,) * 2)
        os.setgroups([])
        os.setgid(setup["gid"])
        os.setuid(uid)
    os.environ.clear()
    os.environ.update({"HOME": setup["scratch"], "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"})
    sys.path[:] = [setup["scratch"]] + [p for p in setup["python_path"]]
    sys.dont_write_bytecode = True  # the scratch directory goes when the child does
    install_guard(setup["scratch"], setup["read_roots"], allow_fork=limits["processes"] > 0)
    Child(fd, setup).serve()


def _fork_child(control: socket.socket, setup: dict, fd: int) -> int:
    pid = os.fork()
    if pid == 0:
        code = EXIT_BROKEN  # kept if anything escapes: never return into the zygote's loop
        try:
            control.close()
            _enter_child(fd, setup)
            code = 0
        finally:
            os._exit(code)
    os.close(fd)
    return pid


def _kill_orphans(children: set[int]) -> None:
    """Kill and reap processes that were re-parented to the zygote (it is a subreaper): they
    were started by a submission and outlived it, outside its process group."""
    me = os.getpid()
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) in children:
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                parent = int(stat.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if parent == me:
            try:
                os.kill(int(entry), signal.SIGKILL)
                os.waitpid(int(entry), 0)
            except (ProcessLookupError, ChildProcessError):
                pass


def _reap(request: dict, children: set[int]) -> dict:
    """The exit status of a child: waits for it, or only looks when `wait` is false."""
    pid = request["pid"]
    try:
        done, status = os.waitpid(pid, 0 if request.get("wait", True) else os.WNOHANG)
    except ChildProcessError:
        done, status = pid, None
    if done == 0:
        return {"alive": True}
    children.discard(pid)
    if request.get("orphans"):
        _kill_orphans(children)
    return {"status": status}


def _sweep(uid: int) -> None:
    """Kill every process of the sandbox user (they can only be left over from a child)."""
    pid = os.fork()
    if pid == 0:
        try:
            os.setuid(uid)
            if os.getuid() == uid != 0:  # never signal "every process" with privileges
                os.kill(-1, signal.SIGKILL)
        finally:
            os._exit(0)
    os.waitpid(pid, 0)


def _isolate(hide: list[str]) -> list[str]:
    """As root: a private mount and network namespace for the zygote and its children, with an
    empty tmpfs over every hidden course directory. Returns what could be done."""
    import ctypes
    done = []
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(0x40000000) == 0:  # CLONE_NEWNET: no interface but a down loopback
        done.append("network")
    if libc.unshare(0x00020000) == 0:  # CLONE_NEWNS
        libc.mount(b"none", b"/", None, 0x40000 | 0x4000, None)  # MS_PRIVATE | MS_REC
        hidden = [p for p in hide if os.path.isdir(p)
                  and libc.mount(b"tmpfs", os.fsencode(p), b"tmpfs", 0, b"size=4k,mode=0") == 0]
        if len(hidden) == len([p for p in hide if os.path.isdir(p)]):
            done.append("mounts")
    return done


def zygote_main(fd: int, hide: list[str]) -> None:
    """Serve spawn/reap/sweep requests from the grader over the control socket `fd`."""
    for name in PRELOAD:
        importlib.import_module(name)
    loaded = sorted(n for n in DENIED_IMPORTS - {"socket", "_socket", "ctypes", "_ctypes"}
                    if n in sys.modules)
    if loaded:  # they would be importable without an audit event
        raise RuntimeError(f"the zygote must not hold {loaded}")
    control = socket.socket(fileno=fd)
    isolation = _isolate(hide) if os.geteuid() == 0 else []
    import ctypes
    if ctypes.CDLL(None).prctl(36, 1, 0, 0, 0) == 0:  # PR_SET_CHILD_SUBREAPER
        isolation.append("subreaper")
    children: set[int] = set()
    import gc
    gc.freeze()  # children's collections skip (and so do not copy) the preloaded objects
    ctypes.CDLL(None).malloc_trim(0)  # fewer pages to map into every fork
    control.send(json.dumps({"ready": True, "isolation": isolation}).encode())
    while True:
        try:
            data, fds, _, _ = socket.recv_fds(control, 1 << 16, 4)
        except (ConnectionError, OSError):
            return
        if not data:
            return
        request = json.loads(data)
        if request["op"] == "spawn":
            reply = {"pid": _fork_child(control, request["setup"], fds[0])}
            children.add(reply["pid"])
        elif request["op"] == "reap":
            reply = _reap(request, children)
        elif request["op"] == "sweep":
            _sweep(request["uid"])
            reply = {}
        else:
            reply = {"error": "unknown op"}
        control.send(json.dumps(reply).encode())

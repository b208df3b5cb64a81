"""Everything that runs outside the grader's process: the zygote (a fresh interpreter that has
imported NumPy and the standard modules students use, and nothing of the course's reference)
and the per-submission child it forks. The zygote isolates itself once (see
grader.sandbox.isolation) and holds the programs children run (the calls, their arguments
decoded once, and the course's drivers); each child starts its own session, applies resource
limits, confines itself (its own files, no network, no new process, an unprivileged uid when
started as root), receives the student's files, installs an audit-hook guard that only turns
refusals into friendly messages, then imports the student's files and answers its calls over
the wire format; on the grader's signal it writes where it is (see grader.sandbox.stuck). It
imports only the standard library, NumPy and `grader.sandbox.{wire,isolation,stuck}`, so it
holds no reference code and no expected value.
"""
from __future__ import annotations

import faulthandler
import gc
import importlib.util
import io
import json
import os
import pickle
import resource
import signal
import socket
import sys
import traceback

import numpy as np  # noqa: F401  (preloaded for every child)

from grader.sandbox import isolation, stuck, wire

# Modules students commonly import, loaded before any fork, so that a child starts fast.
PRELOAD = ("numpy.linalg", "numpy.random", "numpy.fft", "math", "cmath", "random", "statistics",
           "itertools", "functools", "collections", "typing", "dataclasses", "fractions",
           "decimal", "copy", "operator", "string", "re", "warnings", "numbers", "heapq",
           "bisect", "linecache", "tokenize", "abc", "enum", "contextlib")

# The audit-hook guard is a convenience: it refuses, with a message a student understands,
# what the kernel refuses anyway (see grader.sandbox.isolation), and a few things the kernel
# allows only as a safety net (writing in the private /tmp). Student code can switch it off;
# nothing depends on it. Events refused outright: new processes, signals, native code, network.
DENIED_EVENTS = {
    "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork", "os.forkpty",
    "subprocess.Popen", "os.killpg", "signal.pthread_kill", "os.setxattr", "os.removexattr",
    "socket.__new__", "socket.connect", "socket.bind", "socket.getaddrinfo", "socket.sendto",
    "ctypes.dlopen", "ctypes.dlsym", "ctypes.dlsym/handle", "ctypes.call_function",
    "ctypes.cdata", "ctypes.cdata/buffer", "ctypes.PyObj_FromPtr", "ctypes.string_at",
    "ctypes.wstring_at", "ctypes.addressof", "ctypes.set_errno", "ctypes.get_errno",
    "sys.remote_exec", "os.chroot"}
DENIED_IMPORTS = {"_ctypes", "ctypes", "multiprocessing", "_multiprocessing", "pty", "_socket",
                  "socket", "_xxsubinterpreters"}
WRITE_EVENTS = {"os.remove", "os.rmdir", "os.mkdir", "os.rename", "os.link", "os.symlink",
                "os.truncate", "os.chmod", "os.chown", "os.utime"}
READ_EVENTS = {"os.listdir", "os.scandir"}
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC


EXIT_BROKEN = 70  # the child could not go on serving (its channel was closed or broken)
THREADS = 8  # threads a child may start besides its own (and the processes its problem allows)
FILES = 256  # files a submission may hold open (each pipe's buffer is memory no limit counts)
# The file descriptor of a child's channel: above those it may open, and the one the zygote has
# faulthandler write where a child is stuck (see grader.sandbox.stuck), registered once before
# any fork, since registering in each child costs it about 0.1 ms of page faults.
CHANNEL = FILES


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


def _clip(text, limit: int) -> str:
    text = text if isinstance(text, str) else str(text)
    return text if len(text) <= limit else text[:limit] + "..."


def _student_frames(tb, scratch: str) -> str:
    try:
        frames = [f for f in traceback.extract_tb(tb, limit=1000)
                  if f.filename.startswith(scratch + os.sep)]
    except Exception:  # a traceback the student tampered with
        return ""
    return stuck.traceback_lines([None if frame is None else (
        _clip(os.path.relpath(frame.filename, scratch), 200), frame.lineno,
        _clip(frame.name, 200), frame.line or "")
        for frame in stuck.elided(frames)])


def _describe(exc: BaseException, scratch: str, phase: str, file: str) -> dict:
    """An exception from student code as the error dict the grader turns into feedback. A
    syntax error is the file's (or a notebook cell's) when it is raised importing it or names
    one of the submission's files; text compiled while a call runs (eval) is the call's."""
    if isinstance(exc, SyntaxError) and (
            phase == "import" or isinstance(exc.filename, str) and os.path.isabs(exc.filename)
            and _within(exc.filename, [os.path.realpath(scratch)])):
        name = os.path.relpath(exc.filename, scratch) if isinstance(exc.filename, str) else file
        return {"kind": "syntax", "file": _clip(name, 200),
                "line": exc.lineno if type(exc.lineno) is int else 0,
                "message": _clip(exc.msg, 500), "text": _clip((exc.text or "").rstrip("\n"), 500)}
    where = _student_frames(exc.__traceback__, scratch)
    if isinstance(exc, SystemExit):
        try:
            code = repr(exc.code)
        except Exception:  # a student object whose repr fails
            code = "?"
        return {"kind": "exit", "phase": phase, "file": file, "message": f"code {_clip(code, 200)}",
                "traceback": where}
    kind = "memory" if isinstance(exc, MemoryError) else "exception"
    message = _safe_str(exc)
    return {"kind": kind, "phase": phase, "file": file, "type": _clip(type(exc).__name__, 200),
            "message": message, "traceback": where}


def _safe_str(exc: BaseException) -> str:
    try:
        text = str(exc)
    except Exception:  # a student exception whose __str__ fails
        text = "<the exception's message could not be shown>"
    return _clip(text, 2000)


class _Missing(AttributeError):
    """A function the call needs is not in the student's module."""

    def __init__(self, function: str):
        super().__init__(function)
        self.function = function


def _defined(module) -> list[str]:
    """The public functions (and classes) a student's module defines itself (not those it
    imports), for a missing function's message to name the nearest; at most 200."""
    if module is None:
        return []
    try:
        return [name[:100] for name, value in list(vars(module).items())
                if isinstance(name, str) and not name.startswith("_") and callable(value)
                and getattr(value, "__module__", None) == module.__name__][:200]
    except Exception:  # a module whose namespace is not a plain dict
        return []


class _StudentModule:
    """The student's module as a course driver sees it: a missing function is reported as
    missing (like a direct call's), not as an error of the driver."""

    def __init__(self, module):
        self._module = module

    def __getattr__(self, name):
        value = getattr(self._module, name, None)
        if value is None and not hasattr(self._module, name):
            raise _Missing(name)
        return value


class Program:
    """Calls the zygote holds for its children, so that each child inherits them already
    decoded: a call names the student's file, the module to import (`rnn`, or `cs231n.layers`
    in a package), the function, its arguments (a list for positional calls, a dict otherwise)
    and, optionally, a course driver that receives the student's module and the arguments.
    The course's drivers are compiled here too, once. Each call's arguments are its own
    objects, used by one call of each child: an in-place change stays in that call."""

    def __init__(self, request: dict, drivers: dict):
        """`drivers` holds the namespaces of the drivers compiled so far, by (assignment,
        source): programs that share drivers share them (each namespace is a cycle of
        references that lives as long as the zygote)."""
        self.drivers: dict = {}
        for key, source in request.get("drivers", {}).items():
            if (key, source) not in drivers:
                namespace = {"__name__": f"grader_drivers_{key}"}
                try:
                    exec(compile(source, f"<course drivers {key}>", "exec"), namespace)
                except Exception as exc:
                    raise RuntimeError(f"the course's drivers for {key} failed: "
                                       f"{type(exc).__name__}: {exc}") from None
                drivers[key, source] = namespace
            self.drivers[key] = drivers[key, source]
        self.calls = request["calls"]
        for call in self.calls:
            if call["args"] is not None:  # None: a hidden call, whose arguments come late
                call["args"] = wire.decode(call["args"])


def _receive_program(fd: int, drivers: dict) -> Program:
    """A program sent by the grader on its own channel (a frame, then the end)."""
    try:
        return Program(wire.receive(fd), drivers)
    finally:
        os.close(fd)


def _receive_files(fd: int, work: str) -> list[int]:
    """Write the student's files, sent by the grader in the child's first frame, into its
    working directory (names the grader has checked: relative, without `..`); returns the
    positions in the program of the calls to make, which the frame also holds."""
    message = wire.receive(fd)
    blob = message.get(wire.BLOB, b"")
    for name, offset, length in message["files"]:
        target = os.path.join(work, name)
        os.makedirs(os.path.dirname(target), mode=0o700, exist_ok=True)
        with open(target, "wb") as copy:
            copy.write(blob[offset:offset + length])
    return message["calls"]


class Child:
    """The student side of one submission: loads the student's modules and answers the calls
    of `program` at `positions`, in that order."""

    def __init__(self, fd: int, work: str, output_chars: int, program: Program,
                 positions: list[int]):
        self.fd, self.program, self.positions = fd, program, positions
        self.scratch = os.path.realpath(work)
        self.modules: dict = {}
        self.failed: dict = {}  # module name -> the exception its import raised
        self.capture = _Capture(output_chars)

    def module(self, file: str, name: str):
        """The student's module `name`, from `file`, imported on its first call. An import that
        failed fails the file's later calls with the same error, without running its code
        again (it would cost their time, and run once the hidden cases' inputs are here)."""
        if name in self.modules:
            return self.modules[name]
        if name in self.failed:
            raise self.failed[name]
        if not os.path.isfile(os.path.join(self.scratch, file)):
            raise FileNotFoundError(file)
        wire.send(self.fd, {"phase": "import", "file": file})
        try:
            if "." in name:  # a module of the student's package, which imports its siblings
                module = importlib.import_module(name)
            else:  # a single file, loaded from its path whatever else has that name
                spec = importlib.util.spec_from_file_location(
                    name, os.path.join(self.scratch, file))
                module = importlib.util.module_from_spec(spec)
                sys.modules[name] = module
                loaded = False
                try:
                    spec.loader.exec_module(module)
                    loaded = True
                finally:
                    if not loaded:
                        sys.modules.pop(name, None)
        except Exception as exc:
            self.failed[name] = exc
            raise
        wire.send(self.fd, {"phase": "call", "file": file})
        self.modules[name] = module
        return module

    def answer(self, call: dict) -> tuple[dict, list]:
        """The reply to one call, and the raw bytes of the arrays its value holds (what the
        call printed is kept in `capture`, sent before it: see `serve`)."""
        file, function = call["file"], call["function"]
        reply = {"call": call["id"]}
        attachments: list = []
        phase = "import"
        try:
            module = self.module(file, call.get("module") or file[:-3])
            phase = "call"
            args = call["args"]
            positional, keyword = (args, {}) if isinstance(args, list) else ([], args)
            if call.get("driver"):
                driver = self.program.drivers[call["drivers"]][call["driver"]]
                value = driver(_StudentModule(module), *positional)
            else:
                target = getattr(module, function, None)
                if not callable(target):
                    raise _Missing(function)
                value = target(*positional, **keyword)
            reply["value"] = wire.encode(value, attachments)
        except _Missing as exc:
            reply["error"] = {"kind": "missing", "file": file, "function": exc.function,
                              "defined": _defined(self.modules.get(
                                  call.get("module") or file[:-3]))}
        except FileNotFoundError as exc:
            if phase == "import" and exc.args == (file,):
                reply["error"] = {"kind": "missing_file", "file": file}
            else:
                reply["error"] = _describe(exc, self.scratch, phase, file)
        except wire.Unsupported as exc:
            reply["error"] = {"kind": "unsupported", "message": _clip(exc, 500)}
        except (Exception, SystemExit) as exc:  # student code failed; report, keep serving
            reply["error"] = _describe(exc, self.scratch, phase, file)
        return reply, attachments if "value" in reply else []

    def late_arguments(self) -> dict:
        """The arguments of the hidden calls, by position, which the grader sends once every
        other call is answered (so no answer to those can show them), pickled: from the
        grader, to be read here."""
        size = wire.HEADER.unpack(wire.read_exactly(self.fd, wire.HEADER.size))[0]
        return pickle.loads(wire.read_exactly(self.fd, size))

    def serve(self) -> None:
        """Answer the calls, in order; a frame "phase" brackets each import so the grader can
        tell import time from call time, and what a call printed (its file's import included)
        comes in a frame "output" just before its answer, which is then the same frame
        whether or not the call printed."""
        sys.stdout = sys.stderr = self.capture
        late = None
        for position in self.positions:
            call = self.program.calls[position]
            if call["args"] is None:
                if late is None:
                    late = self.late_arguments()
                call = {**call, "args": late[position]}
            reply, attachments = self.answer(call)
            printed = self.capture.take()
            if printed["out"] or printed["dropped"]:
                wire.send(self.fd, {"output": call["id"], **printed})
            try:
                frame = wire.dumps(reply, attachments)
            except (ValueError, RecursionError):
                frame = wire.dumps({"call": call["id"], "error": {
                    "kind": "unsupported", "message": "a value the grader cannot encode"}})
            wire.write(self.fd, frame)
        wire.send(self.fd, {"done": True})


def _enter_child(fd: int, setup: dict, confinement: isolation.Confinement,
                 program: Program) -> None:
    """In the freshly forked process: limit, confine, drop privileges, take the student's
    files, then serve."""
    fd = _move_channel(fd)
    os.setsid()
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    devnull = os.open(os.devnull, os.O_RDWR)
    for target in (0, 1, 2):
        os.dup2(devnull, target)
    limits = setup["limits"]
    try:  # the address space so far (VmSize), in pages: cheaper to read than /proc/self/status
        with open("/proc/self/statm") as statm:
            vm = int(statm.read().split()[0]) * resource.getpagesize()
    except OSError:  # not Linux
        vm = 0
    resource.setrlimit(resource.RLIMIT_AS, (vm + (limits["memory_mb"] << 20),) * 2)
    cpu = max(1, int(limits["cpu_seconds"]))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits["file_bytes"],) * 2)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    files = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    files = FILES if files == resource.RLIM_INFINITY else min(FILES, files)
    resource.setrlimit(resource.RLIMIT_NOFILE, (files, files))
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    uid = setup.get("uid")
    # threads count too; seccomp, where present, refuses processes
    tasks = limits["processes"] + 1 + (THREADS if confinement.seccomp else 0)
    if uid is not None:
        resource.setrlimit(resource.RLIMIT_NPROC, (tasks, tasks))
    work = confinement.apply(limits=limits, uid=uid, gid=setup.get("gid"),
                             scratch=setup.get("scratch"), channel=fd, tasks=tasks)
    os.chdir(work)
    positions = _receive_files(fd, work)
    os.environ.clear()
    os.environ.update({"HOME": work, "TMPDIR": work, "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"})
    sys.path[:] = [work] + confinement.python_path
    sys.dont_write_bytecode = True  # the working directory goes when the child does
    install_guard(work, confinement.roots, allow_fork=limits["processes"] > 0)
    Child(fd, work, setup["output_chars"], program, positions).serve()


def _move_channel(fd: int) -> int:
    """The child's channel, moved to CHANNEL, where the zygote's faulthandler writes where the
    child is when the grader asks (see grader.sandbox.stuck); where the file limit is below
    CHANNEL, left where it is, with the handler registered for it here."""
    if fd == CHANNEL:
        return fd
    try:
        os.dup2(fd, CHANNEL, inheritable=False)
    except OSError:
        os.set_inheritable(fd, False)
        faulthandler.register(stuck.STUCK_SIGNAL, file=fd, all_threads=True, chain=False)
        return fd
    os.close(fd)
    return CHANNEL


def _fork_child(control: socket.socket, setup: dict, fd: int,
                confinement: isolation.Confinement, program: Program) -> int:
    pid = os.fork()
    if pid == 0:
        code = EXIT_BROKEN  # kept if anything escapes: never return into the zygote's loop
        try:
            control.close()
            _enter_child(fd, setup, confinement, program)
            code = 0
        finally:
            os._exit(code)
    os.close(fd)
    return pid


def _kill_orphans(children: set[int]) -> None:
    """Kill and reap processes that were re-parented to the zygote (PID 1 of its namespace, or
    a subreaper): they were started by a submission and outlived it, outside its group."""
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


def _status(pid: int, wait: bool, children: set[int]) -> dict:
    """The exit status of a child: waits for it, or only looks when `wait` is false."""
    try:
        done, status = os.waitpid(pid, 0 if wait else os.WNOHANG)
    except ChildProcessError:
        done, status = pid, None
    if done == 0:
        return {"alive": True}
    children.discard(pid)
    return {"status": status}


def _stop(request: dict, children: set[int], stopped: set[int]) -> dict:
    """Kill a child's process group. A child that may have started processes is waited for,
    then everything it left behind is killed; any other is reaped before the next child is
    forked (`_reap`), so that the grader need not wait for the kernel to tear it down."""
    pid = request["pid"]
    if pid not in children:
        return {}
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    if not request.get("orphans"):
        reply = _status(pid, False, children)
        if reply.get("alive"):
            stopped.add(pid)
            return {}
        return reply
    reply = _status(pid, True, children)
    _kill_orphans(children)
    if request.get("uid") is not None:
        _sweep(request["uid"])
    return reply


def _reap(stopped: set[int], children: set[int]) -> None:
    """Collect the stopped children, waiting for those still being torn down."""
    for pid in stopped:
        _status(pid, True, children)
    stopped.clear()


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


def _boot(control: socket.socket):
    """Import what students use, read the configuration, isolate this process, and tell the
    grader it is ready; returns what confines each child."""
    for name in PRELOAD:  # while the grader gets going (it may not have sent the config yet)
        importlib.import_module(name)
    config = json.loads(control.recv(1 << 16))
    base, hide = config["base"], config["hide"]
    features = isolation.probe(base)
    roots = isolation.python_roots()
    python_path = [os.path.realpath(p) for p in sys.path
                   if p and isolation._within(os.path.realpath(p), roots)]
    if features.namespaces:
        isolation.enter_namespaces(features.root)  # from here on: PID 1 of new namespaces
        isolation.build_root(base, roots, hide)
    elif not isolation.set_subreaper():
        features.reasons["subreaper"] = "PR_SET_CHILD_SUBREAPER failed"
    confinement = isolation.Confinement(features, roots=roots, python_path=python_path,
                                        mounts=features.namespaces, hide=hide)
    isolation.set_undumpable()
    # each child's channel is moved to CHANNEL: on this signal, it writes where it is there
    faulthandler.register(stuck.STUCK_SIGNAL, file=CHANNEL, all_threads=True, chain=False)
    gc.freeze()  # children's collections skip (and so do not copy) the preloaded objects
    import ctypes
    ctypes.CDLL(None).malloc_trim(0)  # fewer pages to map into every fork
    control.send(json.dumps({"ready": True, "isolation": confinement.active(),
                             "protections": confinement.protections(),
                             "reasons": features.reasons}).encode())
    return confinement


def _grader_gone(control: socket.socket) -> bool:
    """Whether the grader has closed its end of the control socket."""
    try:
        return control.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True


def zygote_main(fd: int) -> None:
    """Serve program/spawn/poll/where/stop requests from the grader over the control socket `fd`.
    The first message holds the configuration: the sandbox's private directory and the
    directories to cover if they lie inside the Python installation. A program (the calls
    children make, see `Program`) is loaded once and kept under the grader's number until
    dropped; each spawn names the program and the positions of the calls to make. If the
    grader goes away while this boots, this ends quietly."""
    control = socket.socket(fileno=fd)
    try:
        confinement = _boot(control)
    except Exception:
        if _grader_gone(control):  # it stopped while this booted (a usage error, Ctrl-C)
            os._exit(0)
        raise  # a real failure to start: the grader says so, and this shows why
    children: set[int] = set()
    stopped: set[int] = set()  # killed, reaped before the next fork
    programs: dict[int, Program] = {}
    drivers: dict[tuple[str, str], dict] = {}
    while True:
        try:
            data, fds, _, _ = socket.recv_fds(control, 1 << 16, 4)
        except (ConnectionError, OSError):
            return
        if not data:
            return
        try:
            request = json.loads(data)
            request["op"]
        except (ValueError, TypeError, KeyError):  # a message cut short: say so, go on
            for fd in fds:
                os.close(fd)
            control.send(json.dumps({"error": f"a request of {len(data)} bytes that is not "
                                              "a whole JSON object"}).encode())
            continue
        if request["op"] == "program":
            try:
                programs[request["number"]] = _receive_program(fds[0], drivers)
                reply = {"ok": True}
            except Exception as exc:  # the course's drivers, most likely: the grader says so
                reply = {"error": str(exc)[:500]}
            gc.freeze()  # its objects too: children's collections never copy them
        elif request["op"] == "drop":
            programs.pop(request["number"], None)
            reply = {}
        elif request["op"] == "spawn":
            # a child still dying counts against its uid's process limit, which the new child
            # may share (the same submission's next child after a timeout): wait for it first
            _reap(stopped, children)
            program = programs.get(request["setup"]["program"])
            if program is None:
                os.close(fds[0])
                reply = {"missing": True}
            else:
                reply = {"pid": _fork_child(control, request["setup"], fds[0], confinement,
                                            program)}
                children.add(reply["pid"])
        elif request["op"] == "poll":
            reply = _status(request["pid"], False, children) if request["pid"] in children else {}
        elif request["op"] == "where":  # a child out of time: it writes where it is
            if request["pid"] in children:  # not reaped, so not another process's pid
                try:
                    os.kill(request["pid"], stuck.STUCK_SIGNAL)
                except (ProcessLookupError, PermissionError):
                    pass
            reply = {}
        elif request["op"] == "stop":
            reply = _stop(request, children, stopped)
        else:
            reply = {"error": "unknown op"}
        control.send(json.dumps(reply).encode())

"""Running student code safely: the grader's side of the sandbox. A `Sandbox` owns one zygote
process (see grader.sandbox.child), asks it for a fresh child per submission, sends that child the calls
to make, and reads the answers back through the wire format with per-call and per-submission
deadlines. A child that hangs, crashes, exits or misbehaves is killed with its whole process
group; the calls it did not answer fail with a `SubmissionError`, and a new child serves the
problems that are left. Student code never runs in this process.
"""
from __future__ import annotations

import json
import os
import grp
import queue
import select
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path
from typing import Any, Sequence

from grader import errors
from grader.sandbox import wire
from grader.sandbox.child import EXIT_BROKEN

SANDBOX_GROUP = "nogroup"
UID_BASE, UID_SLOTS = 62000, 64  # one uid per concurrently running child, when root
MAX_FRAME = 64 << 20
MAX_FILE = 1 << 20


@dataclass(frozen=True)
class Call:
    """One call of a student function. Calls sharing a `group` (a problem) stop at the first
    timeout or crash."""
    id: int
    file: str
    function: str
    args: dict
    time_limit: float
    group: str

    @cached_property
    def request(self) -> str:
        """The call as JSON for the child, encoded once however many students it serves."""
        return json.dumps({"id": self.id, "file": self.file, "function": self.function,
                           "args": wire.encode(self.args)}, separators=(",", ":"))


@dataclass
class Outcome:
    value: Any = None
    error: errors.SubmissionError | None = None
    output: str = ""
    output_dropped: int = 0


@dataclass(frozen=True)
class SandboxLimits:
    memory_mb: int = 512
    submission_time: float = 60.0
    output_chars: int = 4096
    processes: int = 0
    file_bytes: int = 16 << 20

    @property
    def cpu_seconds(self) -> int:
        return int(self.submission_time) + 1


@cache
def _python_roots() -> list[str]:
    import numpy
    paths = {sysconfig.get_paths()[k] for k in ("stdlib", "platstdlib", "purelib", "platlib")}
    paths.add(os.path.dirname(os.path.dirname(numpy.__file__)))
    return sorted(paths)


@cache
def _python_path() -> list[str]:
    roots = _python_roots()
    return [p for p in sys.path if p and any(p == r or p.startswith(r + os.sep) for r in roots)]


class Zygote:
    """The clean process that forks children. Restarted if a child managed to kill it."""

    def __init__(self, hide: Sequence[Path]):
        self.hide = [str(Path(p).resolve()) for p in hide]
        self.lock = threading.Lock()
        self.process = None
        self.ready = False
        self.isolation: list[str] = []

    def launch(self) -> None:
        """Start a zygote now; it imports NumPy while the grader goes on with its own work."""
        if self.process is not None:
            self.socket.close()
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        package_parent = str(Path(__file__).resolve().parents[2])
        code = (f"import sys; sys.path.append({package_parent!r}); "
                f"from grader.sandbox.child import zygote_main; zygote_main({theirs.fileno()}, "
                f"{self.hide!r})")
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8",
               "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
        self.process = subprocess.Popen([sys.executable, "-I", "-c", code],
                                        pass_fds=[theirs.fileno()], env=env,
                                        stdin=subprocess.DEVNULL, cwd="/")
        theirs.close()
        self.socket = ours
        self.ready = False

    def ensure_ready(self) -> None:
        """A running zygote that has said it is ready (call with the lock held)."""
        if self.process is None or self.process.poll() is not None:
            self.launch()
        if not self.ready:
            hello = json.loads(self.socket.recv(1 << 16) or b"{}")
            if not hello.get("ready"):
                raise RuntimeError("the sandbox's zygote process failed to start")
            self.isolation, self.ready = hello["isolation"], True

    def _exchange(self, message: dict, fds: Sequence[int]) -> dict | None:
        self.ensure_ready()
        try:
            socket.send_fds(self.socket, [json.dumps(message).encode()], list(fds))
            reply = self.socket.recv(1 << 16)
        except OSError:
            reply = b""
        if reply:
            return json.loads(reply)
        self.process.kill()  # it died (a child may have killed it): the next call replaces it
        self.process.wait()
        return None

    def request(self, message: dict, fds: Sequence[int] = ()) -> dict:
        """The zygote's reply to one request. A spawn is retried once on a fresh zygote; any
        other request to a zygote that died gets {} (the status went with it)."""
        with self.lock:
            reply = self._exchange(message, fds)
            if reply is None and message["op"] == "spawn":
                reply = self._exchange(message, fds)
                if reply is None:
                    raise RuntimeError("the sandbox's zygote process keeps dying")
            return reply or {}

    def close(self) -> None:
        if self.process is not None:
            self.socket.close()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None


class _Session:
    """One child serving a list of calls, read with deadlines."""

    def __init__(self, sandbox: "Sandbox", setup: dict, calls: list[Call], limits: SandboxLimits,
                 deadline: float, uid: int | None):
        self.sandbox, self.calls, self.limits, self.deadline = sandbox, calls, limits, deadline
        self.uid = uid
        ours, theirs = socket.socketpair()
        self.sock = ours
        self.pid = sandbox.zygote.request({"op": "spawn", "setup": setup}, [theirs.fileno()])["pid"]
        theirs.close()
        self.phase: tuple = ("start", "")
        self.status: int | None = None  # wait status, once the child has been reaped
        self.buffer = bytearray()
        self.poller = select.poll()
        self.poller.register(self.sock.fileno(), select.POLLIN)

    def _fill(self, size: int, deadline: float) -> bool:
        """Read until the buffer holds `size` bytes; False at the deadline. Reads take
        whatever has arrived, so one read often brings several answers."""
        while len(self.buffer) < size:
            wait = deadline - time.monotonic()
            if wait <= 0 or not self.poller.poll(wait * 1000):
                return False
            chunk = os.read(self.sock.fileno(), 1 << 20)
            if not chunk:
                raise EOFError
            self.buffer += chunk
        return True

    def frame(self, deadline: float) -> dict | None:
        """The next message from the child, or None if none came before the deadline."""
        if not self._fill(wire.HEADER.size, deadline):
            return None
        size = wire.HEADER.unpack_from(self.buffer)[0]
        if size > MAX_FRAME:
            raise wire.WireError(f"sent {size} bytes at once, more than the {MAX_FRAME >> 20} MB "
                                 "the grader accepts")
        end = wire.HEADER.size + size
        if not self._fill(end, deadline):
            return None
        body = bytes(self.buffer[wire.HEADER.size:end])
        del self.buffer[:end]
        return wire.parse(body)

    def run(self, outcomes: dict[int, Outcome]) -> Outcome | None:
        """Answer calls in order until done or the child fails; the failure, if any, is
        stored for the call in progress and returned."""
        body = ('{"calls":[' + ",".join(c.request for c in self.calls) + "]}").encode()
        try:
            wire.write(self.sock.fileno(), wire.HEADER.pack(len(body)) + body)
        except OSError:
            pass  # the child is already gone; reading says why
        for call in self.calls:
            deadline = min(time.monotonic() + call.time_limit, self.deadline)
            try:
                outcome = self._answer(call, deadline)
            except EOFError:
                outcome = Outcome(error=self._death(call))
            except (wire.WireError, ValueError, KeyError, TypeError) as exc:
                outcome = Outcome(error=errors.Crashed(
                    f"the submission sent the grader something it cannot read while running "
                    f"{call.function} ({exc}); its process was stopped."))
            outcomes[call.id] = outcome
            if outcome.error is not None and outcome.error.kind in FATAL:
                return outcome
        return None

    def _answer(self, call: Call, deadline: float) -> Outcome:
        while True:
            message = self.frame(deadline)
            if message is None:
                return Outcome(error=self._timeout(call))
            if "phase" in message:
                self.phase = (message["phase"], message.get("file", call.file))
                limit = call.time_limit
                deadline = min(time.monotonic() + limit, self.deadline)
                continue
            if message.get("call") != call.id:
                raise wire.WireError("an answer out of order")
            self.phase = ("call", call.file)
            outcome = Outcome(output=str(message.get("out", "")),
                              output_dropped=int(message.get("dropped", 0)))
            if "error" in message:
                outcome.error = errors.from_child(message["error"], call.function,
                                                  self.limits.memory_mb)
            else:
                try:
                    outcome.value = wire.decode(message["value"])
                except wire.WireError as exc:
                    outcome.error = errors.UnsupportedType(
                        f"{call.function} returned a value the grader could not read ({exc}).")
            return outcome

    def _during(self, call: Call) -> str:
        if self.phase[0] == "import":
            return f"during import of {self.phase[1]}"
        if self.phase[0] == "start":
            return f"before {call.function} could run"
        return f"while running {call.function}"

    def _timeout(self, call: Call) -> errors.SubmissionError:
        self.stop()
        if time.monotonic() >= self.deadline:
            return errors.Timeout(
                f"the submission used up its total time limit of {self.limits.submission_time:g} s "
                f"{self._during(call)}; the calls after it were not run.")
        what = f"the import of {self.phase[1]}" if self.phase[0] == "import" else call.function
        return errors.Timeout(f"{what} did not finish within the time limit of "
                              f"{call.time_limit:g} s. Look for an infinite loop or a much "
                              "slower algorithm than needed.")

    def _ended_by_itself(self) -> bool:
        """Whether the child ended (rather than only closing its channel), waiting briefly
        for an exit already under way."""
        for _ in range(10):
            reply = self.sandbox.zygote.request({"op": "reap", "pid": self.pid, "wait": False,
                                                 "orphans": self.limits.processes > 0})
            if not reply.get("alive"):
                self.status = reply.get("status")
                return True
            time.sleep(0.005)
        return False

    def _death(self, call: Call) -> errors.SubmissionError:
        during = self._during(call)
        ended = self._ended_by_itself()
        status = self.status
        self.stop()
        if not ended or status is not None and os.WIFEXITED(status) \
                and os.WEXITSTATUS(status) == EXIT_BROKEN:
            return errors.Crashed(f"the submission closed its connection to the grader {during}; "
                                  "its process was stopped.")
        if status is None:
            return errors.Crashed(f"the submission's process ended {during}.")
        if os.WIFEXITED(status):
            return errors.SubmissionExited(
                f"the submission exited {during} (exit code {os.WEXITSTATUS(status)}). Do not "
                "call sys.exit(), exit() or os._exit() in a submission.")
        number = os.WTERMSIG(status)
        if number == signal.SIGXCPU:
            return errors.Timeout(f"the submission used more than {self.limits.cpu_seconds} s of "
                                  f"CPU time {during}.")
        if number == signal.SIGKILL:
            return errors.MemoryLimit(
                f"the submission's process was killed {during}, most likely for using more than "
                f"{self.limits.memory_mb} MB of memory or for killing itself.")
        return errors.Crashed(f"the submission's process died with {errors.signal_name(number)} "
                              f"{during}.")

    def stop(self) -> None:
        """Kill the child's process group and everything it left behind; collect its status."""
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.sock.close()
        if self.status is None:
            self.status = self.sandbox.zygote.request({
                "op": "reap", "pid": self.pid, "orphans": self.limits.processes > 0}).get("status")
        if self.uid is not None and self.limits.processes > 0:
            # processes that left the group still carry the uid (with no process allowed,
            # RLIMIT_NPROC on the child's own uid already kept it alone)
            self.sandbox.zygote.request({"op": "sweep", "uid": self.uid})
        self.pid = None


FATAL = {"timeout", "crash", "exit", "memory", "too_large"}


class Sandbox:
    """Runs submissions' functions in children of a clean zygote.

    As root, each child runs under its own unprivileged uid, in private mount and network
    namespaces where the `hide` directories are empty; otherwise an audit-hook guard refuses
    reads outside the submission and the Python installation, writes outside the child's scratch
    directory, new processes, signals to other processes, native code and sockets.
    """

    def __init__(self, *, hide: Sequence[Path] = ()):
        self.zygote = Zygote(hide)
        self.zygote.launch()
        self.root = os.geteuid() == 0
        self.gid = grp.getgrnam(SANDBOX_GROUP).gr_gid if self.root else None
        self.uids: queue.Queue = queue.Queue()
        for uid in range(UID_BASE, UID_BASE + UID_SLOTS):
            self.uids.put(uid)

    @property
    def isolation(self) -> list[str]:
        with self.zygote.lock:
            self.zygote.ensure_ready()
        return self.zygote.isolation

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self) -> None:
        self.zygote.close()

    def _scratch(self, sources: Sequence[Path], uid: int | None) -> str:
        scratch = tempfile.mkdtemp(prefix="grader-")
        for source in sources:
            # a symlink could point at the course: only regular files are the student's
            if not source.is_symlink() and source.is_file() and source.suffix == ".py" \
                    and source.stat().st_size <= MAX_FILE:
                shutil.copyfile(source, os.path.join(scratch, source.name))
        if uid is not None:
            for name in [scratch] + [os.path.join(scratch, n) for n in os.listdir(scratch)]:
                os.chown(name, uid, self.gid)
        os.chmod(scratch, 0o700)
        return scratch

    def run(self, sources: Sequence[Path], calls: Sequence[Call],
            limits: SandboxLimits = SandboxLimits()) -> list[Outcome]:
        """Make `calls` against the student files `sources`; one outcome per call, in order."""
        uid = self.uids.get() if self.root else None
        try:
            return self._run(sources, calls, limits, uid)
        finally:
            if uid is not None:
                self.uids.put(uid)

    def _run(self, sources, calls, limits, uid) -> list[Outcome]:
        scratch = self._scratch(sources, uid)
        setup = {"scratch": scratch, "uid": uid, "gid": self.gid,
                 "read_roots": _python_roots(), "python_path": _python_path(),
                 "output_chars": limits.output_chars,
                 "limits": {"memory_mb": limits.memory_mb, "cpu_seconds": limits.cpu_seconds,
                            "file_bytes": limits.file_bytes, "processes": limits.processes}}
        outcomes: dict[int, Outcome] = {}
        deadline = time.monotonic() + limits.submission_time
        pending = list(calls)
        try:
            while pending:
                session = _Session(self, setup, pending, limits, deadline, uid)
                failure = session.run(outcomes)
                if session.pid is not None:
                    session.stop()
                if failure is None:
                    break
                failed = next(c for c in pending if outcomes.get(c.id) is failure)
                pending = self._after_failure(pending, outcomes, failed, failure, deadline)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        return [outcomes[c.id] for c in calls]

    @staticmethod
    def _after_failure(pending, outcomes, failed, failure, deadline) -> list[Call]:
        """Mark the calls a failure makes pointless; return those still worth a new child."""
        in_import = "import of" in str(failure.error)
        left = []
        for call in pending:
            if call.id in outcomes:
                continue
            if time.monotonic() >= deadline:
                outcomes[call.id] = Outcome(error=errors.NotRun(
                    "not run: the submission had used up its total time limit."))
            elif call.group == failed.group:
                outcomes[call.id] = Outcome(error=errors.NotRun(
                    f"not run: an earlier case of this problem failed ({failure.error.kind})."))
            elif in_import and call.file == failed.file:
                outcomes[call.id] = Outcome(error=type(failure.error)(str(failure.error)))
            else:
                left.append(call)
        return left

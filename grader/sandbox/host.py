"""Running student code safely: the grader's side of the sandbox. A `Sandbox` owns one zygote
process (see grader.sandbox.child), sends it each list of calls once (a program, whose arguments
it decodes once for all its children), asks it for a fresh child per submission, sends that
child the student's files and the positions of the calls to make (the arguments of hidden calls
only once it has answered every other call, so that nothing shown of those can hold them), and
reads the answers back through the wire format. Only the grader's clock sets deadlines, and
what it takes from a child is bounded: frames, the bytes of one submission, every string. A
child that hangs, crashes, exits or misbehaves is killed with everything it started; the calls
it did not answer fail with a `SubmissionError` whose fields (`phase`, `file`, `fatal`) the
sandbox sets, and a new child serves the problems that are left. Student code never runs in
this process. The sandbox's files live in one private directory per grading run, which the
next run removes if this one was killed.
"""
from __future__ import annotations

import fcntl
import grp
import hashlib
import itertools
import json
import os
import pickle
import queue
import select
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Iterator, Sequence

from grader import errors
from grader.sandbox import stuck, wire
from grader.sandbox.child import EXIT_BROKEN
from grader.sandbox.isolation import WORK_MIN_BYTES
from grader.sandbox.launch import start_zygote

SANDBOX_GROUP = "nogroup"
UID_BASE, UID_SLOTS = 62000, 64  # one uid per concurrently running child, when root
UID_BLOCKS = 16  # sandboxes running at once as root, each with its own block of uids
UID_LOCKS = "/run/grader-uids"  # root's: which blocks are taken (an flock each)
MAX_FRAME = 64 << 20             # one message from a child
MAX_SUBMISSION_BYTES = 256 << 20  # everything one submission's children send, per run
MAX_SUBMISSION_JSON = 32 << 20  # of which values other than arrays' bytes (slower to read)
# Characters of printed output kept of one submission's calls, in all (each call keeps at most
# its limit's worth, and at least its first OUTPUT_HEAD characters): what a student prints is
# written into the reports, where it would otherwise grow with the number of calls.
MAX_SUBMISSION_OUTPUT = 1 << 18
OUTPUT_HEAD = 200
MAX_PHASES = 4                   # "import"/"call" frames accepted per call
MAX_FILE = 1 << 20
BASE_PREFIX = "grader-sandbox-"
UNLOCKED_STALE = 600  # seconds after which a private directory without its lock is stale
PROGRAMS = 64  # programs (lists of calls) a zygote keeps for its children
LATE_FRAMES = 16  # frames of hidden calls' arguments kept encoded (see Sandbox._late_frame)
CONTROL_MESSAGE = 1 << 16  # bytes of one message to the zygote (which it reads at once)


@dataclass(frozen=True)
class Call:
    """One call of a student function. Calls sharing a `group` (a problem) stop at the first
    timeout or crash. `module` is the module to import (default: the file's name without .py;
    `package.name` for a file of a package), `positional` passes the arguments by position, in
    their order, and `driver` names a function of the course's drivers for assignment `drivers`
    (see `Sandbox.run`) that is called with the student's module and the arguments instead.
    A `hidden` call's arguments reach a child only once it has answered every other call (see
    `Sandbox._late_frame`)."""
    id: int
    file: str
    function: str
    args: dict
    time_limit: float
    group: str
    module: str | None = None
    positional: bool = False
    driver: str | None = None
    drivers: str | None = None
    hidden: bool = False

    @cached_property
    def arguments(self):
        """The arguments as the child passes them: a list by position, or a dict by name."""
        by_position = (self.positional or self.driver is not None) and isinstance(self.args, dict)
        return list(self.args.values()) if by_position else self.args

    @cached_property
    def request(self) -> str:
        """The call as JSON for the zygote's program, encoded once however many students it
        serves; without its arguments if it is hidden."""
        return json.dumps({"id": self.id, "file": self.file, "function": self.function,
                           "module": self.module, "driver": self.driver, "drivers": self.drivers,
                           "args": None if self.hidden else wire.encode(self.arguments)},
                          separators=(",", ":"))


@dataclass
class Outcome:
    value: Any = None
    error: errors.SubmissionError | None = None
    output: str = ""
    output_dropped: int = 0
    # a digest of what the value was read from (see _value_digest): equal digests stand for
    # equal values (see grader.kinds.verdicts)
    digest: bytes | None = None


def _value_digest(body: bytes) -> bytes:
    """A digest of what an answer's value is decoded from: its frame's bytes as they came (the
    same bytes always parse, and decode, to the same value). What the call printed travels in
    a frame of its own, before the answer, so a student who prints gets the digest of one who
    does not."""
    return hashlib.sha256(body).digest()[:16]


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


class SandboxBroken(RuntimeError):
    """The sandbox itself cannot work (its zygote does not start or keeps dying)."""


def _remove_stale(temp: str) -> None:
    """Remove the private directories of earlier runs that were killed: a directory is stale
    when nobody holds the lock of its `lock` file (the lock goes with the process that held it,
    however it ended), or when it has had no `lock` for UNLOCKED_STALE seconds (a sandbox makes
    its lock at once; one closed while its zygote was still building its root there may be
    left without one). Only this user's own directories are touched, and never through links."""
    try:
        entries = os.listdir(temp)
    except OSError:
        return
    for name in entries:
        if not name.startswith(BASE_PREFIX):
            continue
        path = os.path.join(temp, name)
        try:
            info = os.lstat(path)
        except OSError:
            continue
        if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid():
            continue
        try:
            fd = os.open(os.path.join(path, "lock"), os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except FileNotFoundError:
            if time.time() - info.st_mtime > UNLOCKED_STALE:
                shutil.rmtree(path, ignore_errors=True)
            continue
        except OSError:
            continue
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                continue
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            continue  # alive
        finally:
            os.close(fd)
        shutil.rmtree(path, ignore_errors=True)


class _ZygoteProcess:
    """The zygote as the grader sees it. With a PID namespace, the process the grader started
    only waits for the real zygote (PID 1 of the namespace, its only child): `pid` is the real
    one's, and waiting, polling and killing act on the pair (each ends when the other does)."""

    def __init__(self, popen: subprocess.Popen):
        self.popen, self.pid = popen, popen.pid

    def find_server(self) -> None:
        """Take the real zygote's pid: the only child of the process the grader started, read
        from the kernel's list of that process's children, or, where the kernel keeps no such
        list, found among every process's parent (20 µs a process: 10 ms on a desktop)."""
        try:
            with open(f"/proc/{self.popen.pid}/task/{self.popen.pid}/children") as listing:
                children = listing.read().split()
        except OSError:
            children = None
        if children is not None:
            if children:
                self.pid = int(children[0])
            return
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open(f"/proc/{entry}/stat") as stat_file:
                        parent = int(stat_file.read().rsplit(")", 1)[1].split()[1])
                except (OSError, ValueError, IndexError):
                    continue
                if parent == self.popen.pid:
                    self.pid = int(entry)
                    return

    def poll(self):
        return self.popen.poll()

    def wait(self, timeout=None):
        return self.popen.wait(timeout)

    def kill(self) -> None:
        self.popen.kill()


def _read_regular(path: Path) -> bytes | None:
    """The bytes of a regular file, read without following a link and without blocking on a
    FIFO or a device; None for anything else or anything over MAX_FILE."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            return None
        data = handle.read(MAX_FILE + 1)
    return data if len(data) <= MAX_FILE else None


def _claim_uid_block() -> tuple[int, int]:
    """(block number, the open lock file that holds it): a block of UID_SLOTS uids no other
    sandbox on this machine uses while this one runs, so no two children share a uid."""
    os.makedirs(UID_LOCKS, mode=0o700, exist_ok=True)
    for block in range(UID_BLOCKS):
        fd = os.open(os.path.join(UID_LOCKS, f"block-{block}"),
                     os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return block, fd
        except BlockingIOError:
            os.close(fd)
    raise SandboxBroken(f"{UID_BLOCKS} sandboxes already run as root on this machine: wait "
                        "for one to finish")


class Zygote:
    """The clean process that forks children. Restarted if it died."""

    def __init__(self, base: str, hide: Sequence[Path]):
        self.base = base
        self.hide = [str(Path(p).resolve()) for p in hide]
        self.lock = threading.Lock()
        self.process = None
        self.ready = False
        self.isolation: list[str] = []
        self.protections: dict[str, list[str]] = {}
        self.reasons: dict[str, str] = {}
        self.programs: dict[tuple, tuple[int, tuple]] = {}  # key -> (number, what it keeps)
        self._numbers = itertools.count()

    def launch(self, started: tuple | None = None) -> None:
        """Start a zygote now (or adopt `started`, from grader.sandbox.launch.start_zygote);
        it imports NumPy and isolates itself while the grader goes on with its own work."""
        if self.process is not None:
            self.socket.close()
        popen, ours = started or start_zygote()
        self.process = _ZygoteProcess(popen)
        # the configuration goes through the socket, not the command line (which others see)
        ours.send(json.dumps({"base": self.base, "hide": self.hide}).encode())
        self.socket = ours
        self.ready = False
        self.programs = {}  # a new zygote holds none

    def ensure_ready(self) -> None:
        """A running zygote that has said it is ready (call with the lock held)."""
        if self.process is None or self.process.poll() is not None:
            self.launch()
        if not self.ready:
            hello = json.loads(self.socket.recv(1 << 16) or b"{}")
            if not hello.get("ready"):
                raise SandboxBroken("the sandbox's zygote process failed to start")
            self.isolation, self.protections = hello["isolation"], hello["protections"]
            self.reasons, self.ready = hello["reasons"], True
            if "PID namespace" in self.isolation:
                self.process.find_server()

    def _exchange(self, message: dict, fds: Sequence[int], then=None) -> dict | None:
        """The zygote's reply to `message` (sent with the descriptors `fds`), or None if the
        zygote died, which is then replaced on the next call. `then`, if given, runs between
        sending and reading the reply (to write what the zygote reads before it replies)."""
        self.ensure_ready()
        data = json.dumps(message).encode()
        if len(data) > CONTROL_MESSAGE:
            raise SandboxBroken(f"a request of {len(data)} bytes, more than the zygote reads")
        try:
            socket.send_fds(self.socket, [data], list(fds))
            if then is not None:
                then()
            reply = self.socket.recv(1 << 16)
        except OSError:
            reply = b""
        if reply:
            return json.loads(reply)
        self.process.kill()  # it died: the next call replaces it
        self.process.wait()
        return None

    def request(self, message: dict, fds: Sequence[int] = ()) -> dict:
        """The zygote's reply to one request; {} from a zygote that died (its children died
        with it)."""
        with self.lock:
            return self._exchange(message, fds) or {}

    def spawn(self, setup: dict, fd: int, key: tuple, keep: tuple, body) -> int:
        """The pid of a new child serving the zygote's program `key` with `setup` on the
        channel `fd`. A program the zygote does not hold is sent first (`body()` makes it;
        `keep`, the objects its key names, is kept with it). Retried once on a fresh zygote."""
        with self.lock:
            for _ in range(2):
                self.ensure_ready()
                number = self._program(key, keep, body)
                if number is None:
                    continue  # it died: the next try starts a fresh one
                reply = self._exchange({"op": "spawn", "setup": {**setup, "program": number}},
                                       [fd])
                if reply is not None and "pid" in reply:
                    return reply["pid"]
                if reply is not None and "error" in reply:
                    raise SandboxBroken(f"the sandbox's zygote refused to start a child: "
                                        f"{reply['error']}")
                if reply is not None:  # dropped meanwhile: send it again
                    self.programs.pop(key, None)
            raise SandboxBroken("the sandbox's zygote process keeps dying")

    def _program(self, key: tuple, keep: tuple, body) -> int | None:
        """The zygote's number for program `key`, sending it first if need be; None if the
        zygote died. The zygote keeps the last PROGRAMS programs."""
        if key in self.programs:
            self.programs[key] = self.programs.pop(key)  # the most recently used, last
            return self.programs[key][0]
        while len(self.programs) >= PROGRAMS:
            oldest = next(iter(self.programs))
            number, _ = self.programs.pop(oldest)
            if self._exchange({"op": "drop", "number": number}, ()) is None:
                return None
        number = next(self._numbers)
        data = body()
        ours, theirs = socket.socketpair()

        def send_program():
            theirs.close()  # the zygote holds its own copy now
            wire.write(ours.fileno(), wire.HEADER.pack(len(data)) + data)

        try:
            reply = self._exchange({"op": "program", "number": number}, [theirs.fileno()],
                                   then=send_program)
        finally:
            theirs.close()
            ours.close()
        if reply is None:
            return None
        if "error" in reply:
            raise SandboxBroken(f"the sandbox could not take the calls to make: {reply['error']}")
        self.programs[key] = (number, keep)
        return number

    def close(self, *, wait: bool = True) -> None:
        """End the zygote: closing its socket makes it exit. `wait` false leaves its end to
        itself (a caller about to exit need not wait for it), unless it is still booting: then
        it holds nothing yet, may be building its root in the sandbox's folder, which is removed
        next, and is killed now."""
        if self.process is not None:
            self.socket.close()
            if not self.ready:
                self.process.kill()
                self.process.wait()
            elif wait:
                try:
                    self.process.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait()
            self.process = None


class _Budget:
    """The bytes one submission's children may still send: in all, and of JSON (values other
    than arrays' raw bytes, which cost the grader far more time a byte to read); and the
    characters of printed output still kept."""

    def __init__(self, total: int, json: int, output: int):
        self.total, self.left = total, total
        self.json_total, self.json_left = json, json
        self.output_left = output

    def keep_output(self, output: str, limit: int) -> str:
        """What is kept of a call's printed output (see MAX_SUBMISSION_OUTPUT)."""
        kept = output[:min(limit, max(self.output_left, OUTPUT_HEAD))]
        self.output_left -= len(kept)
        return kept

    def spent(self) -> str:
        """What the submission sent too much of, for a sentence."""
        if self.left > 0 and self.json_left <= 0:
            return (f"more than {self.json_total >> 20} MB of values other than NumPy arrays "
                    "(return arrays rather than lists of numbers)")
        return f"more than {self.total >> 20} MB"


class _TooMuch(Exception):
    pass


class _Session:
    """One child serving a list of calls, read with the grader's deadlines."""

    def __init__(self, sandbox: "Sandbox", setup: dict, program, calls: list[Call],
                 files: tuple[list, list], limits: SandboxLimits, deadline: float,
                 budget: _Budget, sources: dict[str, str]):
        """A child of the zygote's `program` (see `Sandbox._stream`) making `calls`, a part of
        it, on the student's `files` (see `Sandbox._files`; `sources` as in `Sandbox.run`).
        Its first frame holds the files and the positions of its calls in the program."""
        self.sandbox, self.calls, self.limits, self.deadline = sandbox, calls, limits, deadline
        self.budget, self.uid = budget, setup.get("uid")
        key, keep, body, positions = program
        entries, contents = files
        self.entries, self.contents = entries, contents
        self.sources, self.lines = sources, {}  # the lines of code shown, by file name
        first = wire.dumps({"files": entries, "calls": [positions[id(c)] for c in calls]},
                           contents)
        hidden = [c for c in calls if c.hidden]
        self.late = sandbox._late_frame(hidden, positions) if hidden else None
        ours, theirs = socket.socketpair()
        self.sock, self.pid = ours, None
        try:
            self.pid = sandbox.zygote.spawn(setup, theirs.fileno(), key, keep, body)
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()
        try:
            wire.write(ours.fileno(), first)
        except OSError:
            pass  # the child is already gone; reading says why
        self.phase = "start"
        self.imported: set[str] = set()
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
            try:
                chunk = os.read(self.sock.fileno(), min(1 << 20, max(self.budget.left, 1)))
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                raise EOFError
            self.budget.left -= len(chunk)
            if self.budget.left < 0:
                raise _TooMuch
            self.buffer += chunk
        return True

    def _send(self, data: bytes, deadline: float) -> bool:
        """Write `data` to the child; False if it did not take it before the deadline. A child
        that is gone takes it too: reading its answer says what happened."""
        fd, data = self.sock.fileno(), memoryview(data)
        writable = select.poll()
        writable.register(fd, select.POLLOUT)
        os.set_blocking(fd, False)
        try:
            while data:
                wait = deadline - time.monotonic()
                if wait <= 0 or not writable.poll(wait * 1000):
                    return False
                try:
                    data = data[os.write(fd, data):]
                except BlockingIOError:
                    continue
                except OSError:  # closed by the child: its answer (none) says why
                    return True
            return True
        finally:
            os.set_blocking(fd, True)

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
        raw = body[:1] == b"\0" and len(body) >= 1 + wire.HEADER.size
        self.budget.json_left -= wire.HEADER.unpack_from(body, 1)[0] if raw else len(body)
        if self.budget.json_left < 0:
            raise _TooMuch
        message = wire.parse(body)
        self.digest = _value_digest(body) if "value" in message else None
        return message

    def answers(self) -> Iterator[tuple[Call, Outcome]]:
        """Answer calls in order until done or the child fails fatally (the last outcome)."""
        for call in self.calls:
            try:
                outcome = self._answer(call)
            except EOFError:
                outcome = Outcome(error=self._death(call))
            except _TooMuch:
                self.stop()
                outcome = Outcome(error=errors.OutputTooLarge(
                    f"the submission sent the grader {self.budget.spent()} "
                    f"{self._during(call)}; its process was stopped and the calls after it were "
                    "not run.", phase=self.phase, file=call.file, fatal=True))
            except (wire.WireError, ValueError, KeyError, TypeError, OverflowError,
                    RecursionError) as exc:
                self.stop()
                outcome = Outcome(error=errors.Crashed(
                    f"the submission sent the grader something it cannot read {self._during(call)}"
                    f" ({str(exc)[:200]}); its process was stopped.", phase=self.phase,
                    file=call.file, fatal=True))
            yield call, outcome
            if outcome.error is not None and outcome.error.fatal:
                return

    def _answer(self, call: Call) -> Outcome:
        """The child's answer to `call`. The call gets `time_limit` from now; if its file is
        imported first, the call gets `time_limit` again once the import is done, once. The
        child's "phase" frames can do nothing else: the file is the grader's own."""
        deadline = min(time.monotonic() + call.time_limit, self.deadline)
        if call.hidden and self.late is not None:  # the first hidden call: every other is done
            late, self.late = self.late, None
            if not self._send(late, deadline):
                return Outcome(error=self._timeout(call))
        phases, printed = 0, None
        while True:
            message = self.frame(deadline)
            if message is None:
                return Outcome(error=self._timeout(call))
            if "output" in message:  # what the call printed, just before its answer
                if message["output"] != call.id or printed is not None:
                    raise wire.WireError("printed output out of order")
                printed = message
                continue
            if "phase" in message:
                phases += 1
                if phases > MAX_PHASES:
                    raise wire.WireError("too many phase messages")
                if message["phase"] == "import" and call.file not in self.imported:
                    self.phase = "import"
                elif message["phase"] == "call" and self.phase == "import":
                    self.imported.add(call.file)
                    self.phase = "call"
                    deadline = min(time.monotonic() + call.time_limit, self.deadline)
                continue
            if message.get("call") != call.id:
                raise wire.WireError("an answer out of order")
            self.imported.add(call.file)
            self.phase = "call"
            printed = printed or {}
            output = printed.get("out", "")
            output = output if isinstance(output, str) else ""
            dropped = printed.get("dropped", 0)
            kept = self.budget.keep_output(output, self.limits.output_chars)
            outcome = Outcome(output=kept, output_dropped=len(output) - len(kept)
                              + (max(0, dropped) if type(dropped) is int else 0))
            if "error" in message:
                error = message["error"]
                if not isinstance(error, dict):
                    raise wire.WireError("a malformed error")
                outcome.error = errors.from_child(error, file=call.file, function=call.function,
                                                  memory_mb=self.limits.memory_mb)
                if outcome.error.fatal:
                    self.stop()  # a MemoryError or SystemExit leaves the child in doubt
            else:
                try:
                    outcome.value = wire.decode(message["value"], message.get(wire.BLOB, b""))
                    outcome.digest = self.digest
                except wire.WireError as exc:
                    outcome.error = errors.UnsupportedType(
                        f"{call.function} returned a value the grader could not read "
                        f"({str(exc)[:200]}).", phase="call", file=call.file)
            return outcome

    def _during(self, call: Call) -> str:
        if self.phase == "import":
            return f"during import of {call.file}"
        if self.phase == "start":
            return f"before {call.function} could run"
        return f"while running {call.function}"

    def _timeout(self, call: Call) -> errors.SubmissionError:
        total = time.monotonic() >= self.deadline  # decided before the child is asked where
        asked = time.monotonic()
        where = self._stuck_at()
        self.deadline += time.monotonic() - asked  # the asking is the grader's time
        self.stop()
        where = f"\nIt was stopped here:\n{where}" if where else ""
        if total:
            return errors.Timeout(
                f"the submission used up its total time limit of {self.limits.submission_time:g} s "
                f"{self._during(call)}; the calls after it were not run.{where}",
                phase=self.phase, file=call.file, fatal=True)
        what = f"the import of {call.file}" if self.phase == "import" else call.function
        return errors.Timeout(f"{what} did not finish within the time limit of "
                              f"{call.time_limit:g} s. Look for an infinite loop or a much "
                              f"slower algorithm than needed.{where}",
                              phase=self.phase, file=call.file, fatal=True)

    def _stuck_at(self) -> str:
        """Where the child is, as the lines of a traceback through the student's files (see
        grader.sandbox.stuck), or "" if it does not say: asked when it runs out of time, just
        before it is stopped. What it writes is read for at most stuck.WAIT seconds, up to
        stuck.MAX_BYTES, after whatever of a frame was read already; it costs the grader little
        whatever it holds, and a location that cannot be made is only left out."""
        if self.pid is None:
            return ""
        try:
            self.sandbox.zygote.request({"op": "where", "pid": self.pid})
            data, end = bytearray(), time.monotonic() + stuck.WAIT
            while len(data) < stuck.MAX_BYTES:
                wait = min(end - time.monotonic(), stuck.QUIET if data else stuck.WAIT)
                if wait <= 0 or not self.poller.poll(wait * 1000):
                    break
                chunk = os.read(self.sock.fileno(), stuck.MAX_BYTES - len(data))
                if not chunk:
                    break
                data += chunk
            shown = stuck.elided(stuck.frames(data.decode("utf-8", "replace"), list(self.files)
                                              + list(self.sources)))
            return stuck.traceback_lines([None if frame is None else
                                          (*frame, self._code(frame[0], frame[1]))
                                          for frame in shown])
        except Exception:  # noqa: BLE001  (the child's text, or the zygote gone: no location)
            return ""

    @cached_property
    def files(self) -> dict[str, bytes]:
        """The student's files by name (wanted only when the child is asked where it is)."""
        return dict(zip((name for name, _, _ in self.entries), self.contents))

    def _code(self, name: str, line: int) -> str:
        """Line `line` of the student's file `name` (or of a notebook cell's code, from
        `sources`), stripped; "" if there is none."""
        if name not in self.lines:
            data = self.files.get(name) if name.endswith(".py") else None
            self.lines[name] = (data.decode("utf-8", "replace") if data is not None
                                else self.sources.get(name, "")).splitlines()
        lines = self.lines[name]
        return lines[line - 1].strip() if 0 < line <= len(lines) else ""

    def _ended_by_itself(self) -> bool:
        """Whether the child ended (rather than only closing its channel), waiting briefly
        for an exit already under way."""
        for _ in range(10):
            reply = self.sandbox.zygote.request({"op": "poll", "pid": self.pid})
            if not reply.get("alive"):
                self.status = reply.get("status")
                return True
            time.sleep(0.005)
        return False

    def _death(self, call: Call) -> errors.SubmissionError:
        during, phase = self._during(call), self.phase
        ended = self._ended_by_itself()
        status = self.status
        self.stop()
        fields = {"phase": phase, "file": call.file, "fatal": True}
        if not ended or status is not None and os.WIFEXITED(status) \
                and os.WEXITSTATUS(status) == EXIT_BROKEN:
            return errors.Crashed(f"the submission closed its connection to the grader {during}; "
                                  "its process was stopped.", **fields)
        if status is None:
            return errors.Crashed(f"the submission's process ended {during}.", **fields)
        if os.WIFEXITED(status):
            return errors.SubmissionExited(
                f"the submission exited {during} (exit code {os.WEXITSTATUS(status)}). Do not "
                "call sys.exit(), exit() or os._exit() in a submission.", **fields)
        number = os.WTERMSIG(status)
        if number == signal.SIGXCPU:
            return errors.Timeout(f"the submission used more than {self.limits.cpu_seconds} s of "
                                  f"CPU time {during}.", **fields)
        if number == signal.SIGKILL:
            return errors.MemoryLimit(
                f"the submission's process was killed {during}, most likely for using more than "
                f"{self.limits.memory_mb} MB of memory or for killing itself.", **fields)
        if number == signal.SIGSYS:
            return errors.Crashed(f"the submission's process was stopped {during} for a system "
                                  "call the sandbox does not allow.", **fields)
        return errors.Crashed(f"the submission's process died with {errors.signal_name(number)} "
                              f"{during}.", **fields)

    def stop(self) -> None:
        """Kill the child's process group and everything it left behind (its status, if it has
        ended already: the zygote reaps it later otherwise)."""
        if self.pid is None:
            return
        self.sock.close()
        reply = self.sandbox.zygote.request({
            "op": "stop", "pid": self.pid, "orphans": self.limits.processes > 0,
            "uid": self.uid})
        if self.status is None:
            self.status = reply.get("status")
        self.pid = None


class Sandbox:
    """Runs submissions' functions in children of a clean zygote.

    Each child sees only the Python installation and a private copy of its files, writes only
    there and in a private /tmp, has no network, starts no process (unless the problem allows
    it), and can signal or trace nothing outside itself; as root it also runs under its own
    unprivileged uid. `isolation` lists the mechanisms in force, `protections` says which
    mechanisms enforce each protection and `gaps` which protections are off here, and why.
    """

    def __init__(self, *, hide: Sequence[Path] = (), started: tuple | None = None):
        """`started`, a zygote from grader.sandbox.launch.start_zygote, is adopted instead of
        starting one (a command may start it before its own slow imports)."""
        temp = tempfile.gettempdir()
        _remove_stale(temp)
        self.base = tempfile.mkdtemp(prefix=BASE_PREFIX)
        partial = os.path.join(self.base, "lock.part")
        self._lock = os.open(partial, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        fcntl.flock(self._lock, fcntl.LOCK_EX)
        # named `lock` only once held: a sandbox starting meanwhile never takes this for stale
        os.rename(partial, os.path.join(self.base, "lock"))
        for name in ("root", "runs"):
            os.mkdir(os.path.join(self.base, name), 0o700)
        if os.geteuid() == 0:  # without mounts, a child's uid must pass through to its folder
            for path in (self.base, os.path.join(self.base, "runs")):
                os.chmod(path, 0o711)
        self.zygote = Zygote(self.base, hide)
        self.zygote.launch(started)
        self._late: dict[tuple, tuple[tuple, bytes]] = {}  # see _late_frame
        self._late_lock = threading.Lock()
        self.root = os.geteuid() == 0
        self.gid = grp.getgrnam(SANDBOX_GROUP).gr_gid if self.root else None
        self.uids: queue.Queue = queue.Queue()
        self._uid_block = _claim_uid_block() if self.root else None
        if self._uid_block is not None:
            first = UID_BASE + self._uid_block[0] * UID_SLOTS
            for uid in range(first, first + UID_SLOTS):
                self.uids.put(uid)

    def _hello(self) -> Zygote:
        with self.zygote.lock:
            self.zygote.ensure_ready()
        return self.zygote

    @property
    def isolation(self) -> list[str]:
        """The isolation mechanisms in force, e.g. "mount namespace", "Landlock ABI 7"."""
        return self._hello().isolation

    @property
    def protections(self) -> dict[str, list[str]]:
        """Each protection (see grader.sandbox.isolation.PROTECTIONS) and what enforces it."""
        return self._hello().protections

    @property
    def gaps(self) -> list[str]:
        """One sentence per protection that is off here, with the reason; [] when all hold."""
        from grader.sandbox.isolation import describe_gaps
        zygote = self._hello()
        return describe_gaps(zygote.protections, zygote.reasons)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self, *, wait: bool = True) -> None:
        """Stop the zygote (`wait` false: without waiting for it to end) and remove the
        sandbox's private folder."""
        self.zygote.close(wait=wait)
        if getattr(self, "_uid_block", None) is not None:
            os.close(self._uid_block[1])  # the block is free again
            self._uid_block = None
        if self._lock is not None:
            shutil.rmtree(self.base, ignore_errors=True)
            os.close(self._lock)
            self._lock = None

    @staticmethod
    def _files(files: dict) -> tuple[list, list]:
        """The student's files as a child receives them: (entries [name, offset, length],
        contents). `files` maps a name in the child's working directory (`rnn.py`,
        `cs231n/layers.py`) to a path (a regular file is read, never what a link points to,
        nothing over MAX_FILE) or to the bytes to write (the grader's own, such as the module
        a notebook becomes, bounded by its maker; all of them by the working folder's room)."""
        entries, contents, offset = [], [], 0
        for name, source in files.items():
            parts = Path(name).parts
            if not parts or Path(name).is_absolute() or any(p in ("..", ".") for p in parts):
                continue
            data = source if isinstance(source, bytes) else _read_regular(Path(source))
            if data is None:
                continue
            entries.append(["/".join(parts), offset, len(data)])
            contents.append(data)
            offset += len(data)
        return entries, contents

    def _scratch(self, uid: int | None) -> str:
        """An empty working folder for a child, where mounts do not give it its own."""
        scratch = tempfile.mkdtemp(prefix="run-", dir=os.path.join(self.base, "runs"))
        if uid is not None:
            os.chown(scratch, uid, self.gid)
        return scratch

    def run(self, files, calls: Sequence[Call], limits: SandboxLimits = SandboxLimits(), *,
            drivers: dict[str, str] | None = None,
            sources: dict[str, str] | None = None) -> list[Outcome]:
        """Make `calls` against the student's `files` (a mapping as in `_files`, or a
        list of paths placed by their names); one outcome per call, in order. `drivers` holds
        the source of each assignment's course drivers, run in the child next to student
        code; `sources`, the text of student code that runs under a name of its own rather
        than a file's (a notebook's cells: "rnn.ipynb, cell 12"), for the lines of a
        traceback the grader writes (where a call was stopped)."""
        return list(self.stream(files, calls, limits, drivers=drivers, sources=sources))

    def stream(self, files, calls: Sequence[Call], limits: SandboxLimits = SandboxLimits(), *,
               drivers: dict[str, str] | None = None,
               sources: dict[str, str] | None = None) -> Iterator[Outcome]:
        """Like `run`, but each outcome is handed over, in order, as soon as it is known, so a
        caller can judge an answer and drop it before the next arrives. Time the caller spends
        between two outcomes does not count against the submission."""
        if not isinstance(files, dict):
            files = {Path(p).name: Path(p) for p in files if Path(p).suffix == ".py"}
        entries, contents = self._files(files)
        room = max(limits.file_bytes, WORK_MIN_BYTES)  # what the child's working folder holds
        total = sum(len(data) for data in contents)
        if total > room:
            for call in calls:
                yield Outcome(error=errors.FilesTooLarge(
                    f"the submission's files hold {total / (1 << 20):.1f} MB, more than the "
                    f"{room >> 20} MB a submission may have: hand in only the homework's files.",
                    phase="import", file=call.file, fatal=True))
            return
        mounts = "mount namespace" in self.isolation
        uid = self.uids.get() if self.root else None
        scratch = None
        try:
            scratch = None if mounts else self._scratch(uid)
            yield from self._stream((entries, contents), scratch, calls, limits, uid,
                                    drivers or {}, sources or {})
        finally:
            if scratch is not None:
                shutil.rmtree(scratch, ignore_errors=True)
            if uid is not None:
                self.uids.put(uid)

    @staticmethod
    def _program_of(calls: Sequence[Call], drivers: dict[str, str]) -> tuple:
        """The program the zygote keeps for children making `calls` (the same Call objects and
        drivers make the same program, sent once): (its key, the objects the key names, a
        function making its bytes, the position of each call by id())."""
        text = json.dumps(drivers, sort_keys=True)
        calls = tuple(calls)

        def body() -> bytes:
            return ('{"calls":[' + ",".join(c.request for c in calls) + '],"drivers":' + text
                    + "}").encode()

        return ((tuple(map(id, calls)), text), calls, body,
                {id(c): n for n, c in enumerate(calls)})

    def _late_frame(self, calls: Sequence[Call], positions: dict) -> bytes:
        """The frame giving a child the arguments of its hidden `calls` (by their positions in
        the program), sent once it has answered the others; encoded once for the students who
        make the same calls (a few sets are kept)."""
        key = tuple((id(c), positions[id(c)]) for c in calls)
        with self._late_lock:
            found = self._late.get(key)
        if found is not None:
            return found[1]
        # pickled: the child unpickles what the grader sends, never the other way round, and
        # does so for every submission (a tenth of the time wire.decode takes)
        data = pickle.dumps({positions[id(c)]: c.arguments for c in calls}, protocol=5)
        frame = wire.HEADER.pack(len(data)) + data
        with self._late_lock:
            while len(self._late) >= LATE_FRAMES:
                self._late.pop(next(iter(self._late)))
            self._late[key] = (tuple(calls), frame)  # the calls, kept: their ids are in the key
        return frame

    def _stream(self, files: tuple[list, list], scratch: str | None, calls, limits, uid,
                drivers, sources: dict[str, str]) -> Iterator[Outcome]:
        setup = {"scratch": scratch, "uid": uid, "gid": self.gid,
                 "output_chars": limits.output_chars,
                 "limits": {"memory_mb": limits.memory_mb, "cpu_seconds": limits.cpu_seconds,
                            "file_bytes": limits.file_bytes, "processes": limits.processes}}
        program = self._program_of(calls, drivers)
        outcomes: dict[int, Outcome] = {}  # answered, not yet handed over
        answered: set[int] = set()  # every call answered so far (no new child makes it again)
        order = iter(calls)
        waiting = next(order, None)
        deadline = time.monotonic() + limits.submission_time
        budget = _Budget(MAX_SUBMISSION_BYTES, MAX_SUBMISSION_JSON,
                         max(MAX_SUBMISSION_OUTPUT, limits.output_chars))
        pending = list(calls)
        while pending:
            # the hidden calls last: the child sees their arguments only once it has answered
            # every other call, so nothing it says about those can show them
            session = _Session(self, setup, program, sorted(pending, key=lambda c: c.hidden),
                               files, limits, deadline, budget, sources)
            failure = failed = None
            try:
                for call, outcome in session.answers():
                    outcomes[call.id] = outcome
                    answered.add(call.id)
                    if outcome.error is not None and outcome.error.fatal:
                        failure, failed = outcome, call
                    while waiting is not None and waiting.id in outcomes:
                        paused = time.monotonic()
                        yield outcomes.pop(waiting.id)
                        session.deadline += time.monotonic() - paused
                        waiting = next(order, None)
                    deadline = session.deadline
            finally:
                session.stop()
            if failure is None:
                break
            pending = self._after_failure(pending, outcomes, answered, failed, failure,
                                          deadline, budget)
            while waiting is not None and waiting.id in outcomes:
                yield outcomes.pop(waiting.id)
                waiting = next(order, None)

    @staticmethod
    def _after_failure(pending, outcomes, answered, failed, failure, deadline,
                       budget) -> list[Call]:
        """Mark the calls a failure makes pointless; return those still worth a new child (none
        already `answered`)."""
        in_import = failure.error.phase == "import"
        left = []
        for call in pending:
            if call.id in answered or call is failed:
                continue
            if time.monotonic() >= deadline:
                outcomes[call.id] = Outcome(error=errors.NotRun(
                    "not run: the submission had used up its total time limit."))
            elif budget.left <= 0 or budget.json_left <= 0:
                outcomes[call.id] = Outcome(error=errors.NotRun(
                    f"not run: the submission had sent the grader {budget.spent()}."))
            elif call.group == failed.group:
                outcomes[call.id] = Outcome(error=errors.NotRun(
                    f"not run: an earlier case of this problem failed ({failure.error.kind})."))
            elif in_import and call.file == failed.file:
                error = failure.error
                outcomes[call.id] = Outcome(error=type(error)(
                    str(error), phase=error.phase, file=error.file, fatal=error.fatal))
            else:
                left.append(call)
        return left

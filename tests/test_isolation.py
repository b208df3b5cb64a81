"""The sandbox's isolation from the operating system, shown by hostile submissions, as root and
as an unprivileged user (as root, the unprivileged run drops its privileges itself: see
privileges.py). Each hostile function tries its tricks twice: with the audit-hook guard on,
and after switching the guard off from inside, so that only the kernel stands in the way.

Each privilege gets one grading process (the "grader" below, a separate process so that a
submission that killed it would fail the test rather than end the test run) that grades every
hostile submission; the tests then check its report and the machine: nothing read, nothing
written, no network, no signal delivered, no process left, the grader and its zygote alive.
"""
from __future__ import annotations

import json
import os
import secrets
import shutil
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

import privileges
from conftest import PROBLEMS, REFERENCE, ROOT
from grader.sandbox.child import THREADS

TOKEN = f"grader-hostile-{secrets.token_hex(6)}"
LEFTOVER = f"left{secrets.token_hex(5)}"  # the name (comm) of a process meant to outlive its run
SECRET = f"TOP-SECRET-{secrets.token_hex(8)}"
SEED = "424242"  # the fake --hidden-seed on the grader's command line
SETUID = next((p for p in ("/usr/bin/su", "/usr/bin/passwd", "/bin/su", "/usr/bin/mount")
               if os.path.exists(p) and os.stat(p).st_mode & stat.S_ISUID), "/usr/bin/su")

# Helpers every hostile submission starts with.
PRELUDE = '''
import gc, os, signal, sys, time

def attempt(results, label, action):
    try:
        value = action()
    except BaseException as exc:  # noqa: B036 (a hostile student catches everything)
        results[label] = f"refused {type(exc).__name__}: {str(exc)[:80]}"
    else:
        results[label] = "DONE " + (value if isinstance(value, str) else repr(value))[:300]

class _Equal:
    def __eq__(self, other):
        return True
    __hash__ = object.__hash__

def disable_guard():
    """Switch the audit-hook guard off, through its module and its closure's cells."""
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
    try:
        os.listdir("/")
    except child.Refused:
        return "the guard is still on"
    except OSError:
        pass
    return "off"

def phases(body):
    results = {}
    for phase in ("guard on", "guard off"):
        if phase == "guard off":
            attempt(results, "switching the guard off", disable_guard)
        body(results, phase)
    return results

def libc_call(name, *args):
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    result = getattr(libc, name)(*args)
    if result == -1:
        raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))
    return result
'''

HOSTILE = {
    "reads": '''
def with_dir_fd():
    fd = os.open(SECRET_DIR, os.O_RDONLY | os.O_DIRECTORY)
    return os.read(os.open("secret.txt", os.O_RDONLY, dir_fd=fd), 200).decode()

def after_chdir():
    here = os.getcwd()
    try:
        os.chdir(SECRET_DIR)
        return open("secret.txt").read()
    finally:
        os.chdir(here)

def command_lines():
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as handle:
                    found.append(handle.read().decode(errors="replace"))
            except OSError:
                pass
    return " | ".join(found)

def body(results, phase):
    for path in TARGETS:
        attempt(results, f"{phase}: open {path}", lambda: open(path, "rb").read(300).decode("latin-1"))
    attempt(results, f"{phase}: dir_fd", with_dir_fd)
    attempt(results, f"{phase}: chdir", after_chdir)
    attempt(results, f"{phase}: listdir", lambda: os.listdir(SECRET_DIR))
    attempt(results, f"{phase}: readlink", lambda: os.readlink("/proc/1/cwd"))
    attempt(results, f"{phase}: /proc/1/root", lambda: open("/proc/1/root" + SECRET_DIR + "/secret.txt").read())
    attempt(results, f"{phase}: command lines", command_lines)
    attempt(results, f"{phase}: the sandbox's files", lambda: os.listdir(BASE + "/runs"))
    attempt(results, f"{phase}: other submissions", lambda: os.listdir("/.sandbox/inbox"))

def f():
    return phases(body)
''',
    "writes": '''
def with_dir_fd():
    fd = os.open(OUT, os.O_RDONLY | os.O_DIRECTORY)
    return os.write(os.open("dirfd.txt", os.O_WRONLY | os.O_CREAT, dir_fd=fd), b"x")

def after_chdir():
    here = os.getcwd()
    try:
        os.chdir(OUT)
        return open("chdir.txt", "w").write("x")
    finally:
        os.chdir(here)

def body(results, phase):
    attempt(results, f"{phase}: open", lambda: open(OUT + "/open.txt", "w").write("x"))
    attempt(results, f"{phase}: dir_fd", with_dir_fd)
    attempt(results, f"{phase}: chdir", after_chdir)
    attempt(results, f"{phase}: mkfifo", lambda: os.mkfifo(OUT + "/fifo"))
    attempt(results, f"{phase}: symlink", lambda: os.symlink("/etc/passwd", OUT + "/link"))
    attempt(results, f"{phase}: a FIFO for the next run", lambda: os.mkfifo(BASE + "/runs/run-trap"))
    attempt(results, f"{phase}: /tmp", lambda: open("/tmp/" + TOKEN, "w").write("x" * 1000))
    attempt(results, f"{phase}: /dev/shm", lambda: open("/dev/shm/" + TOKEN, "w").write("x"))
    attempt(results, f"{phase}: own directory", lambda: open("mine.txt", "w").write("x"))
    # System V shared memory and queues outlive a child and are seen by later ones
    attempt(results, f"{phase}: System V shared memory", lambda: libc_call("shmget", 0, 4096, 0o1666))
    attempt(results, f"{phase}: System V message queue", lambda: libc_call("msgget", 0, 0o1666))

def f():
    return phases(body)
''',
    "network": '''

def raw_socket():
    return libc_call("socket", 2, 1, 0)

def body(results, phase):
    attempt(results, f"{phase}: tcp", lambda: socket.create_connection(("127.0.0.1", TCP), 1).send(b"x"))
    attempt(results, f"{phase}: udp", lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"x", ("127.0.0.1", UDP)))
    def abstract():
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.connect("\\0" + ABSTRACT)
        return sock.send(b"x")
    attempt(results, f"{phase}: abstract unix socket", abstract)
    if phase == "guard off":
        attempt(results, f"{phase}: socket through libc", raw_socket)

def f():
    return phases(body)
''',
    "signals": '''
def every_pid():
    killed = 0
    for pid in range(1, 40000):
        if pid != os.getpid():
            try:
                os.kill(pid, signal.SIGKILL)
                killed += 1
            except OSError:
                pass
    if killed:
        return f"killed {killed}"
    raise PermissionError("none")

def group_of_parent():
    group = os.getpgid(os.getppid())
    if group in (0, os.getpgid(0)):  # not visible from here: killpg would mean its own group
        raise ProcessLookupError("the parent's group is not visible")
    return group

def body(results, phase):
    attempt(results, f"{phase}: the grader", lambda: os.kill(GRADER, signal.SIGKILL))
    attempt(results, f"{phase}: the parent", lambda: os.kill(os.getppid(), signal.SIGKILL))
    attempt(results, f"{phase}: pid 1", lambda: os.kill(1, signal.SIGKILL))
    attempt(results, f"{phase}: kill -1", lambda: os.kill(-1, signal.SIGKILL))
    attempt(results, f"{phase}: the parent's group", lambda: os.killpg(group_of_parent(), signal.SIGKILL))
    attempt(results, f"{phase}: pidfd", lambda: signal.pidfd_send_signal(os.pidfd_open(os.getppid()), signal.SIGKILL))
    attempt(results, f"{phase}: every pid", every_pid)
    import resource
    attempt(results, f"{phase}: limits of pid 1",
            lambda: resource.prlimit(1, resource.RLIMIT_CORE, (0, 0)))
    attempt(results, f"{phase}: priority of the uid",
            lambda: os.setpriority(os.PRIO_USER, 0, os.getpriority(os.PRIO_USER, 0)))

def f():
    return phases(body)
''',
    "ptrace": '''
def body(results, phase):
    if phase == "guard on":
        return
    for target in (os.getppid(), 1, GRADER):
        attempt(results, f"attach {target}", lambda: libc_call("ptrace", 16, target, 0, 0))
        attempt(results, f"seize {target}", lambda: libc_call("ptrace", 0x4206, target, 0, 0))
        attempt(results, f"memory of {target}", lambda: open(f"/proc/{target}/mem", "rb").read(1))

def f():
    return phases(body)
''',
    "processes": '''
import subprocess, threading

def fork():
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    return pid

def system():
    status = os.system("true")
    if status:
        raise OSError(f"status {status}")
    return status

def thread():
    box = []
    worker = threading.Thread(target=lambda: box.append(1))
    worker.start()
    worker.join()
    return str(box)

def body(results, phase):
    attempt(results, f"{phase}: fork", fork)
    attempt(results, f"{phase}: exec a setuid program", lambda: os.execv(SETUID, [SETUID, "--help"]))
    attempt(results, f"{phase}: posix_spawn", lambda: os.posix_spawn("/bin/true", ["true"], {}))
    attempt(results, f"{phase}: subprocess", lambda: subprocess.run(["/bin/true"]))
    attempt(results, f"{phase}: system", system)
    if phase == "guard off":
        attempt(results, f"{phase}: a user namespace", lambda: libc_call("unshare", 0x10000000))
        attempt(results, f"{phase}: a thread (allowed)", thread)

def f():
    return phases(body)
''',
    "processes allowed": '''
def f():
    results = {"guard": disable_guard()}
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.execv(SETUID, [SETUID, "--help"])
        except OSError as exc:
            os.write(write, f"exec refused ({type(exc).__name__})".encode())
        try:
            os.setsid()
        except OSError:
            pass
        if os.fork() == 0:
            import ctypes
            ctypes.CDLL(None).prctl(15, LEFTOVER.encode(), 0, 0, 0)  # PR_SET_NAME
            time.sleep(120)  # left behind on purpose
        os._exit(0)
    os.close(write)
    results["grandchild"] = os.read(read, 200).decode()
    os.waitpid(pid, 0)
    return results
''',
    "channels": '''
import fcntl, mmap, struct
import numpy

SHARED = numpy.__file__  # a file every child, of every submission graded now, can open
LOCK = struct.pack("hhqqi", fcntl.F_RDLCK, 0, 1 << 30, 1, 0)  # a byte far past the end

def on_shared(action, directory=False):
    fd = os.open(os.path.dirname(SHARED) if directory else SHARED, os.O_RDONLY)
    try:
        return action(fd)
    finally:
        os.close(fd)

def body(results, phase):
    # locks on a file others can open, set or looked up, are seen by every process that opens
    # it: a channel between submissions graded at the same time
    attempt(results, f"{phase}: lockf", lambda: on_shared(
        lambda fd: fcntl.lockf(fd, fcntl.LOCK_SH | fcntl.LOCK_NB, 1, 1 << 30)))
    attempt(results, f"{phase}: flock", lambda: on_shared(
        lambda fd: fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)))
    for name, command in (("F_GETLK", 5), ("F_SETLK", 6), ("F_OFD_GETLK", 36),
                          ("F_OFD_SETLK", 37)):
        attempt(results, f"{phase}: {name}", lambda: on_shared(
            lambda fd: fcntl.fcntl(fd, command, LOCK)))
    attempt(results, f"{phase}: lease", lambda: on_shared(
        lambda fd: fcntl.fcntl(fd, 1024, fcntl.F_RDLCK)))
    attempt(results, f"{phase}: directory notices", lambda: on_shared(
        lambda fd: fcntl.fcntl(fd, 1026, 1), directory=True))
    # pages of a file in the page cache, shared by every process: evicted, or looked for
    # without being read
    attempt(results, f"{phase}: evict pages", lambda: on_shared(
        lambda fd: os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)))
    attempt(results, f"{phase}: read without waiting", lambda: on_shared(
        lambda fd: os.preadv(fd, [bytearray(1)], 0, os.RWF_NOWAIT)))
    attempt(results, f"{phase}: page out", lambda: on_shared(
        lambda fd: mmap.mmap(fd, 4096, prot=mmap.PROT_READ).madvise(21)))  # MADV_PAGEOUT
    # what another process (the zygote, PID 1 here) set of its own: a sibling's, as well
    for name, read in (("priority", lambda: os.getpriority(os.PRIO_PROCESS, 1)),
                       ("affinity", lambda: os.sched_getaffinity(1)),
                       ("scheduler", lambda: os.sched_getscheduler(1)),
                       ("scheduling parameters", lambda: os.sched_getparam(1)),
                       ("process group", lambda: os.getpgid(1)),
                       ("session", lambda: os.getsid(1))):
        attempt(results, f"{phase}: another process's {name}", read)
    attempt(results, f"{phase}: own priority", lambda: os.getpriority(os.PRIO_PROCESS, 0))
    attempt(results, f"{phase}: own affinity", lambda: sorted(os.sched_getaffinity(0)))
    attempt(results, f"{phase}: own affinity by PID",
            lambda: sorted(os.sched_getaffinity(os.getpid())))
    # a file mapped shared: a futex in it is the file's, shared with whoever maps it
    attempt(results, f"{phase}: shared mapping", lambda: on_shared(
        lambda fd: mmap.mmap(fd, 4096, prot=mmap.PROT_READ).close()))
    attempt(results, f"{phase}: own private mapping", lambda: on_shared(
        lambda fd: mmap.mmap(fd, 4096, mmap.MAP_PRIVATE, mmap.PROT_READ).close()))
    if phase == "guard off":
        attempt(results, f"{phase}: inotify", lambda: libc_call("inotify_init1", 0))
        attempt(results, f"{phase}: fanotify", lambda: libc_call("fanotify_init", 0, 0))
        import ctypes
        state = ctypes.create_string_buffer(64)
        attempt(results, f"{phase}: cached pages", lambda: on_shared(
            lambda fd: libc_call("syscall", 451, fd, state, state, 0)))  # cachestat
        attempt(results, f"{phase}: pages in memory", lambda: on_shared(
            lambda fd: libc_call("mincore", ctypes.c_void_p(ctypes.addressof(
                ctypes.c_char.from_buffer(mmap.mmap(fd, 4096, mmap.MAP_PRIVATE)))),
                4096, state)))
        attempt(results, f"{phase}: another process's I/O priority",
                lambda: libc_call("syscall", 252, 1, 1))  # ioprio_get(IOPRIO_WHO_PROCESS, 1)
        context = ctypes.c_ulong(0)
        attempt(results, f"{phase}: asynchronous I/O",  # io_submit takes RWF_NOWAIT too
                lambda: libc_call("syscall", 206, 1, ctypes.byref(context)))  # io_setup
        attempt(results, f"{phase}: futex_waitv", lambda: libc_call("syscall", 449, 0, 0, 0, 0, 0))

def f():
    return phases(body)
''',
    "threads": '''
import threading

def start_threads():
    threading.stack_size(1 << 16)  # small stacks: the memory limit is not what stops them
    started, go = [], threading.Event()
    try:
        while len(started) < 200:
            thread = threading.Thread(target=go.wait)
            thread.start()
            started.append(thread)
    except RuntimeError:
        pass
    finally:
        go.set()
        for thread in started:
            thread.join()
    return len(started)

def f():
    return {"threads": start_threads()}
''',
    "memory": '''
def open_files():
    held = []
    try:
        while len(held) < 100000:
            held.append(os.dup(0))
    except OSError as exc:
        return f"{len(held) + 3} then {type(exc).__name__}"
    finally:
        for fd in held:
            os.close(fd)
    return f"{len(held)} and more"

def body(results, phase):
    # memory in files that are in no folder, or in queues that outlive the child: no memory
    # limit counts it
    attempt(results, f"{phase}: memfd", lambda: os.memfd_create("x"))
    if phase == "guard off":
        attempt(results, f"{phase}: memfd through libc", lambda: libc_call("memfd_create", b"x", 0))
        attempt(results, f"{phase}: POSIX message queue",
                lambda: libc_call("mq_open", b"/" + TOKEN.encode(), 0o102, 0o600, None))
    attempt(results, f"{phase}: open files", open_files)

def f():
    return phases(body)
''',
    "victim": '''
def f():
    time.sleep(2.5)
    return {"victim": "alive"}
''',
}

# The grader process: grades every hostile submission with one sandbox, then reports.
GRADER = '''
import json, os, shutil, socket, sys, tempfile, threading, time
from pathlib import Path
from grader.sandbox.host import Call, Sandbox, SandboxLimits

spec = json.loads(sys.stdin.read())
tcp = socket.socket(); tcp.bind(("127.0.0.1", 0)); tcp.listen(); tcp.setblocking(False)
udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); udp.bind(("127.0.0.1", 0))
udp.setblocking(False)
abstract = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
abstract.bind("\\0" + spec["token"]); abstract.listen(); abstract.setblocking(False)
report = {"grader": os.getpid()}
folder = tempfile.mkdtemp()

def children_of(pid, wait=1.0):
    # alive ones: a killed child is reaped before the zygote forks the next (a zombie till then)
    deadline = time.monotonic() + wait
    while True:
        found = []
        for entry in os.listdir("/proc"):
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    fields = handle.read().rsplit(")", 1)[1].split()
                if int(fields[1]) == pid and fields[0] != "Z":
                    found.append(int(entry))
            except (OSError, ValueError, IndexError):
                pass
        if not found or time.monotonic() > deadline:
            return found
        time.sleep(0.02)

def grade(box, name, processes=0):
    constants = {**spec["constants"], "GRADER": os.getpid(), "TCP": tcp.getsockname()[1],
                 "UDP": udp.getsockname()[1], "ABSTRACT": spec["token"], "BASE": box.base}
    code = spec["prelude"] + "".join(f"{k} = {v!r}\\n" for k, v in constants.items()) \\
        + spec["hostile"][name]
    path = Path(folder, name.replace(" ", "_"), "hw.py")
    path.parent.mkdir()
    path.write_text(code)
    (outcome,) = box.run([path], [Call(0, "hw.py", "f", {}, 20.0, "p")],
                         SandboxLimits(submission_time=30, processes=processes))
    return {"value": outcome.value if isinstance(outcome.value, dict) else repr(outcome.value),
            "error": None if outcome.error is None else
            {"kind": outcome.error.kind, "message": str(outcome.error)}}

with Sandbox(hide=spec["hide"]) as box:
    report.update(isolation=box.isolation, protections=box.protections, gaps=box.gaps,
                  base=box.base)
    zygote = box.zygote.process.pid
    victim = {}
    waiting = threading.Thread(target=lambda: victim.update(grade(box, "victim")))
    waiting.start()
    time.sleep(1.0)  # the victim is running while the others attack
    for name in spec["hostile"]:
        if name != "victim":
            report[name] = grade(box, name, 2 if name == "processes allowed" else 0)
    waiting.join()
    report["victim"] = victim
    report["zygote unchanged"] = box.zygote.process.pid == zygote \\
        and box.zygote.process.poll() is None
    report["zygote children"] = children_of(zygote)
shutil.rmtree(folder)  # the submissions' files, written by this process
try:
    tcp.accept()
    report["tcp"] = "accepted"
except BlockingIOError:
    report["tcp"] = "nothing"
try:
    report["udp"] = udp.recv(100).decode()
except BlockingIOError:
    report["udp"] = "nothing"
try:
    abstract.accept()
    report["abstract"] = "accepted"
except BlockingIOError:
    report["abstract"] = "nothing"
report["base left"] = os.path.exists(report["base"])
print(json.dumps(report))
'''


def processes_named(name: str) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if Path(f"/proc/{entry}/comm").read_text().strip() == name:
                    found.append(int(entry))
            except OSError:
                pass
    return found


@pytest.fixture(scope="module", params=["root", "unprivileged"])
def attacked(request):
    """The report of a grader that graded every hostile submission, and the places the
    submissions tried to reach, checked afterwards."""
    if request.param == "root" and os.geteuid() != 0:
        pytest.skip("not running as root")
    places = Path(tempfile.mkdtemp(prefix="grader-hostile-"))
    secret_dir, out = places / "course", places / "out"
    secret_dir.mkdir()
    out.mkdir()
    (secret_dir / "secret.txt").write_text(SECRET)
    (secret_dir / "autograder.zip").write_text(SECRET + " (an autograder zip)")
    for path, mode in ((places, 0o755), (secret_dir, 0o755), (out, 0o777),
                       (secret_dir / "secret.txt", 0o644), (secret_dir / "autograder.zip", 0o644)):
        path.chmod(mode)
    targets = [str(secret_dir / "secret.txt"), str(secret_dir / "autograder.zip"),
               str(REFERENCE / "rnn.py"), str(ROOT / ".git" / "HEAD"), "/etc/passwd"]
    spec = {"prelude": PRELUDE, "hostile": HOSTILE, "token": TOKEN,
            "hide": [str(PROBLEMS), str(REFERENCE)],
            "constants": {"SECRET_DIR": str(secret_dir), "OUT": str(out), "TOKEN": TOKEN,
                          "TARGETS": targets, "SETUID": SETUID, "LEFTOVER": LEFTOVER}}
    command = [sys.executable, "-c", GRADER, f"--hidden-seed={SEED}"]
    if request.param == "unprivileged":
        command = privileges.unprivileged(command)
    start = time.monotonic()
    done = subprocess.run(command, input=json.dumps(spec), capture_output=True, text=True,
                          timeout=240, cwd=places)
    assert done.returncode == 0, f"the grader died ({done.returncode}):\n{done.stderr[-3000:]}"
    report = json.loads(done.stdout)
    report["seconds"] = time.monotonic() - start
    report["privilege"] = request.param
    time.sleep(0.2)
    report["left on the machine"] = {
        "out": sorted(os.listdir(out)),
        "tmp": [p for p in (f"/tmp/{TOKEN}", f"/dev/shm/{TOKEN}") if os.path.exists(p)],
        "processes": processes_named(LEFTOVER)}
    yield report
    shutil.rmtree(places, ignore_errors=True)


def values(report, name) -> dict:
    entry = report[name]
    assert entry["error"] is None and isinstance(entry["value"], dict), entry
    return entry["value"]


def allowed(got: dict, *exceptions: str) -> dict:
    """The attempts that were not refused (the guard's own switch aside)."""
    return {k: v for k, v in got.items() if not v.startswith("refused")
            and k != "switching the guard off" and k not in exceptions}


def test_every_protection_is_on_here(attacked):
    assert attacked["gaps"] == [], attacked["gaps"]
    assert attacked["seconds"] < 60


def test_the_guard_can_be_switched_off_so_the_kernel_is_tested(attacked):
    for name in ("reads", "writes", "network", "signals", "ptrace", "processes",
                 "channels"):
        assert values(attacked, name)["switching the guard off"] == "DONE off"


def test_nothing_outside_is_read(attacked):
    got = values(attacked, "reads")
    for label, result in got.items():
        assert SECRET not in result and SEED not in result, (label, result)
        assert "def " not in result and "ref: refs" not in result and "root:" not in result, \
            (label, result)
        if label == "guard off: other submissions" and result == "DONE []":
            continue  # only an empty folder is left in the child's own mount namespace
        if label != "switching the guard off" and "command lines" not in label:
            assert result.startswith("refused"), (label, result)


def test_nothing_outside_is_written(attacked):
    got = values(attacked, "writes")
    assert got["guard on: own directory"] == got["guard off: own directory"] == "DONE 1"
    for label in got:
        if "/tmp" not in label and "/dev/shm" not in label and "own" not in label \
                and label != "switching the guard off":
            assert got[label].startswith("refused"), (label, got[label])
    assert got["guard on: /tmp"].startswith("refused")  # the guard's friendly refusal
    left = attacked["left on the machine"]
    assert left["out"] == [] and left["tmp"] == []
    assert attacked["base left"] is False


def test_no_network(attacked):
    assert allowed(values(attacked, "network")) == {}
    assert (attacked["tcp"], attacked["udp"], attacked["abstract"]) == ("nothing",) * 3


def test_no_signal_reaches_the_grader_the_zygote_or_another_submission(attacked):
    assert values(attacked, "victim") == {"victim": "alive"}
    assert attacked["zygote unchanged"] is True
    # kill(-1) reports success even when every process refused the signal: its effect is
    # what the two lines above check
    assert allowed(values(attacked, "signals"), "guard off: kill -1") == {}


def test_no_tracing(attacked):
    got = values(attacked, "ptrace")
    assert len(got) > 1 and allowed(got) == {}


def test_no_new_process_and_no_setuid_program(attacked):
    got = values(attacked, "processes")
    assert got["guard off: a thread (allowed)"] == "DONE [1]"
    assert allowed(got, "guard off: a thread (allowed)") == {}
    permitted = values(attacked, "processes allowed")
    assert permitted["grandchild"].startswith("exec refused")


def test_no_channel_between_submissions_through_files_or_other_processes(attacked):
    """Locks (set, or looked up), notices of who opens a file, and which of a file's pages are
    in the page cache are seen by every process that can open the file, as every child can the
    Python installation's; and anyone may read another process's priority or scheduling: the
    kernel refuses them all (a child's own aside), so that children graded at the same time
    cannot talk (hidden inputs included)."""
    got = values(attacked, "channels")
    own = [label for label in got if ": own " in label]
    assert len(got) == 52 and allowed(got, *own) == {}, got
    assert len(own) == 8 and all(got[label].startswith("DONE") for label in own), got
    for label, result in got.items():
        if label.startswith("guard off") and label != "switching the guard off" \
                and label not in own:
            assert "Operation not permitted" in result, (label, result)


def test_a_child_s_threads_are_bounded_as_root_and_without(attacked):
    """Each thread is a task of the host: without root (children share the grader's uid), a
    user namespace of the child's own is where the kernel counts them."""
    assert 1 <= values(attacked, "threads")["threads"] <= THREADS


def test_no_memory_that_the_limits_do_not_count(attacked):
    got = values(attacked, "memory")
    for label in ("guard on: memfd", "guard off: memfd", "guard off: memfd through libc",
                  "guard off: POSIX message queue"):  # refused by seccomp, not only Landlock
        assert got[label].startswith("refused") and "Operation not permitted" in got[label], \
            (label, got[label])
    for phase in ("guard on", "guard off"):
        held, _, error = got[f"{phase}: open files"].removeprefix("DONE ").partition(" then ")
        assert int(held) <= 256 and error == "OSError", got[f"{phase}: open files"]


def test_nothing_is_left_running(attacked):
    assert attacked["zygote children"] == []
    assert attacked["left on the machine"]["processes"] == []


# The seccomp filters alone, loaded as a child loads them, against a sibling of the same uid
# (as children and the zygote are without root). Every attempt would change nothing (it sets
# what is already set): the kernel's answer is what counts.
FILTERS_ALONE = r'''
import ctypes, json, os, platform, resource, signal, time
from grader.sandbox import isolation as iso
sibling = os.fork()
if sibling == 0:
    iso._prctl(iso.PR_SET_PDEATHSIG, signal.SIGKILL)
    time.sleep(60)
    os._exit(0)
compiler = iso._Seccomp()
numbers = {n: compiler.number(n) for n in iso.SIGNAL_SYSCALLS if compiler.number(n) is not None}
numbers["fcntl"] = compiler.number("fcntl")
arch = iso._AUDIT_ARCH[platform.machine()]
iso._prctl(iso.PR_SET_NO_NEW_PRIVS, 1)
iso._load_bpf(compiler.compile(allow_processes=False))
iso._load_bpf(iso._with_pid(iso._signal_filter(arch, numbers, iso._PID_MARK, children=False),
                            os.getpid()))
libc = ctypes.CDLL(None, use_errno=True)

def syscall(name, *args):
    if libc.syscall(numbers[name], *args) == -1:
        raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))

info = ctypes.create_string_buffer(128)  # a siginfo: signal 0, code SI_QUEUE
ctypes.memmove(info, (ctypes.c_int * 3)(0, 0, -1), 12)
fsize = resource.getrlimit(resource.RLIMIT_FSIZE)
results = {}

def attempt(label, action):
    try:
        action()
        results[label] = "done"
    except OSError as exc:
        results[label] = f"refused {exc.errno}"

attempt("sibling: prlimit", lambda: resource.prlimit(sibling, resource.RLIMIT_FSIZE, fsize))
attempt("sibling: setpriority", lambda: os.setpriority(os.PRIO_PROCESS, sibling, 0))
attempt("uid: setpriority",
        lambda: os.setpriority(os.PRIO_USER, 0, os.getpriority(os.PRIO_USER, 0)))
attempt("sibling: affinity", lambda: os.sched_setaffinity(sibling, os.sched_getaffinity(0)))
attempt("sibling: scheduler",
        lambda: os.sched_setscheduler(sibling, os.SCHED_OTHER, os.sched_param(0)))
attempt("sibling: queued signal", lambda: syscall("rt_sigqueueinfo", sibling, 0, info))
attempt("sibling: queued thread signal",
        lambda: syscall("rt_tgsigqueueinfo", sibling, sibling, 0, info))
attempt("sibling: kill", lambda: os.kill(sibling, 0))
import fcntl, struct
read_end, write_end = os.pipe()
attempt("sibling: owner of a file's signals", lambda: fcntl.fcntl(read_end, fcntl.F_SETOWN, sibling))
attempt("sibling: owner of a file's signals (ioctl)",
        lambda: fcntl.ioctl(read_end, 0x8901, struct.pack("i", sibling)))
attempt("sibling: owner of a file's signals (raw, upper bits set)",
        lambda: syscall("fcntl", read_end, ctypes.c_long((1 << 32) | fcntl.F_SETOWN), sibling))
attempt("own: prlimit", lambda: resource.prlimit(0, resource.RLIMIT_FSIZE, fsize))
attempt("own: setrlimit", lambda: resource.setrlimit(resource.RLIMIT_CORE, (0, 0)))
attempt("own: setpriority", lambda: os.setpriority(os.PRIO_PROCESS, 0, 0))
attempt("own: affinity", lambda: os.sched_setaffinity(0, os.sched_getaffinity(0)))
attempt("own: queued signal", lambda: syscall("rt_sigqueueinfo", os.getpid(), 0, info))
print(json.dumps(results))
'''


@pytest.mark.parametrize("privilege", ["root", "unprivileged"])
def test_the_seccomp_filters_keep_a_child_off_its_siblings(privilege):
    """Without root, the zygote and every child share a uid, which is all the kernel asks of
    one process changing another's limits or priority, or queueing it a signal: the filters
    refuse those calls unless they name the caller itself (a student's child lowering the
    zygote's file size limit made every later child of the class fail)."""
    if privilege == "root" and os.geteuid() != 0:
        pytest.skip("not running as root")
    command = [sys.executable, "-c", FILTERS_ALONE]
    if privilege == "unprivileged":
        command = privileges.unprivileged(command)
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    results = json.loads(done.stdout)
    assert {k: v for k, v in results.items() if not k.startswith("own")} == {
        k: "refused 1" for k in results if not k.startswith("own")}
    assert {k: v for k, v in results.items() if k.startswith("own")} == {
        k: "done" for k in results if k.startswith("own")}


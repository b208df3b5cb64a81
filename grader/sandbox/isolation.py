"""Isolation of sandboxed children from the operating system (Linux). It owns three things:
what the kernel and the container allow (`probe`); the namespaces and file-system view the
zygote sets up once for all its children (`enter_namespaces`, `build_root`); and what every
forked child applies before any student code runs (`Confinement.apply`): its own mount
namespace with a private, size-limited working directory and /tmp, Landlock rules, dropped
capabilities, no_new_privs and a seccomp filter. It also names each protection and the
mechanisms that enforce it, so the grader can say loudly which protections are off.

Landlock is used through its three system calls and seccomp through the system's libseccomp
(`libseccomp.so.2`), both with ctypes; this module imports only the standard library, since it
runs in the zygote, whose memory every child shares.
"""
from __future__ import annotations

import ctypes
import json
import os
import platform
import resource
import signal
import stat
import struct
import sys
import sysconfig
from dataclasses import dataclass, field

_libc = ctypes.CDLL(None, use_errno=True)
LINUX = sys.platform.startswith("linux")

CLONE_NEWNS, CLONE_NEWCGROUP, CLONE_NEWUTS = 0x00020000, 0x02000000, 0x04000000
CLONE_NEWIPC, CLONE_NEWUSER, CLONE_NEWPID = 0x08000000, 0x10000000, 0x20000000
CLONE_NEWNET, CLONE_NEWTIME, CLONE_THREAD = 0x40000000, 0x00000080, 0x00010000
NAMESPACE_FLAGS = (CLONE_NEWNS, CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWUSER,
                   CLONE_NEWPID, CLONE_NEWNET, CLONE_NEWTIME)
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
MNT_DETACH = 2
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_SET_SECCOMP = 1, 4, 22
PR_SET_CHILD_SUBREAPER, PR_SET_NO_NEW_PRIVS = 36, 38
SECCOMP_MODE_FILTER = 2
_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41, "riscv64": 41}  # not wrapped by glibc
_LANDLOCK_CREATE_RULESET, _LANDLOCK_ADD_RULE, _LANDLOCK_RESTRICT_SELF = 444, 445, 446

# Landlock access rights (include/uapi/linux/landlock.h) and the ABI that introduced them.
FS_EXECUTE, FS_WRITE_FILE, FS_READ_FILE, FS_READ_DIR = 1, 2, 4, 8
FS_MAKE_CHAR, FS_MAKE_BLOCK, FS_REFER, FS_TRUNCATE, FS_IOCTL_DEV = 64, 2048, 8192, 16384, 32768
_FS_RIGHTS_BY_ABI = {1: (1 << 13) - 1, 2: (1 << 14) - 1, 3: (1 << 15) - 1, 4: (1 << 15) - 1}
NET_BIND_TCP, NET_CONNECT_TCP = 1, 2
SCOPE_ABSTRACT_UNIX_SOCKET, SCOPE_SIGNAL = 1, 2

# Devices a child may use, and whether it may write them.
DEVICES = {"null": True, "zero": True, "full": True, "random": False, "urandom": False}
# Paths in the zygote's root, when mounts work: each child's working directory (its own tmpfs,
# where it writes the files the grader sends it) and /tmp (each child's own tmpfs, unless the
# Python installation lies beneath /tmp, which the private /tmp would cover).
WORK, TMP = "/.sandbox/work", "/tmp"
WORK_MIN_BYTES = 1 << 20  # a child's working folder holds at least this (else its file limit)

# Every protection and, for the README and the caller, what it means.
PROTECTIONS = {
    "reads": "reads only of its own files and the Python installation",
    "writes": "writes only in its own working directory and a private /tmp",
    "network": "no network, loopback and abstract unix sockets included",
    "processes": "no new processes unless the problem allows them; never a new program",
    "signals": "no signals to the grader, the zygote or other submissions",
    "ptrace": "no tracing or reading the memory of other processes",
    "privileges": "no_new_privs: setuid programs give no privilege",
    "leftovers": "nothing outlives the submission: its processes and files go with it",
    "process-list": "other processes' command lines (the grader's options) are not visible",
}


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64),
                ("scoped", ctypes.c_uint64)]


class _PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_char_p)]


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


def _check(result: int, what: str) -> int:
    if result == -1:
        number = ctypes.get_errno()
        raise OSError(number, f"{what}: {os.strerror(number)}")
    return result


def _mount(source, target, fstype, flags, data=None) -> None:
    enc = lambda s: None if s is None else os.fsencode(s)  # noqa: E731
    _check(_libc.mount(enc(source), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data)),
           f"mount {target}")


def _prctl(option: int, arg: int = 0, what: str = "prctl") -> None:
    _check(_libc.prctl(option, ctypes.c_ulong(arg), ctypes.c_ulong(0), ctypes.c_ulong(0),
                       ctypes.c_ulong(0)), what)


def landlock_abi() -> int:
    """The Landlock ABI version of the running kernel, 0 without Landlock."""
    if not LINUX:
        return 0
    version = _libc.syscall(_LANDLOCK_CREATE_RULESET, None, ctypes.c_size_t(0), ctypes.c_uint32(1))
    return max(version, 0)


# -- seccomp, through libseccomp ------------------------------------------------------------

class _ArgCmp(ctypes.Structure):
    _fields_ = [("arg", ctypes.c_uint), ("op", ctypes.c_int), ("datum_a", ctypes.c_uint64),
                ("datum_b", ctypes.c_uint64)]


_SCMP_ACT_ALLOW, _SCMP_ACT_KILL_PROCESS = 0x7FFF0000, 0x80000000
_SCMP_CMP_NE, _SCMP_CMP_MASKED_EQ, _SCMP_FLTATR_ACT_BADARCH = 1, 7, 2
# libseccomp 2.5's filter layout: 2 sorts the system calls into a binary tree, which the kernel
# loads in 0.09 ms where a linear filter of the same rules takes 0.21 ms, in every child
_SCMP_FLTATR_CTL_OPTIMIZE, _BINARY_TREE = 8, 2
_RET_ERRNO = 0x00050000
EPERM, ENOSYS = 1, 38

# Refused to every child (EPERM, which Python raises as PermissionError).
DENIED_SYSCALLS = (
    "execve", "execveat", "ptrace", "process_vm_readv", "process_vm_writev", "kcmp",
    "pidfd_open", "pidfd_getfd", "pidfd_send_signal", "unshare", "setns", "setsid", "setpgid",
    "mount", "umount2", "pivot_root", "chroot", "move_mount", "open_tree", "fsopen", "fsconfig",
    "fsmount", "fspick", "mount_setattr", "socket", "socketpair", "bpf", "perf_event_open",
    "userfaultfd", "keyctl", "add_key", "request_key", "io_uring_setup", "io_uring_enter",
    "io_uring_register", "acct", "swapon", "swapoff", "reboot", "kexec_load", "kexec_file_load",
    "init_module", "finit_module", "delete_module", "quotactl", "syslog", "name_to_handle_at",
    "open_by_handle_at", "iopl", "ioperm", "vhangup", "tkill",
    # System V IPC and POSIX message queues: their objects outlive a child and are shared by
    # every child of the zygote
    "shmget", "shmat", "shmdt", "shmctl", "msgget", "msgsnd", "msgrcv", "msgctl", "semget",
    "semop", "semtimedop", "semctl", "ipc", "mq_open", "mq_unlink", "mq_timedsend",
    "mq_timedreceive", "mq_notify", "mq_getsetattr",
    # memory held by a file that is in no folder: no memory limit counts it
    "memfd_create", "memfd_secret",
    # locks, and watching files others open: every child can open the Python installation's
    # files, so other submissions graded at the same time would see them (a channel between
    # them, hidden inputs included)
    "flock", "inotify_init", "inotify_init1", "inotify_add_watch", "fanotify_init",
    "fanotify_mark",
    # futexes that need no shared memory of the caller's own (waitv's, and the newer calls,
    # whose flags say whether they are private): see SHARED_FILE_MAPPINGS
    "futex_waitv", "futex_wait", "futex_wake", "futex_requeue")
NEW_PROCESS_SYSCALLS = ("fork", "vfork")
# Calls that change another process's limits, priority, scheduling or memory placement, named
# by the PID argument first (0: the caller). Without root, every child and the zygote share a
# uid, which is all the kernel asks of them: each is refused unless it names the caller by 0.
OWN_PROCESS_SYSCALLS = ("prlimit64", "sched_setaffinity", "sched_setscheduler",
                        "sched_setparam", "sched_setattr", "migrate_pages", "move_pages")
# Calls that read another process's scheduling, or whether it exists, which the kernel allows
# anyone: what one child sets of its own, another child graded at the same time would read (a
# channel between them, hidden inputs included). The hand-built filter (see _signal_filter)
# allows them on the child itself only, by 0 or its PID.
OWN_READ_SYSCALLS = ("sched_getaffinity", "sched_getscheduler", "sched_getparam",
                     "sched_getattr", "sched_rr_get_interval", "getpgid", "getsid")
# (name, "which" naming one process): priorities set or read for a process group or a whole
# uid are refused too, as are those of another process.
OWN_PRIORITY_SYSCALLS = (("setpriority", 0), ("ioprio_set", 1),  # PRIO_PROCESS,
                         ("getpriority", 0), ("ioprio_get", 1))  # IOPRIO_WHO_PROCESS
# Whether pages of a file are in the kernel's page cache is shared by every process: a child
# that evicts pages of an installation file, or tests whether they are there without reading
# them, would pass bits to any other (refused: the fadvise calls, mincore, cachestat, and the
# reclaiming advice of madvise, MADV_COLD and MADV_PAGEOUT, by (call, argument, value); reads
# and writes that must not wait, RWF_NOWAIT of preadv2 and pwritev2, by (call, argument, flag)).
PAGE_CACHE_SYSCALLS = ("fadvise64", "fadvise64_64", "arm_fadvise64_64", "mincore", "cachestat",
                       "process_madvise", "io_setup", "io_submit", "io_getevents",
                       "io_pgetevents", "io_cancel", "io_destroy")  # Linux AIO: RWF_NOWAIT too
# A file mapped shared (not a private copy): a futex in it is the file's, and so shared with
# every process that maps the file, other children graded at the same time included. Refused
# by (mmap's flags masked with MAP_SHARED_VALIDATE | MAP_ANONYMOUS, value): shared, of a file.
SHARED_FILE_MAPPINGS = ((0x23, 0x01), (0x23, 0x03))
PAGE_CACHE_ARGUMENTS = (("madvise", 2, 20), ("madvise", 2, 21))
PAGE_CACHE_FLAGS = (("preadv2", 5, 0x8), ("pwritev2", 5, 0x8))
# Signals the hand-built filter (see _signal_filter) keeps to the child itself: by PID (or
# process group) in the first argument, or by thread group in the first argument.
SIGNAL_SYSCALLS = {"kill": "pid", "rt_sigqueueinfo": "tgid", "tgkill": "tgid",
                   "rt_tgsigqueueinfo": "tgid"}
# Making another process the owner of a file's I/O signals (then any signal, SIGKILL included,
# reaches it when the file is ready): (system call, command) pairs, refused outright.
SIGNAL_OWNER_COMMANDS = (("fcntl", 8), ("fcntl", 15),        # F_SETOWN, F_SETOWN_EX
                         ("ioctl", 0x8901), ("ioctl", 0x8902))  # FIOSETOWN, SIOCSPGRP
# fcntl's record locks (set or looked up: either reads what other processes locked), leases and
# directory notices, refused for the reason flock is (see DENIED_SYSCALLS): F_GETLK, F_SETLK,
# F_SETLKW, their open-file forms F_OFD_*, F_SETLEASE, F_GETLEASE, F_NOTIFY.
FILE_LOCK_COMMANDS = (5, 6, 7, 36, 37, 38, 1024, 1025, 1026)


class _Seccomp:
    """The few libseccomp calls needed to compile a filter into BPF (done once, in the zygote)."""

    def __init__(self):
        lib = ctypes.CDLL("libseccomp.so.2", use_errno=True)
        lib.seccomp_init.restype, lib.seccomp_init.argtypes = ctypes.c_void_p, [ctypes.c_uint32]
        lib.seccomp_release.argtypes = [ctypes.c_void_p]
        lib.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
        lib.seccomp_rule_add_array.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int,
                                               ctypes.c_uint, ctypes.POINTER(_ArgCmp)]
        lib.seccomp_attr_set.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_uint32]
        lib.seccomp_export_bpf.argtypes = [ctypes.c_void_p, ctypes.c_int]
        self.lib = lib

    def number(self, name: str) -> int | None:
        number = self.lib.seccomp_syscall_resolve_name(name.encode())
        return number if number >= 0 else None

    def compile(self, *, allow_processes: bool) -> bytes:
        lib = self.lib
        ctx = lib.seccomp_init(_SCMP_ACT_ALLOW)
        if not ctx:
            raise OSError("libseccomp could not start a filter")
        try:
            _check(-1 if lib.seccomp_attr_set(ctx, _SCMP_FLTATR_ACT_BADARCH,
                                              _SCMP_ACT_KILL_PROCESS) else 0, "seccomp_attr_set")
            lib.seccomp_attr_set(ctx, _SCMP_FLTATR_CTL_OPTIMIZE, _BINARY_TREE)  # older: linear

            def rule(action, name, *comparisons):
                number = self.number(name)
                if number is None:  # not a system call on this architecture
                    return
                array = (_ArgCmp * len(comparisons))(*comparisons) if comparisons else None
                if lib.seccomp_rule_add_array(ctx, action, number, len(comparisons), array):
                    raise OSError(f"libseccomp refused a rule for {name}")

            denied = DENIED_SYSCALLS + PAGE_CACHE_SYSCALLS + (
                () if allow_processes else NEW_PROCESS_SYSCALLS)
            for name in denied:
                rule(_RET_ERRNO | EPERM, name)
            for name in OWN_PROCESS_SYSCALLS:
                rule(_RET_ERRNO | EPERM, name, _ArgCmp(0, _SCMP_CMP_NE, 0, 0))
            for name, which in OWN_PRIORITY_SYSCALLS:  # either condition refuses it
                rule(_RET_ERRNO | EPERM, name, _ArgCmp(0, _SCMP_CMP_NE, which, 0))
                rule(_RET_ERRNO | EPERM, name, _ArgCmp(1, _SCMP_CMP_NE, 0, 0))
            for name, argument, value in PAGE_CACHE_ARGUMENTS:
                rule(_RET_ERRNO | EPERM, name,
                     _ArgCmp(argument, _SCMP_CMP_MASKED_EQ, 0xFFFFFFFF, value))
            for name, argument, flag in PAGE_CACHE_FLAGS:
                rule(_RET_ERRNO | EPERM, name, _ArgCmp(argument, _SCMP_CMP_MASKED_EQ, flag, flag))
            for mask, value in SHARED_FILE_MAPPINGS:
                for name in ("mmap", "mmap2"):
                    rule(_RET_ERRNO | EPERM, name, _ArgCmp(3, _SCMP_CMP_MASKED_EQ, mask, value))
            commands = SIGNAL_OWNER_COMMANDS + tuple(
                (name, command) for name in ("fcntl", "fcntl64") for command in FILE_LOCK_COMMANDS)
            for name, command in commands:  # the kernel reads 32 bits of it
                rule(_RET_ERRNO | EPERM, name,
                     _ArgCmp(1, _SCMP_CMP_MASKED_EQ, 0xFFFFFFFF, command))
            rule(_RET_ERRNO | ENOSYS, "clone3")  # its flags cannot be inspected: C libraries
            #                                       fall back to clone, whose flags can
            for flag in NAMESPACE_FLAGS:
                rule(_RET_ERRNO | EPERM, "clone", _ArgCmp(0, _SCMP_CMP_MASKED_EQ, flag, flag))
            if not allow_processes:  # threads only
                rule(_RET_ERRNO | EPERM, "clone",
                     _ArgCmp(0, _SCMP_CMP_MASKED_EQ, CLONE_THREAD, 0))
            memfd = os.memfd_create("seccomp")
            try:
                if lib.seccomp_export_bpf(ctx, memfd):
                    raise OSError("libseccomp could not export the filter")
                os.lseek(memfd, 0, os.SEEK_SET)
                chunks = []
                while chunk := os.read(memfd, 1 << 16):
                    chunks.append(chunk)
                return b"".join(chunks)
            finally:
                os.close(memfd)
        finally:
            lib.seccomp_release(ctx)


_AUDIT_ARCH = {"x86_64": 0xC000003E, "aarch64": 0xC00000B7, "riscv64": 0xC00000F3}


def _signal_filter(arch: int, numbers: dict[str, int], own_pid: int, *, children: bool) -> bytes:
    """A small hand-built BPF program for what the compiled filter cannot know in advance, the
    child's own PID: signals go only to itself and its own process group (kill 0, its PID,
    minus its PID; tgkill and the queued signals of SIGNAL_SYSCALLS on itself), or, when the
    problem allows processes, to any single process (Landlock scoping, where present, then
    keeps them inside the sandbox); OWN_READ_SYSCALLS name only itself (0 or its PID). On
    x86_64 it also kills a process making an x32 system call, which a deny-list does not
    recognise."""
    program: list = []

    def emit(code, jt=0, jf=0, k=0):
        program.append([code, jt, jf, k])

    ld, jeq, jge, ja, ret = 0x20, 0x15, 0x35, 0x05, 0x06
    low = 16 if sys.byteorder == "little" else 20  # the low 32 bits of args[0]
    emit(ld, k=4)                                   # A = arch
    emit(jeq, 0, "ret allow", arch)                 # another arch: the compiled filter kills
    emit(ld, k=0)                                   # A = system call number
    if arch == _AUDIT_ARCH["x86_64"]:
        emit(jge, "ret kill", 0, 0x40000000)
    by_pid, by_tgid = [0, own_pid, (-own_pid) & 0xFFFFFFFF], [own_pid]
    checks = {name: by_pid if target == "pid" else by_tgid
              for name, target in SIGNAL_SYSCALLS.items()}
    checks.update({name: [0, own_pid] for name in OWN_READ_SYSCALLS})
    for name in checks:
        if name in numbers:
            emit(jeq, f"check {name}", 0, numbers[name])
    emit(ja, k="ret allow")
    for name, allowed in checks.items():
        if name not in numbers:
            continue
        program.append(f"check {name}")
        emit(ld, k=low)
        for value in allowed:
            emit(jeq, "ret allow", 0, value)
        if children and name in SIGNAL_SYSCALLS:  # any positive PID
            emit(jge, "ret deny", "ret allow", 0x80000000)
        emit(ja, k="ret deny")
    for name, action in (("ret allow", _SCMP_ACT_ALLOW), ("ret deny", _RET_ERRNO | EPERM),
                         ("ret kill", _SCMP_ACT_KILL_PROCESS)):
        program.append(name)
        emit(ret, k=action)
    labels, index = {}, 0
    for item in program:
        if isinstance(item, str):
            labels[item] = index
        else:
            index += 1
    code, index = [], 0
    for item in program:
        if isinstance(item, str):
            continue
        op, jt, jf, k = item
        here = index + 1
        jt = labels[jt] - here if isinstance(jt, str) else jt
        jf = labels[jf] - here if isinstance(jf, str) else jf
        k = labels[k] - here if isinstance(k, str) else k
        code.append(struct.pack("=HBBI", op, jt, jf, k))
        index += 1
    return b"".join(code)


_PID_MARK = 0x7EADBEEF  # stands for the child's PID in the prepared signal filter


def _with_pid(program: bytes, pid: int) -> bytes:
    """The prepared signal filter for the process `pid`: each instruction comparing with the
    mark (or minus the mark) compares with `pid` (or minus `pid`) instead."""
    mark, minus = struct.pack("=I", _PID_MARK), struct.pack("=I", (-_PID_MARK) & 0xFFFFFFFF)
    code = bytearray(program)
    for at in range(4, len(code), 8):
        if code[at:at + 4] == mark:
            code[at:at + 4] = struct.pack("=I", pid)
        elif code[at:at + 4] == minus:
            code[at:at + 4] = struct.pack("=I", (-pid) & 0xFFFFFFFF)
    return bytes(code)


def _load_bpf(program: bytes) -> None:
    prog = _SockFprog(len(program) // 8, program)
    _check(_libc.prctl(PR_SET_SECCOMP, ctypes.c_ulong(SECCOMP_MODE_FILTER), ctypes.byref(prog),
                       ctypes.c_ulong(0), ctypes.c_ulong(0)), "seccomp")


# -- the Python installation ---------------------------------------------------------------

def python_roots() -> list[str]:
    """What a child may read: the Python installation (standard library, site-packages,
    NumPy) and the directories of the shared libraries this process has loaded."""
    import numpy
    paths = {sysconfig.get_paths()[k] for k in ("stdlib", "platstdlib", "purelib", "platlib")}
    paths.add(os.path.dirname(os.path.dirname(numpy.__file__)))
    try:
        with open("/proc/self/maps") as maps:
            for line in maps:
                name = line.rstrip("\n").split(None, 5)[5:]
                if name and name[0].startswith("/") and ".so" in os.path.basename(name[0]):
                    paths.add(os.path.dirname(name[0]))
    except OSError:
        pass
    real = sorted({os.path.realpath(p) for p in paths if os.path.isdir(p)})
    return [p for p in real if not any(p.startswith(q + os.sep) for q in real if q != p)]


def _within(path: str, roots) -> bool:
    return any(path == r or path.startswith(r.rstrip(os.sep) + os.sep) for r in roots)


# -- probing -------------------------------------------------------------------------------

def _in_fork(action) -> dict:
    """Run `action()` in a forked process; its dict result (or the error) comes back as JSON."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(read)
            try:
                result = action()
            except Exception as exc:  # a refusal by the kernel: reported, not raised
                result = {"error": f"{type(exc).__name__}: {exc}"}
            os.write(write, json.dumps(result).encode()[:60000])
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        data = pipe.read()
    os.waitpid(pid, 0)
    try:
        return json.loads(data) if data else {"error": "the probe died"}
    except ValueError:
        return {"error": "the probe answered garbage"}


@dataclass
class Features:
    """What the kernel and the container allow, found by trying each feature in a throwaway
    process: namespaces (user namespaces too when not root) with the zygote's file-system
    view, the Landlock ABI (0: none) and seccomp. `reasons` says why each one is missing."""
    root: bool
    namespaces: bool = False
    landlock: int = 0
    seccomp: bool = False
    reasons: dict[str, str] = field(default_factory=dict)


def _unshare_namespaces(root: bool) -> None:
    """Enter new mount, network and PID namespaces (and a user namespace unless root)."""
    uid, gid = os.geteuid(), os.getegid()
    flags = CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS
    _check(_libc.unshare(flags | (0 if root else CLONE_NEWUSER)), "unshare")
    if not root:
        for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"),
                           ("gid_map", f"{gid} {gid} 1")):
            with open(f"/proc/self/{name}", "w") as handle:
                handle.write(text)


def probe(base: str) -> Features:
    """Try namespaces with the zygote's file-system view, Landlock and seccomp, each in a
    throwaway process, and say what works here."""
    root = os.geteuid() == 0
    if not LINUX:
        why = f"{platform.system()} is not Linux: only the guard and resource limits apply"
        return Features(root, reasons={"platform": why})
    reasons = {}

    def namespaces():
        _unshare_namespaces(root)
        # the PID namespace applies to children: build the view in one, as the zygote will
        return _in_fork(lambda: (build_root(base, python_roots(), []), {"ok": True})[1])

    found = _in_fork(namespaces)
    if not found.get("ok"):
        reasons["namespaces"] = found.get("error", "unknown")
    abi = landlock_abi()
    if abi == 0:
        reasons["landlock"] = "this kernel has no Landlock (it needs Linux 5.13 with Landlock on)"
    try:
        _Seccomp()
    except OSError as exc:
        seccomp = False
        reasons["seccomp"] = f"libseccomp.so.2 could not be loaded ({exc})"
    else:
        def trial():
            _prctl(PR_SET_NO_NEW_PRIVS, 1)
            _load_bpf(_Seccomp().compile(allow_processes=True))
            return {"ok": True}
        outcome = _in_fork(trial)
        seccomp = bool(outcome.get("ok"))
        if not seccomp:
            reasons["seccomp"] = outcome.get("error", "unknown")
    if abi:
        def trial_landlock():
            _prctl(PR_SET_NO_NEW_PRIVS, 1)
            Landlock(abi).restrict([])
            return {"ok": True}
        outcome = _in_fork(trial_landlock)
        if not outcome.get("ok"):
            reasons["landlock"] = outcome.get("error", "unknown")
            abi = 0
    return Features(root, "namespaces" not in reasons, abi, seccomp, reasons)


# -- the zygote's namespaces and root ------------------------------------------------------

def enter_namespaces(root: bool) -> None:
    """Make the rest of this process run as PID 1 of new PID, mount, network, IPC and UTS
    namespaces (in a new user namespace when not root). The process that called this stays
    behind, waits for the new one and exits with its status: it never returns here. The new
    one dies with it, and when it (PID 1) dies the kernel kills every process it forked."""
    _unshare_namespaces(root)
    pid = os.fork()
    if pid == 0:
        _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        return
    os.closerange(3, 1 << 16)  # the control socket: EOF for the grader when PID 1 ends
    for number in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(number, signal.SIG_IGN)
    while True:
        try:
            _, status = os.waitpid(pid, 0)
            break
        except ChildProcessError:
            status = 0
            break
        except InterruptedError:
            continue
    os._exit(os.WEXITSTATUS(status) if os.WIFEXITED(status) else 1)


def _bind(source: str, target: str, flags: int) -> None:
    """Bind `source` at `target`, then make the bind read-only or otherwise restricted
    (keeping the flags the source mount already had, which a user namespace cannot clear)."""
    _mount(source, target, None, MS_BIND | MS_REC)
    have = os.statvfs(source).f_flag
    kept = (MS_RDONLY if have & os.ST_RDONLY else 0) | (MS_NOSUID if have & os.ST_NOSUID else 0) \
        | (MS_NODEV if have & os.ST_NODEV else 0) | (MS_NOEXEC if have & os.ST_NOEXEC else 0)
    _mount(None, target, None, MS_REMOUNT | MS_BIND | flags | kept)


def _makedirs(new_root: str, path: str) -> str:
    target = new_root + path
    os.makedirs(target, exist_ok=True)
    return target


def private_tmp(roots: list[str]) -> bool:
    """Whether each child can have its own /tmp (not when the Python installation is there)."""
    return not any(_within(r, [TMP]) for r in roots)


def build_root(base: str, roots: list[str], hide: list[str]) -> None:
    """Replace this mount namespace's root by a tmpfs holding only: the Python installation
    (read-only), a few devices, /proc of the PID namespace, and empty /work, /tmp and /dev/shm
    for each child to mount its own.
    Course directories inside the Python installation (`hide`) are covered by empty ones."""
    new_root = os.path.join(base, "root")
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    _mount("tmpfs", new_root, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=1m,nr_inodes=4096")
    for path in roots:
        _bind(path, _makedirs(new_root, path), MS_RDONLY | MS_NOSUID | MS_NODEV)
    for path in hide:
        if _within(path, roots) and os.path.isdir(path):
            _mount("tmpfs", new_root + path, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV,
                   "size=4k,mode=0")
    dev = _makedirs(new_root, "/dev")
    for name in DEVICES:
        open(os.path.join(dev, name), "w").close()
        _mount(f"/dev/{name}", os.path.join(dev, name), None, MS_BIND)
    for path in (WORK, "/dev/shm", "/proc", "/etc") + ((TMP,) if private_tmp(roots) else ()):
        _makedirs(new_root, path)
    if os.path.isfile("/etc/ld.so.cache"):  # lets not-yet-loaded libraries be found
        open(new_root + "/etc/ld.so.cache", "w").close()
        _bind("/etc/ld.so.cache", new_root + "/etc/ld.so.cache", MS_RDONLY | MS_NOSUID | MS_NODEV)
    _mount("proc", new_root + "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    number = _PIVOT_ROOT.get(platform.machine())
    if number is None:
        raise OSError(f"pivot_root is not known on {platform.machine()}")
    os.chdir(new_root)
    _check(_libc.syscall(number, b".", b"."), "pivot_root")
    _check(_libc.umount2(b".", MNT_DETACH), "umount old root")
    os.chdir("/")
    _mount(None, "/", None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)


# -- Landlock ------------------------------------------------------------------------------

class Landlock:
    """A Landlock ruleset for the given ABI: the listed paths only, no TCP, and (ABI >= 6) no
    signals or abstract unix sockets across the sandbox's boundary."""

    def __init__(self, abi: int):
        self.abi = abi
        self.fs = _FS_RIGHTS_BY_ABI.get(abi, (1 << 16) - 1)
        self.file_rights = FS_EXECUTE | FS_WRITE_FILE | FS_READ_FILE \
            | (self.fs & (FS_TRUNCATE | FS_IOCTL_DEV))

    def rules(self, read: list, write: list, devices: list) -> list[tuple[int, int]]:
        """(O_PATH descriptor, rights) for reading beneath `read`, everything but executing
        beneath `write`, and reading (or writing, when paired with True) the `devices`. The
        zygote opens the fixed ones once; a rule binds the file system object opened, so each
        child adds those for its own private directories."""
        reading = FS_READ_FILE | FS_READ_DIR
        writing = self.fs & ~(FS_EXECUTE | FS_MAKE_CHAR | FS_MAKE_BLOCK)
        device = FS_READ_FILE | FS_WRITE_FILE | (self.fs & (FS_TRUNCATE | FS_IOCTL_DEV))
        found = []
        for where, rights in [(p, reading) for p in read] + [(p, writing) for p in write] \
                + [(p, device if rw else FS_READ_FILE) for p, rw in devices]:
            fd = os.open(where, os.O_PATH | os.O_CLOEXEC)
            found.append((fd, rights if _is_dir(fd) else rights & self.file_rights))
        return found

    def restrict(self, rules: list[tuple[int, int]]) -> None:
        """Restrict this thread and its future children to `rules`, for good."""
        attr = _RulesetAttr(self.fs, NET_BIND_TCP | NET_CONNECT_TCP if self.abi >= 4 else 0,
                            SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL if self.abi >= 6 else 0)
        size = ctypes.sizeof(_RulesetAttr) if self.abi >= 6 else 16 if self.abi >= 4 else 8
        ruleset = _check(_libc.syscall(_LANDLOCK_CREATE_RULESET, ctypes.byref(attr),
                                       ctypes.c_size_t(size), ctypes.c_uint32(0)), "landlock")
        try:
            rule = _PathBeneath()
            for fd, rights in rules:
                rule.allowed_access, rule.parent_fd = rights, fd
                _check(_libc.syscall(_LANDLOCK_ADD_RULE, ruleset, 1, ctypes.byref(rule), 0),
                       "landlock_add_rule")
            _check(_libc.syscall(_LANDLOCK_RESTRICT_SELF, ruleset, 0), "landlock_restrict_self")
        finally:
            os.close(ruleset)


def _is_dir(fd: int) -> bool:
    return stat.S_ISDIR(os.fstat(fd).st_mode)


# -- what each child applies ---------------------------------------------------------------

def _drop_capabilities() -> None:
    """No capability left (in a user namespace the zygote's children start with all of them
    there). With no_new_privs, executing a program cannot give any back."""
    header = _CapHeader(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3
    data = (ctypes.c_uint32 * 6)()
    _check(_libc.capset(ctypes.byref(header), data), "capset")


def _count_own_tasks(most: int) -> None:
    """At most `most` processes and threads for this process and its descendants. The kernel
    counts a uid's tasks in each user namespace apart; without root, a child's uid is the
    grader's and the zygote's, so the child first enters a user namespace of its own (where it
    has no use for the capabilities it gets, dropped next). Where the kernel refuses one, the
    limit still holds, counting every process of the uid: the child then starts no thread or
    process at all, rather than as many as it likes."""
    _libc.unshare(CLONE_NEWUSER)
    resource.setrlimit(resource.RLIMIT_NPROC, (most, most))


class Confinement:
    """Built once in the zygote from the probed features; `apply` runs in each child."""

    def __init__(self, features: Features, *, roots: list[str], python_path: list[str],
                 mounts: bool, hide: list[str]):
        self.features, self.mounts = features, mounts
        self.roots, self.python_path = roots, python_path
        self.extra_reads = [p for p in ("/etc/ld.so.cache",) if os.path.isfile(p)]
        self.seccomp: dict[bool, bytes] = {}
        self.numbers: dict[str, int] = {}
        self.arch = _AUDIT_ARCH.get(platform.machine())
        if features.seccomp and self.arch is not None:
            compiler = _Seccomp()
            self.seccomp = {allow: compiler.compile(allow_processes=allow)
                            for allow in (False, True)}
            self.numbers = {name: compiler.number(name)
                            for name in (*SIGNAL_SYSCALLS, *OWN_READ_SYSCALLS)
                            if compiler.number(name) is not None}
        self.landlock = Landlock(features.landlock) if features.landlock else None
        self.hidden_inside = [p for p in hide if _within(p, roots)]
        self.private_tmp = mounts and private_tmp(roots)
        self.devices = [(f"/dev/{n}", rw) for n, rw in DEVICES.items()
                        if os.path.exists(f"/dev/{n}")]
        self.rules = self.landlock.rules(roots + self.extra_reads, [], self.devices) \
            if self.landlock else []
        self.signal_filters = {}  # by whether processes are allowed, for PID 0 (patched)
        if self.seccomp:
            self.signal_filters = {allow: _signal_filter(self.arch, self.numbers, _PID_MARK,
                                                         children=allow) for allow in (False, True)}

    def active(self) -> list[str]:
        """The mechanisms in force, in the order they are applied."""
        found = ["user namespace"] if self.mounts and not self.features.root else []
        if self.mounts:
            found += ["PID namespace", "mount namespace", "network namespace"]
            found += ["private /tmp"] if self.private_tmp else []
        if self.landlock:
            found.append(f"Landlock ABI {self.landlock.abi}")
        if self.seccomp:
            found.append("seccomp")
        found.append("no_new_privs")
        if self.features.root:
            found.append("per-child uid")
        return found

    def protections(self) -> dict[str, list[str]]:
        """Each protection and the mechanisms that enforce it (an empty list: it is off)."""
        root, mounts, seccomp = self.features.root, self.mounts, bool(self.seccomp)
        abi = self.landlock.abi if self.landlock else 0
        landlock = [f"Landlock ABI {abi}"] if abi else []
        scoped = [f"Landlock ABI {abi}"] if abi >= 6 else []
        by = {
            "reads": (["mount namespace"] if mounts else []) + landlock,
            "writes": (["mount namespace"] if mounts else []) + landlock
            + (["per-child uid"] if root and mounts else []),
            "network": (["network namespace"] if mounts else []) + (["seccomp"] if seccomp else [])
            + scoped,  # TCP from ABI 4, abstract unix sockets from ABI 6
            "processes": ["seccomp"] if seccomp else [],
            "signals": (["PID namespace"] if mounts else []) + (["seccomp"] if seccomp else [])
            + scoped + (["per-child uid"] if root else []),
            "ptrace": landlock + (["seccomp"] if seccomp else [])
            + (["per-child uid"] if root else []),
            "privileges": ["no_new_privs"] if LINUX else [],
            "leftovers": (["PID namespace", "mount namespace"] if mounts else
                          ["subreaper", "per-child uid"] if root and LINUX else []),
            "process-list": (["PID namespace"] if mounts else []) + landlock,
        }
        # Without a PID namespace and without root, a process that left the submission's group
        # (when processes are allowed) is found only by its parent: "leftovers" is off.
        if self.hidden_inside and not mounts:
            by["reads"] = []
        return by

    def apply(self, *, limits: dict, uid: int | None, gid: int | None, scratch: str | None,
              channel: int, tasks: int) -> str:
        """Confine this freshly forked child; returns its working directory (its own tmpfs
        with mounts, else `scratch`, a folder the grader made for it). After this, the child
        reads only the Python installation and its own files, writes only there and in its
        private /tmp, has no network, (with seccomp) starts no process, and runs at most
        `tasks` processes and threads: the caller bounds them under `uid`, this in a user
        namespace of the child's own when there is no `uid` (see _count_own_tasks)."""
        if not LINUX:  # the guard and the resource limits are all there is
            if uid is not None:
                os.setgroups([])
                os.setgid(gid)
                os.setuid(uid)
            return scratch
        _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if self.mounts:
            work = self._private_mounts(limits, uid, gid)
        else:
            work = scratch
        _prctl(PR_SET_NO_NEW_PRIVS, 1, "no_new_privs")
        if self.landlock:
            own = self.landlock.rules([], [WORK, "/dev/shm"] if self.mounts else [scratch], [])
            self.landlock.restrict(self.rules + own)
        if uid is not None:
            os.setgroups([])
            os.setgid(gid)
            os.setuid(uid)
        elif self.mounts:
            _count_own_tasks(tasks)
            _drop_capabilities()
        _prctl(PR_SET_DUMPABLE, 0, "dumpable")  # siblings cannot open its /proc entries
        if self.seccomp:
            allow = limits["processes"] > 0
            _load_bpf(self.seccomp[allow])
            _load_bpf(_with_pid(self.signal_filters[allow], os.getpid()))
        os.closerange(3, channel)
        os.closerange(channel + 1, 1 << 16)
        return work

    def _private_mounts(self, limits: dict, uid, gid) -> str:
        """Its own mount namespace: WORK (for its files) and /dev/shm (also its /tmp), two
        size-limited tmpfs that vanish with it."""
        _check(_libc.unshare(CLONE_NEWNS), "unshare mount namespace")
        owner = f",uid={uid},gid={gid}" if uid is not None else ""
        size = f"size={max(limits['file_bytes'], WORK_MIN_BYTES)},nr_inodes=4096"
        flags = MS_NOSUID | MS_NODEV | MS_NOEXEC
        _mount("tmpfs", WORK, "tmpfs", flags, f"mode=0700,{size}{owner}")
        _mount("tmpfs", "/dev/shm", "tmpfs", flags, f"mode=0700,{size}{owner}")
        if self.private_tmp:
            _mount("/dev/shm", TMP, None, MS_BIND)
        return WORK


def set_subreaper() -> bool:
    """Orphans of this process's descendants become its children (so it can kill them)."""
    return LINUX and _libc.prctl(PR_SET_CHILD_SUBREAPER, ctypes.c_ulong(1), 0, 0, 0) == 0


def set_undumpable() -> None:
    """Other processes of this user cannot open this process's /proc entries or trace it."""
    if LINUX:
        _prctl(PR_SET_DUMPABLE, 0, "dumpable")


def describe_gaps(protections: dict[str, list[str]], reasons: dict[str, str]) -> list[str]:
    """One sentence per protection that is off, with why (for the caller to print)."""
    why = "; ".join(f"{k}: {v}" for k, v in sorted(reasons.items())) or "not supported here"
    return [f"{name} ({PROTECTIONS[name]}) is OFF: {why}"
            for name, by in protections.items() if not by]

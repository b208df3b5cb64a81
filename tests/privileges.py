"""Running a command as an unprivileged user, for tests that must hold without root too.

As root, `unprivileged(argv)` gives a command line that runs `argv` under an unused uid: a
fresh process (this file, run as a script) enters a private mount namespace, covers each
directory on the way to the Python installation and the project that other users cannot
traverse (such as a 0700 /root holding pyenv) with a 0755 tmpfs that holds only the way on
(the original entries bound back), then drops to the uid and executes `argv`. Nothing outside
that process changes. When not root, the command is returned as it is.
"""
from __future__ import annotations

import ctypes
import os
import stat
import sys
from pathlib import Path

UID = GID = 61999  # no user has it; the tests check that no process of it is left
PROJECT = Path(__file__).resolve().parents[1]

_CLONE_NEWNS, _MS_BIND, _MS_REC, _MS_PRIVATE = 0x00020000, 4096, 16384, 1 << 18


def needed_paths() -> list[str]:
    """What the unprivileged process must reach: the interpreter, its installation, the
    project, and the temporary directory."""
    import tempfile
    paths = {sys.base_prefix, sys.prefix, os.path.realpath(sys.executable), str(PROJECT),
             tempfile.gettempdir()}
    return sorted(os.path.realpath(p) for p in paths)


def unprivileged(argv: list[str]) -> list[str]:
    """`argv` as a command that runs without privileges."""
    if os.geteuid() != 0:
        return list(argv)
    return [sys.executable, "-I", __file__, os.pathsep.join(needed_paths()), "--", *argv]


def _closed_ancestors(paths: list[str]) -> dict[str, set[str]]:
    """Each directory others cannot traverse on the way to `paths`, with the names of its
    entries that lead on."""
    found: dict[str, set[str]] = {}
    for path in paths:
        parts = Path(path).parts
        for depth in range(1, len(parts)):
            ancestor = os.path.join(*parts[:depth])
            if not os.stat(ancestor).st_mode & stat.S_IXOTH:
                found.setdefault(ancestor, set()).add(parts[depth])
    return found


def _mount(source, target, fstype, flags, data=None) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    enc = lambda s: None if s is None else os.fsencode(s)  # noqa: E731
    if libc.mount(enc(source), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data)):
        number = ctypes.get_errno()
        raise OSError(number, f"mount {target}: {os.strerror(number)}")


def _open_the_way(paths: list[str]) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(_CLONE_NEWNS):
        raise OSError(ctypes.get_errno(), "unshare")
    _mount(None, "/", None, _MS_REC | _MS_PRIVATE)
    for ancestor, names in sorted(_closed_ancestors(paths).items(), key=lambda i: len(i[0])):
        kept = {name: os.open(os.path.join(ancestor, name), os.O_PATH) for name in names}
        _mount("tmpfs", ancestor, "tmpfs", 0, "mode=0755,size=64k")
        for name, fd in kept.items():
            target = os.path.join(ancestor, name)
            if stat.S_ISDIR(os.fstat(fd).st_mode):
                os.mkdir(target)
            else:
                open(target, "w").close()
            _mount(f"/proc/self/fd/{fd}", target, None, _MS_BIND | _MS_REC)
            os.close(fd)


def main(args: list[str]) -> None:
    paths, separator, argv = args[0], args[1], args[2:]
    assert separator == "--" and argv
    _open_the_way(paths.split(os.pathsep))
    os.setgroups([])
    os.setgid(GID)
    os.setuid(UID)
    os.environ["HOME"] = "/tmp"
    os.execv(argv[0], argv)


if __name__ == "__main__":
    main(sys.argv[1:])

"""Unpacking a student's zip safely. Every member is checked before anything is written: no
path that leaves the destination (`..`, absolute paths, drive letters, backslashes), no links or
special files, no encrypted members, not too many files. While writing, the real decompressed
size is counted (never the size the archive claims) against a total limit and a compression
ratio limit, so a zip bomb stops early. macOS's `__MACOSX/`, `._*` and `.DS_Store` are skipped.
A refused archive leaves the destination empty and raises ArchiveError, whose message is
written for the student.
"""
from __future__ import annotations

import lzma
import os
import re
import shutil
import stat
import zipfile
import zlib
from pathlib import Path, PurePosixPath

MAX_BYTES = 20 * 2**20     # total decompressed size
MAX_FILES = 500
MAX_RATIO = 200            # decompressed size / compressed size, per member and in total
RATIO_FLOOR = 2**20        # members smaller than this are never refused for their ratio
CHUNK = 2**16
MAX_NAME = 255             # bytes of one part of a member's path (what file systems allow)
MAX_PATH = 1024            # bytes of a member's whole path


class ArchiveError(Exception):
    """A zip that is refused; the message says why, in words a student understands."""


def _skipped(parts: tuple[str, ...]) -> bool:
    return "__MACOSX" in parts or parts[-1] == ".DS_Store" or parts[-1].startswith("._")


def _member_path(info: zipfile.ZipInfo, archive: str) -> tuple[str, ...]:
    name = info.filename
    problem = None
    if "\\" in name:
        problem = "uses backslashes in its path"
    elif "\0" in name:
        problem = "has a NUL character in its name"
    elif name.startswith("/"):
        problem = "has an absolute path"
    elif re.match(r"[A-Za-z]:", name):
        problem = "names a drive"
    parts = tuple(p for p in PurePosixPath(name).parts if p not in ("", "."))
    if problem is None and ".." in parts:
        problem = "points outside the folder it is unpacked into (it contains '..')"
    if problem is None and not parts:
        problem = "has an empty name"
    if problem is None and any(len(part.encode("utf-8", "surrogatepass")) > MAX_NAME
                               for part in parts):
        problem = f"has a name longer than {MAX_NAME} bytes, more than file systems allow"
    if problem is None and len(name.encode("utf-8", "surrogatepass")) > MAX_PATH:
        problem = f"has a path longer than {MAX_PATH} bytes (folders nested too deeply)"
    if problem:
        raise ArchiveError(f"Your zip file {archive} was not unpacked: the entry {_shown(name)!r} "
                           f"{problem}. Zip your files again from their folder, with your "
                           "system's own compress tool.")
    return parts


def _check_type(info: zipfile.ZipInfo, archive: str) -> None:
    mode = info.external_attr >> 16
    kind = stat.S_IFMT(mode)
    if info.flag_bits & 0x1:
        raise ArchiveError(f"Your zip file {archive} was not unpacked: {info.filename!r} is "
                           "password-protected. Submit a zip without a password.")
    if stat.S_ISLNK(mode):
        raise ArchiveError(f"Your zip file {archive} was not unpacked: {info.filename!r} is a "
                           "symbolic link, and links are not accepted. Put the file itself in "
                           "the zip.")
    if kind and not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        raise ArchiveError(f"Your zip file {archive} was not unpacked: {info.filename!r} is "
                           "not a regular file (a device, pipe or socket). Submit only your "
                           "files.")


def _size(n: int) -> str:
    return f"{n / 2**20:.1f} MB" if n >= 2**20 else f"{n / 2**10:.0f} KB"


def unpack(zip_path, dest, *, max_bytes: int = MAX_BYTES, max_files: int = MAX_FILES,
           max_ratio: float = MAX_RATIO) -> list[Path]:
    """Unpack `zip_path` into `dest` (created if missing, and which must be empty); returns
    the files written, in archive order. Raises ArchiveError, leaving `dest` empty, when the
    archive is unreadable or breaks a rule."""
    zip_path, dest = Path(zip_path), Path(dest)
    archive = zip_path.name
    dest.mkdir(parents=True, exist_ok=True)
    if any(dest.iterdir()):
        raise ValueError(f"{dest} must be empty to unpack {zip_path} into it")
    done = False
    try:
        with zipfile.ZipFile(zip_path) as zf:
            written = _unpack(zf, archive, dest, max_bytes, max_files, max_ratio)
        done = True
        return written
    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
        raise ArchiveError(f"Your file {archive} is not a valid zip file, or it is damaged "
                           f"({exc}). Create it again with your system's compress tool."
                           ) from None
    except NotImplementedError as exc:
        raise ArchiveError(f"Your zip file {archive} uses a compression method that cannot be "
                           f"read ({exc}). Create it again with your system's compress tool."
                           ) from None
    except UnicodeDecodeError:  # a name marked as UTF-8 that is not
        raise ArchiveError(f"Your zip file {archive} was not unpacked: the name of one of its "
                           "entries is not valid text. Rename the file, then zip your files "
                           "again with your system's own compress tool.") from None
    finally:
        if not done:
            _empty(dest)


def _shown(name: str) -> str:
    """A member's name as a sentence quotes it: a long one shortened, its start and end kept."""
    return name if len(name) <= 100 else f"{name[:60]}...{name[-30:]}"


def _read(source, archive: str, name: str) -> bytes:
    """The next chunk of a member: its data that cannot be decompressed is the archive's
    damage (bzip2 and LZMA say so with errors of their own; a bad checksum or deflate data are
    said by `unpack`)."""
    try:
        return source.read(CHUNK)
    except (OSError, lzma.LZMAError) as exc:
        raise ArchiveError(f"Your zip file {archive} is damaged: the entry {_shown(name)!r} "
                           f"cannot be read ({exc}). Create it again with your system's "
                           "compress tool.") from None


def _empty(dest: Path) -> None:
    for child in dest.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()


def _unpack(zf: zipfile.ZipFile, archive: str, dest: Path, max_bytes: int, max_files: int,
            max_ratio: float) -> list[Path]:
    plan, seen = [], set()
    if len(zf.infolist()) > 10 * max_files:
        raise ArchiveError(f"Your zip file {archive} was not unpacked: it holds "
                           f"{len(zf.infolist())} entries, far more than the {max_files} files "
                           "allowed. Submit only the files the assignment asks for.")
    for info in zf.infolist():
        parts = _member_path(info, archive)
        if _skipped(parts):
            continue
        _check_type(info, archive)
        key = "/".join(parts)
        if key in seen and not info.is_dir():
            raise ArchiveError(f"Your zip file {archive} was not unpacked: it holds {key!r} "
                               "twice. Zip your files again.")
        seen.add(key)
        plan.append((info, parts))
    files = [(info, parts) for info, parts in plan if not info.is_dir()]
    if len(files) > max_files:
        raise ArchiveError(f"Your zip file {archive} was not unpacked: it holds {len(files)} "
                           f"files, more than the {max_files} allowed. Submit only the files "
                           "the assignment asks for.")
    too_big = (f"Your zip file {archive} was not unpacked: its contents are larger than the "
               f"{_size(max_bytes)} allowed. Submit only the files the assignment asks for "
               "(no data sets or environments).")
    if sum(info.file_size for info, _ in files) > max_bytes:
        raise ArchiveError(too_big)
    bomb = (f"Your zip file {archive} was not unpacked: it expands far more than ordinary "
            f"files do (over {max_ratio:g} times), as a zip bomb does. Submit only your own "
            "files.")
    root = dest.resolve()
    written, total, compressed = [], 0, 0
    for info, parts in plan:
        target = root.joinpath(*parts)
        if root not in target.parents:
            raise ArchiveError(f"Your zip file {archive} was not unpacked: the entry "
                               f"{info.filename!r} points outside its folder.")
        try:
            if info.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError):
            raise ArchiveError(f"Your zip file {archive} was not unpacked: the entry "
                               f"{info.filename!r} is both a file and a folder. Zip your files "
                               "again.") from None
        if target.parent.resolve() != target.parent or target.parent.is_symlink():
            raise ArchiveError(f"Your zip file {archive} was not unpacked: the entry "
                               f"{info.filename!r} points outside its folder.")
        compressed += info.compress_size
        size = 0
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
        try:
            fd = os.open(target, flags, 0o644)
        except (FileExistsError, IsADirectoryError):  # a folder of that name came first, or a
            # file whose name differs only in case, where the file system does not tell them apart
            clash = "is both a file and a folder" if target.is_dir() else \
                "has the name of another of its entries but for upper and lower case"
            raise ArchiveError(f"Your zip file {archive} was not unpacked: the entry "
                               f"{info.filename!r} {clash}. Zip your files again.") from None
        with zf.open(info) as source, os.fdopen(fd, "wb") as out:
            while chunk := _read(source, archive, info.filename):
                size += len(chunk)
                total += len(chunk)
                if total > max_bytes:
                    raise ArchiveError(too_big)
                if size > RATIO_FLOOR and size > max_ratio * max(info.compress_size, 1):
                    raise ArchiveError(bomb)
                if total > RATIO_FLOOR and total > max_ratio * max(compressed, 1):
                    raise ArchiveError(bomb)
                out.write(chunk)
        written.append(target)
    return written

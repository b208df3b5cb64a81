"""Output folder names for students. A student's folder in the submissions folder may be named
anything a file system allows: bytes that are not UTF-8, characters that mean something in a
path or to a spreadsheet, names of the class's own output files, names that differ only in
case. `safe_folder_name` turns any of them into a name that is safe to create under the
output folder, readable, the same on every run, and distinct from the names given before.
"""
from __future__ import annotations

import hashlib
import os
import re
import unicodedata

from grader.batch.outputs import CLASS_FILES  # the class's own files: no student folder's name
# Names Windows refuses (outputs are often zipped and opened there).
_WINDOWS = frozenset({"con", "prn", "aux", "nul"} | {f"com{i}" for i in range(1, 10)}
                     | {f"lpt{i}" for i in range(1, 10)})
# Kept: Unicode letters and digits, "_", and the punctuation of people's names and addresses
# ("Lovelace, Ada", "O'Brien", "ada@uni.edu"), which every file system allows and a roster
# matches on; anything else (path separators, quotes, what Windows refuses) is replaced.
_UNSAFE = re.compile(r"[^\w.\- ,'@+()&]+")
MAX_BYTES = 120  # well under the 255 bytes a file name may take, room for a suffix
FALLBACK = "student"


def _text(name: str | bytes) -> str:
    """The name as text: undecodable bytes (also when they came as surrogate escapes) become
    U+FFFD, which the next step replaces."""
    raw = name if isinstance(name, bytes) else os.fsencode(name)
    return unicodedata.normalize("NFC", raw.decode("utf-8", errors="replace"))


def _cut(text: str, limit: int) -> str:
    while len(text.encode("utf-8")) > limit:
        text = text[:-1]
    return text


def _cleaned(text: str) -> str:
    text = _UNSAFE.sub("_", text)
    text = re.sub(r"\s+", " ", text).strip(" ._")
    text = text.lstrip("-+@")  # not an option to a command, not a formula to a spreadsheet
    text = _cut(text, MAX_BYTES).rstrip(" .")
    if not text or text.casefold() in CLASS_FILES or text.split(".")[0].casefold() in _WINDOWS:
        text = f"{FALLBACK}-{text}" if text else FALLBACK
    return text


def safe_folder_name(name: str | bytes, taken: set[str]) -> str:
    """A safe output folder name for the student folder `name`, not in `taken` (the names given
    so far, casefolded: compared without case, as case-insensitive file systems do); the
    result, casefolded, is added to `taken`.

    A name that is already safe is kept as it is. Any other is cleaned (letters, digits, spaces
    and `_ - . , ' @ + ( ) &` are kept; no path separator, no leading dot, dash, "+" or "@", no
    class file or device name, at most MAX_BYTES bytes) and given a short suffix derived from
    the original bytes, so that two different folders never share a name and a rerun gives the
    same one.
    """
    raw = name if isinstance(name, bytes) else os.fsencode(name)
    text = _text(name)
    cleaned = _cleaned(text)
    if cleaned != text or cleaned.casefold() in taken:
        cleaned = f"{cleaned}-{hashlib.sha256(raw).hexdigest()[:8]}"
    result, number = cleaned, 1
    while result.casefold() in taken:  # the same name twice, or a suffix already taken
        number += 1
        result = f"{cleaned}-{number}"
    taken.add(result.casefold())
    return result

"""Where a child that ran out of time was stuck. Each child has CPython's faulthandler write its
threads' stacks onto its channel on STUCK_SIGNAL (in C, from the signal handler: it works in a
loop that never returns to Python, such as a NumPy call on a huge array); when a call runs out
of time the grader has the zygote send that signal, reads what comes back for a moment, and
turns the frames of the student's own files (and notebook cells) into the lines of a traceback,
outermost first, the last one where the code was when it was stopped. What the child writes is
untrusted text, bounded before it is read (see grader.sandbox.host): a child that ignores the
signal or writes something else only loses its own feedback.
"""
from __future__ import annotations

import re
import signal

STUCK_SIGNAL = signal.SIGUSR1
MAX_BYTES = 64 << 10   # what the grader reads of a stuck child's stacks
WAIT = 0.25            # seconds it waits for them at most
QUIET = 0.02           # seconds without a byte after which they are taken as written
SHOWN = 6              # frames shown; of a deeper stack, the outermost two and innermost three
CODE_SHOWN = 300       # characters of a frame's line of code shown

# faulthandler's lines, the same on CPython 3.10 to 3.13:
#   Current thread 0x00007f... (most recent call first):
#     File "/.../optim.py", line 57 in running_average
_HEADER = re.compile(r"(Current thread|Thread) 0x[0-9a-fA-F]+ \(most recent call first\):"
                     r"|Stack \(most recent call first\):")
_FRAME = re.compile(r'  File "(.{1,1000})", line (\d{1,9}) in (.{1,200})')
# a line of `traceback_lines`, where a frame is named (a message's short form looks for it)
FRAME_LINE = re.compile(r"  (?! )(.+), line (\d+), in (.+)")


def _student_file(path: str, names: list[str]) -> str | None:
    """The name, in the submission, of the file a frame's path points to; None for a file
    that is not the student's (the Python installation, the course's drivers)."""
    for name in names:
        if path == name or path.endswith("/" + name):
            return name
    return None


def frames(text: str, names: list[str]) -> list[tuple[str, int, str]]:
    """The student's frames (file, line, function), outermost first, in the stack of the thread
    that took the signal if it has any, else of the first thread that has; `names` are the
    submission's file names (`rnn.py`, `cs231n/layers.py`) and the names its notebook cells'
    code runs under ("rnn.ipynb, cell 12")."""
    stacks: list[tuple[bool, list]] = []
    for line in text.splitlines():
        header = _HEADER.fullmatch(line)
        if header:
            stacks.append((header.group(1) == "Current thread", []))
            continue
        frame = _FRAME.fullmatch(line)
        if frame and stacks:
            name = _student_file(frame.group(1), names)
            if name is not None:
                stacks[-1][1].append((name, int(frame.group(2)), frame.group(3)))
    found = [stack for _, stack in sorted(stacks, key=lambda s: not s[0]) if stack]
    return found[0][::-1] if found else []  # faulthandler writes the innermost first


def elided(found: list) -> list:
    """The frames of a stack that a traceback shows: all of a short one; of a deep one (a
    recursion, whose first and last frames tell its story) the outermost two, None for those
    left out, and the innermost three."""
    return found if len(found) <= SHOWN else found[:2] + [None] + found[-3:]


def traceback_lines(shown: list) -> str:
    """Frames (file, line, function, code; outermost first; None for frames left out: see
    `elided`) as the lines of a traceback that feedback shows, under an exception (see
    grader.sandbox.child) or a timeout: each frame's place, then its line of code if known
    (its first CODE_SHOWN characters)."""
    lines = []
    for frame in shown:
        if frame is None:
            lines.append("  ...")
            continue
        name, number, function, code = frame
        lines.append(f"  {name}, line {number}, in {function}")
        if code:
            lines.append(f"    {code if len(code) <= CODE_SHOWN else code[:CODE_SHOWN] + '...'}")
    return "\n".join(lines)

"""What can go wrong with a submission, as exceptions whose message is written for the student
(what happened, in which file and line, and what to do). The sandbox creates them from what the
child reported or from how the child ended, and sets their structured fields (`phase`, `file`,
`fatal`) itself: the grader decides on those fields, never on a message's text, which the
student's code may have written. The grading core turns them into failed cases.
"""
from __future__ import annotations

import signal


class SubmissionError(Exception):
    """Base class: the submission, not the grader, failed. `str()` is the student message.
    `phase` is where it happened ("start", "import" or "call", None when not known), `file` the
    student file being imported or called, `fatal` whether the child that failed was stopped."""
    kind = "error"

    def __init__(self, message: str = "", *, phase: str | None = None, file: str | None = None,
                 fatal: bool = False):
        super().__init__(message)
        self.phase, self.file, self.fatal = phase, file, fatal


class SyntaxErrorInSubmission(SubmissionError):
    kind = "syntax"


class MissingFile(SubmissionError):
    kind = "missing_file"


class MissingFunction(SubmissionError):
    kind = "missing_function"


class ImportFailed(SubmissionError):
    kind = "import"


class CallRaised(SubmissionError):
    kind = "exception"


class SubmissionExited(SubmissionError):
    kind = "exit"


class Timeout(SubmissionError):
    kind = "timeout"


class MemoryLimit(SubmissionError):
    kind = "memory"


class Crashed(SubmissionError):
    kind = "crash"


class UnsupportedType(SubmissionError):
    kind = "unsupported"


class OutputTooLarge(SubmissionError):
    kind = "too_large"


class FilesTooLarge(SubmissionError):
    kind = "files_too_large"


class NotRun(SubmissionError):
    kind = "not_run"


# The exception a file the grader cannot read (a notebook that is not one) raises when it is
# imported: its message, a sentence for the student, is all the feedback shows.
UNREADABLE = "UnreadableFile"


def _with_traceback(message: str, where: str) -> str:
    return f"{message}\n{where}" if where else message


def _text(error: dict, key: str, limit: int) -> str:
    """A string field of the child's error dict, whatever the child sent, cut to `limit`."""
    value = error.get(key, "")
    value = value if isinstance(value, str) else ""
    return value if len(value) <= limit else value[:limit] + "..."


def from_child(error: dict, *, file: str, function: str, memory_mb: int) -> SubmissionError:
    """The exception for an error dict sent by the child (see grader.sandbox.child), for a call
    of `function` in the student's `file` (the grader's own names, never the child's). Every
    string the child sent is cut to a bounded length."""
    kind = error.get("kind")
    phase = "import" if error.get("phase") == "import" else "call"
    message, where = _text(error, "message", 2000), _text(error, "traceback", 4000)
    if kind == "syntax":
        text = _text(error, "text", 500).strip()
        line = error.get("line") if type(error.get("line")) is int else 0
        where = _text(error, "file", 200) or file
        cell = ".ipynb, cell " in where  # a notebook: only that cell's functions fail
        return SyntaxErrorInSubmission(
            f"{where}, line {line}: syntax error: {message}" + (f"\n    {text}" if text else "")
            + ("\nFix the syntax error: Python cannot run this cell, so the functions it "
               "defines did not run (the other cells were graded)." if cell else
               "\nFix the syntax error: Python cannot load this file, so none of its functions "
               "ran."), phase="import", file=file)
    if kind == "missing_file":
        return MissingFile(f"{file} is not in your submission: the functions of this assignment "
                           f"are expected in a file named {file}.", phase="import", file=file)
    if kind == "missing":
        missing = _text(error, "function", 200) or function
        defined = error.get("defined")
        defined = [name[:100] for name in defined[:200] if isinstance(name, str)] \
            if isinstance(defined, list) else None
        if defined == []:
            return MissingFunction(f"{file} has no function named {missing}: it defines no "
                                   "function at all. Is it empty, or not the file you meant to "
                                   "hand in?", phase="call", file=file)
        import difflib
        near = difflib.get_close_matches(missing, defined or [], n=1, cutoff=0.6)
        return MissingFunction(f"{file} has no function named {missing}"
                               + (f"; it has {near[0]}: is that it, misspelled?" if near else ".")
                               + " Check the spelling: the name must match the assignment "
                               "exactly.", phase="call", file=file)
    if kind == "unsupported":
        return UnsupportedType(
            f"{function} returned {_text(error, 'message', 500)}, which the grader does not "
            "accept. Return NumPy arrays (of numbers or bools), Python numbers, bools, strings, "
            "or lists, tuples and dicts (with string keys) of those.", phase="call", file=file)
    during = f"during import of {file}" if phase == "import" else f"in {function}"
    if kind == "exit":
        return SubmissionExited(_with_traceback(
            f"the submission exited {during} (SystemExit, {message}). Do not call sys.exit() "
            "or exit() in a submission.", where), phase=phase, file=file, fatal=True)
    if kind == "memory":
        return MemoryLimit(_with_traceback(
            f"the submission ran out of memory {during}: the limit is {memory_mb} MB.", where),
            phase=phase, file=file, fatal=True)
    name = _text(error, "type", 200) or "Exception"
    exc = f"{name}: {message}" if message else name
    if phase == "import" and name == UNREADABLE:  # the grader's own sentence, nothing more
        return ImportFailed(message, phase=phase, file=file)
    if phase == "import":
        return ImportFailed(_with_traceback(f"{file} raised {exc} while being imported.", where),
                            phase=phase, file=file)
    return CallRaised(_with_traceback(f"{function} raised {exc}", where), phase=phase, file=file)


def signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"

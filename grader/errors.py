"""What can go wrong with a submission, as exceptions whose message is written for the student
(what happened, in which file and line, and what to do). The sandbox creates them from what the
child reported or from how the child ended; the grading core turns them into failed cases.
"""
from __future__ import annotations

import signal


class SubmissionError(Exception):
    """Base class: the submission, not the grader, failed. `str()` is the student message."""
    kind = "error"


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


class NotRun(SubmissionError):
    kind = "not_run"


def _with_traceback(message: str, where: str) -> str:
    return f"{message}\n{where}" if where else message


def from_child(error: dict, function: str, memory_mb: int) -> SubmissionError:
    """The exception for an error dict sent by the child (see grader.sandbox.child)."""
    kind, file = error.get("kind"), error.get("file", "")
    message, where = error.get("message", ""), error.get("traceback", "")
    if kind == "syntax":
        text = error.get("text", "").strip()
        return SyntaxErrorInSubmission(
            f"{error.get('file')}, line {error.get('line')}: syntax error: {message}"
            + (f"\n    {text}" if text else "")
            + "\nFix the syntax error: Python cannot load this file, so none of its functions ran.")
    if kind == "missing_file":
        return MissingFile(f"{file} is not in your submission: the functions of this assignment "
                           f"are expected in a file named {file}.")
    if kind == "missing":
        return MissingFunction(f"{file} has no function named {error.get('function')}. Check the "
                               "spelling: the name must match the assignment exactly.")
    if kind == "unsupported":
        return UnsupportedType(
            f"{function} returned {message}, which the grader does not accept. Return NumPy "
            "arrays (of numbers or bools), Python numbers, bools, strings, or lists, tuples "
            "and dicts (with string keys) of those.")
    during = f"during import of {file}" if error.get("phase") == "import" else f"in {function}"
    if kind == "exit":
        return SubmissionExited(_with_traceback(
            f"the submission exited {during} (SystemExit, {message}). Do not call sys.exit() "
            "or exit() in a submission.", where))
    if kind == "memory":
        return MemoryLimit(_with_traceback(
            f"the submission ran out of memory {during}: the limit is {memory_mb} MB.", where))
    exc = f"{error.get('type', 'Exception')}: {message}" if message else error.get("type", "")
    if error.get("phase") == "import":
        return ImportFailed(_with_traceback(f"{file} raised {exc} while being imported.", where))
    return CallRaised(_with_traceback(f"{function} raised {exc}", where))


def signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"

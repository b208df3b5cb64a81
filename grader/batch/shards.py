"""The mark a shard of a class leaves in its output folder once it is done
(`.grader-shard-K-of-N.json`: its place in the split and the course it was graded on), and what
merging checks of the marks: one split of one course, every shard there. A shard removes its
mark when it starts, so one that stopped, or is still running, has none.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable

from grader.batch.outputs import atomic_write

MARK = ".grader-shard-{k}-of-{n}.json"  # never a student's folder: theirs start with no dot


def _path(out: Path, shard: tuple[int, int]) -> Path:
    k, n = shard
    return Path(out) / MARK.format(k=k + 1, n=n)


def unmark(out: Path, shard: tuple[int, int]) -> None:
    """The shard (k from 0, of n) is being graded into `out`: not done."""
    _path(out, shard).unlink(missing_ok=True)


def mark_done(out: Path, shard: tuple[int, int], course: str) -> None:
    """The shard (k from 0, of n) is done in `out`, graded on the course of fingerprint
    `course`."""
    k, n = shard
    atomic_write(_path(out, shard), json.dumps({"shard": k + 1, "of": n, "course": course}))


def _marks(folders: Iterable[Path]) -> list[dict]:
    found = []
    for folder in folders:
        for path in sorted(Path(folder).glob(MARK.format(k="*", n="*"))):
            try:
                mark = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            if isinstance(mark, dict) and {type(mark.get(k)) for k in ("shard", "of")} == {int}:
                found.append(mark)
    return found


def incomplete(folders: Iterable[Path]) -> str | None:
    """Why the output folders of shards do not make a whole class (None when they do, or when
    none of them is a shard's)."""
    marks = _marks(folders)
    if not marks:
        return None
    splits = sorted({mark["of"] for mark in marks})
    if len(splits) > 1:
        return ("the folders hold shards of different splits of the class (into "
                + " and ".join(map(str, splits)) + ")")
    if len({mark.get("course") for mark in marks}) > 1:
        return "the folders hold shards graded on different courses or assignments"
    count = splits[0]
    done = {mark["shard"] for mark in marks}
    missing = [f"{k}/{count}" for k in range(1, count + 1) if k not in done]
    if missing:
        return (f"shard{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
                f"{'are' if len(missing) > 1 else 'is'} missing: not given, or not done (a "
                "shard's folder holds its mark, " + MARK.format(k="K", n="N") + ", once it is)")
    return None

"""The cores a class is graded on: how many grading processes `grader grade` starts unless told
(one per core this process may run on, which `taskset` or a container's CPU set may make fewer
than the machine has), the core each process keeps to, and how it is scheduled there. A
grading process and the sandboxed child it drives take turns (the child answers calls, the
process judges the answers), so when there are at least as many processes as cores, process k
and everything it starts (its zygote and every child) stay on core k mod n, as batch work:
the two share the core's caches, where the scheduler would otherwise move them between cores,
and an answer written by the child wakes the process without interrupting the child, which
goes on to its next call; the process then reads the answers that have arrived together, where
it was switched to for each one (on the bench, a third of the context switches, and 4-6% less
time for each of the two changes). With fewer processes than cores none is pinned: a process
and its child then have cores enough to overlap.
"""
from __future__ import annotations

import os


def usable() -> list[int]:
    """The cores this process may run on, in order (numbered 0..n-1 where the system does
    not say which)."""
    try:
        return sorted(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux: no affinity to read
        return list(range(os.cpu_count() or 1))


def core_of(part: tuple[int, int], cores: list[int]) -> int | None:
    """The core that process `part` = (k, n) of n keeps to among `cores`, or None when it is
    not pinned (fewer processes than cores, or a single core: nothing to choose)."""
    k, n = part
    if len(cores) < 2 or n < len(cores):
        return None
    return cores[k % len(cores)]


def keep_to_core(part: tuple[int, int]) -> None:
    """Keep this process, and every process it starts from now on, to its core (see
    `core_of`), as batch work; left as it is when it has no core of its own, or the system
    refuses (only slower)."""
    core = core_of(part, usable())
    if core is None or not hasattr(os, "sched_setaffinity"):
        return
    try:
        os.sched_setaffinity(0, {core})
    except OSError:  # a core taken away meanwhile: the scheduler places the process
        return
    if hasattr(os, "SCHED_BATCH"):
        try:
            os.sched_setscheduler(0, os.SCHED_BATCH, os.sched_param(0))
        except OSError:
            pass

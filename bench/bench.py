"""Benchmark of batch grading on the example course.

Builds N synthetic students from the example submissions (the honest ones; the infinite loop
and the bomb measure time limits, not throughput), grades them with `grader grade` (sandbox on),
and prints submissions per second, ms per submission and the grader's peak memory, next to a
baseline measured in the same run: one `pytest --submission` process per student, on a sample.

    python bench/bench.py --students 1000     # measures 100, 500 and 1000 students
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "submissions_example"
SLOW = {"infinite_loop", "bomb", "memory_hog", "printer"}


def build_class(root: Path, count: int) -> None:
    sources = sorted(p for p in EXAMPLES.iterdir() if p.is_dir() and p.name not in SLOW)
    for index in range(count):
        source = sources[index % len(sources)]
        target = root / f"student{index:04d}"
        shutil.copytree(source, target)
        for file in target.glob("*.py"):  # every submission differs from the others
            with open(file, "a") as stream:
                stream.write(f"\n# student {index}\n")


def timed(command: list[str]) -> tuple[float, float]:
    """Wall seconds and peak resident memory (MB) of a command and the processes it waited."""
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) not in (0, 1):
        raise SystemExit(f"{' '.join(command)} failed:\n{process.stderr.read().decode()}")
    return seconds, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=500)
    parser.add_argument("--jobs", type=int, default=os.cpu_count())
    parser.add_argument("--baseline", type=int, default=20, help="students in the baseline sample")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="grader-bench-") as temp:
        temp = Path(temp)
        build_class(temp / "class", args.students)
        rows = []
        for count in sorted({min(100, args.students), min(500, args.students), args.students}):
            subset = temp / f"class{count}"
            subset.mkdir()
            for student in sorted((temp / "class").iterdir())[:count]:
                shutil.copytree(student, subset / student.name)
            seconds, memory = timed([sys.executable, "-m", "grader.cli", "grade", str(subset),
                                     "--out", str(temp / f"out{count}"), "-q",
                                     "--jobs", str(args.jobs)])
            rows.append((f"grader grade, {count} students, {args.jobs} jobs", count, seconds,
                         memory))
        sample = sorted((temp / "class").iterdir())[:args.baseline]
        total, peak = 0.0, 0.0
        for student in sample:
            seconds, memory = timed([sys.executable, "-m", "pytest", "-q", "-p",
                                     "no:cacheprovider", "--submission", str(student),
                                     "--results", str(temp / "baseline" / f"{student.name}.json")])
            total += seconds
            peak = max(peak, memory)
        rows.append((f"baseline: pytest --submission per student ({len(sample)} sampled)",
                     len(sample), total, peak))
    print(f"{'run':<58}{'subm/s':>8}{'ms/subm':>10}{'peak MB':>10}")
    for name, count, seconds, memory in rows:
        print(f"{name:<58}{count / seconds:>8.1f}{1000 * seconds / count:>10.1f}{memory:>10.0f}")
    at_500 = next((r for r in rows if r[1] == 500), rows[-2])
    batch_ms = 1000 * at_500[2] / at_500[1]
    baseline_ms = 1000 * rows[-1][2] / rows[-1][1]
    print(f"speed-up of grader grade ({at_500[1]} students) over the baseline: "
          f"{baseline_ms / batch_ms:.1f}x")


if __name__ == "__main__":
    main()
